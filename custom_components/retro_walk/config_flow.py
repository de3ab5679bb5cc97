"""Config flow for Retro Walk: a station, its treadmill and its walkers.

A station is a config entry; each walker is a subentry of it, added, edited
and removed in the station's page.
"""

from __future__ import annotations

import math
from typing import Any
from uuid import uuid4

import probatio as vol

from homeassistant.components import webhook
from homeassistant.components.bluetooth import (
    BluetoothServiceInfoBleak,
    async_discovered_service_info,
)
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
    SubentryFlowResult,
)
from homeassistant.const import (
    CONF_ADDRESS,
    CONF_NAME,
    CONF_WEBHOOK_ID,
    UnitOfLength,
    UnitOfMass,
    UnitOfSpeed,
    UnitOfTime,
)
from homeassistant.core import callback
from homeassistant.helpers import selector
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import slugify

from .const import (
    CONF_ACK_TIMEOUT,
    CONF_BODY_MASS,
    CONF_CLEARANCE_SENSOR,
    CONF_COOL_DOWN_MINUTES,
    CONF_ESCALATION_TARGETS,
    CONF_EXPERIENCE,
    CONF_EXPORT_FIT,
    CONF_FALL_SENSOR,
    CONF_FORWARD_SPEED,
    CONF_MIN_CLEARANCE,
    CONF_MQTT_TOPIC,
    CONF_PARTNER_TARGETS,
    CONF_PAUSE_CONTROL,
    CONF_PERSON,
    CONF_PRESENCE_SENSORS,
    CONF_REMOTE_CONTROL,
    CONF_SPEED_CONTROL,
    CONF_SPEED_SENSOR,
    CONF_STOP_CONFIRM_SECONDS,
    CONF_STOP_CONTROL,
    CONF_STREAM_TIMEOUT,
    CONF_TREADMILL_TYPE,
    CONF_WALKER_NAME,
    CONF_WALKER_TARGETS,
    CONF_WARM_UP_MINUTES,
    CONF_WEBHOOK_ENABLED,
    CONF_WEBHOOK_LOCAL_ONLY,
    CONF_WEEKLY_GOAL,
    DEFAULT_ACK_TIMEOUT,
    DEFAULT_BODY_MASS,
    DEFAULT_COOL_DOWN_MINUTES,
    DEFAULT_EXPORT_FIT,
    DEFAULT_FORWARD_SPEED,
    DEFAULT_MIN_CLEARANCE,
    DEFAULT_STOP_CONFIRM_SECONDS,
    DEFAULT_STREAM_TIMEOUT,
    DEFAULT_WARM_UP_MINUTES,
    DEFAULT_WEEKLY_GOAL,
    DOMAIN,
    MIGRATED_WALKER_NAME,
    SUBENTRY_WALKER,
    TreadmillType,
)
from .coordinator import RetroWalkConfigEntry
from .session import MIN_SPEED_KMH, SPEED_CAP_KMH, Experience
from .treadmill.ftms_protocol import is_treadmill
from .treadmill.linked import (
    CONTROL_DOMAINS,
    SPEED_CONTROL_DOMAINS,
    SPEED_SENSOR_DOMAINS,
)
from .walker import name_key

WALKER_FIELDS = (CONF_BODY_MASS, CONF_EXPERIENCE, CONF_WEEKLY_GOAL)

LINKED_FIELDS = (
    CONF_SPEED_SENSOR,
    CONF_SPEED_CONTROL,
    CONF_PAUSE_CONTROL,
    CONF_STOP_CONTROL,
)


def _station_slug(name: str) -> str | None:
    """Return the unique id of a station name, None without a letter or digit.

    Home Assistant's slugify turns a name without letters or digits into
    "unknown" rather than "", so check the name itself first.
    """
    if not any(char.isalnum() for char in name):
        return None
    return slugify(name)


def _number(low: float, high: float, step: float, unit: str) -> selector.NumberSelector:
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=low,
            max=high,
            step=step,
            unit_of_measurement=unit,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def _walker_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    """A walker profile's body mass, experience and weekly goal."""
    return {
        vol.Required(
            CONF_BODY_MASS, default=defaults.get(CONF_BODY_MASS, DEFAULT_BODY_MASS)
        ): _number(20, 300, 0.1, UnitOfMass.KILOGRAMS),
        vol.Required(
            CONF_EXPERIENCE,
            default=defaults.get(CONF_EXPERIENCE, Experience.BEGINNER.value),
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[level.value for level in Experience],
                translation_key=CONF_EXPERIENCE,
                mode=selector.SelectSelectorMode.LIST,
            )
        ),
        vol.Required(
            CONF_WEEKLY_GOAL,
            default=defaults.get(CONF_WEEKLY_GOAL, DEFAULT_WEEKLY_GOAL),
        ): _number(5, 600, 5, UnitOfTime.MINUTES),
    }


def _treadmill_schema(
    defaults: dict[str, Any], treadmill_types: list[TreadmillType]
) -> dict[vol.Marker, Any]:
    """The treadmill type among ``treadmill_types``."""
    return {
        vol.Required(
            CONF_TREADMILL_TYPE,
            default=defaults.get(CONF_TREADMILL_TYPE, TreadmillType.NONE.value),
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=[kind.value for kind in treadmill_types],
                translation_key=CONF_TREADMILL_TYPE,
                mode=selector.SelectSelectorMode.LIST,
            )
        )
    }


def _first_walker_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    """The station's first walker, named in the station's own form."""
    return {
        vol.Required(
            CONF_WALKER_NAME,
            default=defaults.get(CONF_WALKER_NAME, MIGRATED_WALKER_NAME),
        ): str,
        **_walker_schema(defaults),
    }


def _first_walker(user_input: dict[str, Any]) -> ConfigSubentryData:
    """The walker subentry a new station is created with."""
    return ConfigSubentryData(
        data={key: user_input[key] for key in WALKER_FIELDS},
        subentry_type=SUBENTRY_WALKER,
        title=" ".join(str(user_input[CONF_WALKER_NAME]).split()),
        unique_id=None,
    )


def _station_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """What of a station form is the station's (the rest is its first walker)."""
    return {
        key: value
        for key, value in user_input.items()
        if key not in (*WALKER_FIELDS, CONF_WALKER_NAME)
    }


# Walker names are said to Assist and typed in service calls: keep them short.
MAX_WALKER_NAME = 100


def _walker_name_error(name: str) -> str | None:
    """A form error for a walker name without a letter or digit, or too long."""
    if not any(char.isalnum() for char in name):
        return "walker_name_required"
    return "walker_name_too_long" if len(name) > MAX_WALKER_NAME else None


def _remote_control(default: bool) -> dict[vol.Marker, Any]:  # noqa: FBT001
    return {
        vol.Required(CONF_REMOTE_CONTROL, default=default): selector.BooleanSelector()
    }


def _is_treadmill(info: BluetoothServiceInfoBleak) -> bool:
    """Whether an FTMS advertisement comes from a treadmill."""
    return is_treadmill(info.service_data)


def _entity(domains: list[str]) -> selector.EntitySelector:
    return selector.EntitySelector(selector.EntitySelectorConfig(domain=domains))


def _linked_schema(defaults: dict[str, Any]) -> vol.Schema:
    def optional(key: str) -> vol.Optional:
        if defaults.get(key):
            return vol.Optional(key, description={"suggested_value": defaults[key]})
        return vol.Optional(key)

    def required(key: str) -> vol.Required:
        if defaults.get(key):
            return vol.Required(key, default=defaults[key])
        return vol.Required(key)

    return vol.Schema(
        {
            required(CONF_SPEED_SENSOR): _entity(SPEED_SENSOR_DOMAINS),
            required(CONF_PAUSE_CONTROL): _entity(CONTROL_DOMAINS),
            optional(CONF_SPEED_CONTROL): _entity(SPEED_CONTROL_DOMAINS),
            optional(CONF_STOP_CONTROL): _entity(CONTROL_DOMAINS),
        }
    )


class RetroWalkConfigFlow(ConfigFlow, domain=DOMAIN):
    """Adds a station."""

    VERSION = 1
    # 1.2: stations without a Bluetooth machine have a random unique id
    # instead of their slugged name; 1.3: walkers are subentries
    # (async_migrate_entry).
    MINOR_VERSION = 3

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._data: dict[str, Any] = {}
        self._walker: ConfigSubentryData | None = None
        self._discovery: BluetoothServiceInfoBleak | None = None

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls,
        config_entry: ConfigEntry,  # noqa: ARG003 - Home Assistant's signature
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """A station's walkers are its subentries."""
        return {SUBENTRY_WALKER: WalkerSubentryFlow}

    def _create_station(
        self, data: dict[str, Any], options: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_create_entry(
            title=data[CONF_NAME],
            data=data,
            options=options or {},
            subentries=[] if self._walker is None else [self._walker],
        )

    def _name_taken(self, slug: str) -> bool:
        """Whether another station has this name (FTMS stations are keyed by address)."""
        return any(
            slug
            in (
                _station_slug(entry.title),
                _station_slug(entry.data.get(CONF_NAME, "")),
            )
            for entry in self._async_current_entries(include_ignore=False)
        )

    def _create_ftms_entry(
        self, data: dict[str, Any], address: str, *, remote_control: bool
    ) -> ConfigFlowResult:
        return self._create_station(
            {**data, CONF_TREADMILL_TYPE: TreadmillType.FTMS, CONF_ADDRESS: address},
            {CONF_REMOTE_CONTROL: remote_control},
        )

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: RetroWalkConfigEntry,
    ) -> RetroWalkOptionsFlow:
        """The options flow for the tunables."""
        return RetroWalkOptionsFlow()

    def _validate_linked(
        self, user_input: dict[str, Any], entry_id: str | None
    ) -> dict[str, str]:
        errors: dict[str, str] = {}
        for key in LINKED_FIELDS:
            entity_id = user_input.get(key)
            if entity_id and self.hass.states.get(entity_id) is None:
                errors[key] = "entity_not_found"
        speed_sensor = user_input.get(CONF_SPEED_SENSOR)
        for entry in self._async_current_entries(include_ignore=False):
            if (
                entry.entry_id != entry_id
                and entry.data.get(CONF_SPEED_SENSOR) == speed_sensor
            ):
                errors[CONF_SPEED_SENSOR] = "treadmill_already_linked"
        return errors

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name the station, its treadmill and its first walker."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_NAME]).strip()
            if (slug := _station_slug(name)) is None:
                errors[CONF_NAME] = "name_required"
            elif self._name_taken(slug):
                errors[CONF_NAME] = "name_taken"
            elif walker_error := _walker_name_error(user_input[CONF_WALKER_NAME]):
                errors[CONF_WALKER_NAME] = walker_error
            elif not_finite := _non_finite(user_input):
                errors.update(not_finite)
            else:
                if user_input[CONF_TREADMILL_TYPE] != TreadmillType.FTMS:
                    # A station without a Bluetooth machine has nothing of its
                    # own to be keyed by: a random id that survives renaming.
                    # (FTMS stations are keyed by the machine's address.)
                    await self.async_set_unique_id(uuid4().hex)
                self._data = {**_station_data(user_input), CONF_NAME: name}
                self._walker = _first_walker(user_input)
                if user_input[CONF_TREADMILL_TYPE] == TreadmillType.LINKED:
                    return await self.async_step_linked()
                if user_input[CONF_TREADMILL_TYPE] == TreadmillType.FTMS:
                    return await self.async_step_ftms()
                return self._create_station(self._data)
        defaults = user_input or {}
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, "")): str,
                **_treadmill_schema(defaults, list(TreadmillType)),
                **_first_walker_schema(defaults),
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_linked(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the entities of a treadmill already in Home Assistant."""
        reconfiguring = self.source == SOURCE_RECONFIGURE
        entry = self._get_reconfigure_entry() if reconfiguring else None
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._validate_linked(
                user_input, entry.entry_id if entry else None
            )
            if not errors:
                data = {
                    key: value
                    for key, value in self._data.items()
                    if key not in LINKED_FIELDS
                }
                data.update({key: value for key, value in user_input.items() if value})
                if entry is not None:
                    return self.async_update_reload_and_abort(entry, data=data)
                return self._create_station(data)
        defaults = user_input or (dict(entry.data) if entry else {})
        return self.async_show_form(
            step_id="linked", data_schema=_linked_schema(defaults), errors=errors
        )

    async def async_step_ftms(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose one of the FTMS treadmills Home Assistant can hear."""
        if user_input is not None:
            address = user_input[CONF_ADDRESS]
            await self.async_set_unique_id(address, raise_on_progress=False)
            self._abort_if_unique_id_configured()
            return self._create_ftms_entry(
                self._data, address, remote_control=user_input[CONF_REMOTE_CONTROL]
            )
        configured = self._async_current_ids(include_ignore=False)
        treadmills = {
            info.address: f"{info.name} ({info.address})"
            for info in async_discovered_service_info(self.hass, connectable=True)
            if info.address not in configured and _is_treadmill(info)
        }
        if not treadmills:
            return self.async_abort(reason="no_devices_found")
        schema = vol.Schema(
            {
                vol.Required(CONF_ADDRESS): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(value=address, label=label)
                            for address, label in treadmills.items()
                        ],
                        mode=selector.SelectSelectorMode.LIST,
                    )
                ),
                **_remote_control(default=False),
            }
        )
        return self.async_show_form(step_id="ftms", data_schema=schema)

    async def async_step_bluetooth(
        self, discovery_info: BluetoothServiceInfoBleak
    ) -> ConfigFlowResult:
        """An FTMS machine was discovered over Bluetooth."""
        await self.async_set_unique_id(discovery_info.address)
        self._abort_if_unique_id_configured()
        if not _is_treadmill(discovery_info):
            return self.async_abort(reason="not_a_treadmill")
        self._discovery = discovery_info
        self.context["title_placeholders"] = {"name": discovery_info.name}
        return await self.async_step_bluetooth_confirm()

    async def async_step_bluetooth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Make the discovered treadmill a station: name it, describe the walker."""
        discovery = self._discovery
        assert discovery is not None  # noqa: S101 - set by the bluetooth step
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_NAME]).strip()
            if (slug := _station_slug(name)) is None:
                errors[CONF_NAME] = "name_required"
            elif self._name_taken(slug):
                errors[CONF_NAME] = "name_taken"
            elif walker_error := _walker_name_error(user_input[CONF_WALKER_NAME]):
                errors[CONF_WALKER_NAME] = walker_error
            elif not_finite := _non_finite(user_input):
                errors.update(not_finite)
            else:
                self._walker = _first_walker(user_input)
                data = {
                    key: value
                    for key, value in _station_data(user_input).items()
                    if key != CONF_REMOTE_CONTROL
                }
                return self._create_ftms_entry(
                    {**data, CONF_NAME: name},
                    discovery.address,
                    remote_control=user_input[CONF_REMOTE_CONTROL],
                )
        defaults = user_input or {CONF_NAME: discovery.name}
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME, default=defaults[CONF_NAME]): str,
                **_first_walker_schema(defaults),
                **_remote_control(default=defaults.get(CONF_REMOTE_CONTROL, False)),
            }
        )
        return self.async_show_form(
            step_id="bluetooth_confirm",
            data_schema=schema,
            errors=errors,
            description_placeholders={"name": discovery.name},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the treadmill of a station (walkers are its subentries)."""
        entry = self._get_reconfigure_entry()
        # An FTMS station keeps its machine (its unique id is the machine's
        # address); other stations can switch between the other kinds.
        if entry.data[CONF_TREADMILL_TYPE] == TreadmillType.FTMS:
            return self.async_abort(reason="reconfigure_ftms")
        if user_input is not None:
            self._data = {**entry.data, **user_input}
            if user_input.get(CONF_TREADMILL_TYPE) == TreadmillType.LINKED:
                return await self.async_step_linked()
            data = {
                key: value
                for key, value in self._data.items()
                if key not in LINKED_FIELDS
            }
            return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                _treadmill_schema(
                    dict(entry.data),
                    [TreadmillType.NONE, TreadmillType.SIMULATED, TreadmillType.LINKED],
                )
            ),
            description_placeholders={"station": entry.title},
        )


def _notify_targets(hass: Any) -> list[str]:
    """The notify actions Home Assistant offers (mobile apps and others)."""
    return sorted(
        f"notify.{service}"
        for service in hass.services.async_services_for_domain("notify")
        if service not in ("send_message", "persistent_notification")
    )


def _safety_schema(hass: Any, options: dict[str, Any]) -> vol.Schema:
    def suggested(key: str, default: Any = None) -> dict[str, Any]:
        value = options.get(key, default)
        return {} if value in (None, "", []) else {"suggested_value": value}

    targets = selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=_notify_targets(hass),
            multiple=True,
            custom_value=True,
            mode=selector.SelectSelectorMode.DROPDOWN,
        )
    )
    return vol.Schema(
        {
            vol.Required(
                CONF_WEBHOOK_ENABLED, default=options.get(CONF_WEBHOOK_ENABLED, False)
            ): selector.BooleanSelector(),
            vol.Required(
                CONF_WEBHOOK_LOCAL_ONLY,
                default=options.get(CONF_WEBHOOK_LOCAL_ONLY, True),
            ): selector.BooleanSelector(),
            vol.Optional(
                CONF_MQTT_TOPIC, description=suggested(CONF_MQTT_TOPIC)
            ): selector.TextSelector(),
            vol.Required(
                CONF_STREAM_TIMEOUT,
                default=options.get(CONF_STREAM_TIMEOUT, DEFAULT_STREAM_TIMEOUT),
            ): _number(0.5, 5, 0.1, UnitOfTime.SECONDS),
            vol.Optional(
                CONF_PRESENCE_SENSORS, description=suggested(CONF_PRESENCE_SENSORS)
            ): selector.EntitySelector(
                selector.EntitySelectorConfig(
                    domain="binary_sensor",
                    device_class=["occupancy", "presence", "motion"],
                    multiple=True,
                )
            ),
            vol.Optional(
                CONF_FALL_SENSOR, description=suggested(CONF_FALL_SENSOR)
            ): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="binary_sensor")
            ),
            vol.Optional(
                CONF_CLEARANCE_SENSOR, description=suggested(CONF_CLEARANCE_SENSOR)
            ): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="sensor", device_class="distance")
            ),
            vol.Required(
                CONF_MIN_CLEARANCE,
                default=options.get(CONF_MIN_CLEARANCE, DEFAULT_MIN_CLEARANCE),
            ): _number(5, 200, 1, UnitOfLength.CENTIMETERS),
            vol.Optional(
                CONF_PARTNER_TARGETS, description=suggested(CONF_PARTNER_TARGETS)
            ): targets,
            vol.Optional(
                CONF_ESCALATION_TARGETS, description=suggested(CONF_ESCALATION_TARGETS)
            ): targets,
            vol.Optional(
                CONF_WALKER_TARGETS, description=suggested(CONF_WALKER_TARGETS)
            ): targets,
            vol.Required(
                CONF_ACK_TIMEOUT,
                default=options.get(CONF_ACK_TIMEOUT, DEFAULT_ACK_TIMEOUT),
            ): _number(10, 900, 5, UnitOfTime.SECONDS),
        }
    )


class RetroWalkOptionsFlow(OptionsFlowWithReload):
    """Tunables of a station's sessions, its motion input and its partners.

    Home Assistant reloads the station when the options changed.
    """

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._options: dict[str, Any] = {}

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Warm-up, cool-down and forward speed."""
        errors = _non_finite(user_input or {})
        if user_input is not None and not errors:
            self._options = {**self.config_entry.options, **user_input}
            return await self.async_step_safety()
        options = self.config_entry.options
        # Each walker's session keeps to the walker's own cap too.
        cap = max(SPEED_CAP_KMH.values())
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_WARM_UP_MINUTES,
                    default=options.get(CONF_WARM_UP_MINUTES, DEFAULT_WARM_UP_MINUTES),
                ): _number(0, 15, 0.5, UnitOfTime.MINUTES),
                vol.Required(
                    CONF_COOL_DOWN_MINUTES,
                    default=options.get(
                        CONF_COOL_DOWN_MINUTES, DEFAULT_COOL_DOWN_MINUTES
                    ),
                ): _number(0, 15, 0.5, UnitOfTime.MINUTES),
                vol.Required(
                    CONF_FORWARD_SPEED,
                    default=min(
                        options.get(CONF_FORWARD_SPEED, DEFAULT_FORWARD_SPEED), cap
                    ),
                ): _number(MIN_SPEED_KMH, cap, 0.1, UnitOfSpeed.KILOMETERS_PER_HOUR),
            }
        )
        schema = schema.extend(
            {
                vol.Required(
                    CONF_EXPORT_FIT,
                    default=options.get(CONF_EXPORT_FIT, DEFAULT_EXPORT_FIT),
                ): selector.BooleanSelector()
            }
        )
        kind = TreadmillType(self.config_entry.data[CONF_TREADMILL_TYPE])
        if kind is not TreadmillType.NONE:
            schema = schema.extend(
                {
                    vol.Required(
                        CONF_STOP_CONFIRM_SECONDS,
                        default=options.get(
                            CONF_STOP_CONFIRM_SECONDS, DEFAULT_STOP_CONFIRM_SECONDS
                        ),
                    ): _number(1, 30, 0.5, UnitOfTime.SECONDS)
                }
            )
        if kind is TreadmillType.FTMS:
            schema = schema.extend(
                _remote_control(default=options.get(CONF_REMOTE_CONTROL, False))
            )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)

    async def async_step_safety(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Motion input (Sensor Logger), sensors at the belt and the partners."""
        errors: dict[str, str] = {}
        if user_input is not None:
            topic = str(user_input.get(CONF_MQTT_TOPIC, "")).strip()
            errors = _non_finite(user_input)
            if topic and not _valid_topic(topic):
                errors[CONF_MQTT_TOPIC] = "invalid_topic"
            if not errors:
                options = {
                    key: value
                    for key, value in {**self._options, **user_input}.items()
                    if key not in SAFETY_OPTIONAL or key in user_input
                }
                options[CONF_MQTT_TOPIC] = topic
                if not options[CONF_MQTT_TOPIC]:
                    del options[CONF_MQTT_TOPIC]
                enabling = options[
                    CONF_WEBHOOK_ENABLED
                ] and not self.config_entry.options.get(CONF_WEBHOOK_ENABLED)
                if enabling or (
                    options[CONF_WEBHOOK_ENABLED] and CONF_WEBHOOK_ID not in options
                ):
                    # A new secret each time the webhook is switched on; it is
                    # shown once, on the next step.
                    options[CONF_WEBHOOK_ID] = webhook.async_generate_id()
                    self._options = options
                    return await self.async_step_webhook()
                if not options[CONF_WEBHOOK_ENABLED]:
                    options.pop(CONF_WEBHOOK_ID, None)
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="safety",
            data_schema=_safety_schema(
                self.hass, {**self._options, **(user_input or {})}
            ),
            errors=errors,
        )

    async def async_step_webhook(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the new webhook address once."""
        if user_input is not None:
            return self.async_create_entry(data=self._options)
        webhook_id = self._options[CONF_WEBHOOK_ID]
        try:
            url = webhook.async_generate_url(
                self.hass,
                webhook_id,
                allow_external=not self._options.get(CONF_WEBHOOK_LOCAL_ONLY, True),
            )
        except NoURLAvailableError:
            url = webhook.async_generate_path(webhook_id)
        return self.async_show_form(
            step_id="webhook", description_placeholders={"webhook_url": url}
        )


# Optional safety fields: a field left empty in the form is removed.
SAFETY_OPTIONAL = (
    CONF_MQTT_TOPIC,
    CONF_PRESENCE_SENSORS,
    CONF_FALL_SENSOR,
    CONF_CLEARANCE_SENSOR,
    CONF_PARTNER_TARGETS,
    CONF_ESCALATION_TARGETS,
    CONF_WALKER_TARGETS,
)


MAX_TOPIC_BYTES = 65535


def _non_finite(user_input: dict[str, Any]) -> dict[str, str]:
    """A form error for each number that is NaN or infinite.

    Number selectors coerce the string "nan" to a float NaN, which then
    passes their range checks (every comparison with NaN is false).
    """
    return {
        key: "not_finite"
        for key, value in user_input.items()
        if isinstance(value, float) and not math.isfinite(value)
    }


def _valid_topic(topic: str) -> bool:
    """Whether a topic can be subscribed to (MQTT wildcard rules, size, no NUL)."""
    if len(topic.encode()) > MAX_TOPIC_BYTES or "\0" in topic:
        return False
    levels = topic.split("/")
    return all(
        ("#" not in level or (level == "#" and index == len(levels) - 1))
        and ("+" not in level or level == "+")
        for index, level in enumerate(levels)
    )


class WalkerSubentryFlow(ConfigSubentryFlow):
    """Adds or edits one walker profile of a station."""

    def _validate(
        self, user_input: dict[str, Any], subentry_id: str | None
    ) -> tuple[str, dict[str, str]]:
        name = " ".join(str(user_input[CONF_NAME]).split())
        errors = _non_finite(user_input)
        if error := _walker_name_error(name):
            errors[CONF_NAME] = error
        elif any(
            subentry.subentry_type == SUBENTRY_WALKER
            and subentry.subentry_id != subentry_id
            and name_key(subentry.title) == name_key(name)
            for subentry in self._get_entry().subentries.values()
        ):
            errors[CONF_NAME] = "walker_name_taken"
        if (person := user_input.get(CONF_PERSON)) and any(
            subentry.subentry_type == SUBENTRY_WALKER
            and subentry.subentry_id != subentry_id
            and subentry.data.get(CONF_PERSON) == person
            for subentry in self._get_entry().subentries.values()
        ):
            # "My retro walk" must name one walker.
            errors[CONF_PERSON] = "person_taken"
        return name, errors

    def _schema(self, defaults: dict[str, Any]) -> vol.Schema:
        person = defaults.get(CONF_PERSON)
        return vol.Schema(
            {
                vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, "")): str,
                **_walker_schema(defaults),
                vol.Optional(
                    CONF_PERSON,
                    description={"suggested_value": person} if person else None,
                ): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain="person")
                ),
            }
        )

    @staticmethod
    def _data(user_input: dict[str, Any]) -> dict[str, Any]:
        data = {key: user_input[key] for key in WALKER_FIELDS}
        if person := user_input.get(CONF_PERSON):
            data[CONF_PERSON] = person
        return data

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a walker: name, body mass, experience, weekly goal, person."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name, errors = self._validate(user_input, None)
            if not errors:
                return self.async_create_entry(title=name, data=self._data(user_input))
        return self.async_show_form(
            step_id="user",
            data_schema=self._schema(user_input or {}),
            errors=errors,
            description_placeholders={"station": self._get_entry().title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit a walker (the station keeps running: no reload)."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            name, errors = self._validate(user_input, subentry.subentry_id)
            if not errors:
                return self.async_update_and_abort(
                    entry, subentry, title=name, data=self._data(user_input)
                )
        defaults = user_input or {**subentry.data, CONF_NAME: subentry.title}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._schema(defaults),
            errors=errors,
            description_placeholders={"walker": subentry.title},
        )
