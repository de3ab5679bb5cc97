"""The Retro Walk integration: retro walking sessions as Home Assistant entities."""

from __future__ import annotations

from types import MappingProxyType
from uuid import uuid4

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_ADDRESS, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BODY_MASS,
    CONF_EXPERIENCE,
    CONF_PAUSE_CONTROL,
    CONF_REMOTE_CONTROL,
    CONF_SPEED_CONTROL,
    CONF_SPEED_SENSOR,
    CONF_STOP_CONTROL,
    CONF_TREADMILL_TYPE,
    CONF_WEEKLY_GOAL,
    DOMAIN,
    MIGRATED_WALKER_NAME,
    SUBENTRY_WALKER,
    WALKER_SENSOR_KEYS,
    TreadmillType,
)
from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator, RetroWalkData
from .entity import station_device_info
from .frontend import async_register_card
from .history import HistoryStore
from .safety.runner import SafetyRunner
from .services import async_setup_services
from .treadmill import NoTreadmill, Treadmill
from .treadmill.ftms import FtmsTreadmill
from .treadmill.linked import LinkedTreadmill
from .treadmill.simulated import SimulatedTreadmill

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services once for every station."""
    async_setup_services(hass)
    await async_register_card(hass)
    return True


def _treadmill(hass: HomeAssistant, entry: RetroWalkConfigEntry) -> Treadmill:
    data = entry.data
    kind = TreadmillType(data[CONF_TREADMILL_TYPE])
    if kind is TreadmillType.SIMULATED:
        return SimulatedTreadmill(lambda: dt_util.utcnow().timestamp())
    if kind is TreadmillType.FTMS:
        return FtmsTreadmill(
            hass,
            data[CONF_ADDRESS],
            remote_control=bool(entry.options.get(CONF_REMOTE_CONTROL, False)),
            name=entry.title,
        )
    if kind is TreadmillType.LINKED:
        return LinkedTreadmill(
            hass,
            speed_sensor=data[CONF_SPEED_SENSOR],
            speed_control=data.get(CONF_SPEED_CONTROL),
            pause_control=data[CONF_PAUSE_CONTROL],
            stop_control=data.get(CONF_STOP_CONTROL),
        )
    return NoTreadmill()


async def async_setup_entry(hass: HomeAssistant, entry: RetroWalkConfigEntry) -> bool:
    """Set up a station from a config entry."""
    if (
        entry.data[CONF_TREADMILL_TYPE] == TreadmillType.FTMS
        and "bluetooth" not in hass.config.components
    ):
        # Only a soft dependency (the other stations need no Bluetooth):
        # wait for Home Assistant's Bluetooth integration to be set up.
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="bluetooth_not_loaded"
        )
    treadmill = _treadmill(hass, entry)
    history = HistoryStore(hass, entry.entry_id, entry.title)
    coordinator = RetroWalkCoordinator(hass, entry, treadmill, history)
    await coordinator.async_setup()
    await coordinator.async_config_entry_first_refresh()
    safety = SafetyRunner(hass, entry, coordinator)
    entry.runtime_data = RetroWalkData(
        coordinator=coordinator,
        treadmill=treadmill,
        history=history,
        safety=safety,
    )
    await safety.async_start()
    entry.async_on_unload(safety.async_stop)
    # The station's device first: its walkers' devices hang off it.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **station_device_info(coordinator)
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: RetroWalkConfigEntry) -> bool:
    """Bring a station's entry up to the current version.

    1.1 → 1.2: a station without a Bluetooth machine was keyed by its slugged
    name, which goes stale when it is renamed; it gets a random unique id.
    Entities and history are keyed by the entry id, so nothing else changes.

    1.2 → 1.3: the station's one walker (body mass, experience, weekly goal
    in the entry's data) becomes its first walker profile, a subentry. Its
    progress sensors move to the profile, keeping their entity ids and so
    their long-term statistics; its sessions and settings follow when the
    station loads (``RetroWalkCoordinator._adopt_unowned``).
    """
    if entry.version > 1:
        # Written by a newer Retro Walk: refuse rather than guess.
        return False
    if entry.minor_version < 2:  # noqa: PLR2004 - the version being migrated to
        unique_id = entry.unique_id
        if entry.data.get(CONF_TREADMILL_TYPE) != TreadmillType.FTMS:
            unique_id = uuid4().hex
        hass.config_entries.async_update_entry(
            entry, unique_id=unique_id, minor_version=2
        )
    if entry.minor_version < 3:  # noqa: PLR2004 - the version being migrated to
        _migrate_walker(hass, entry)
    return True


WALKER_FIELDS = (CONF_BODY_MASS, CONF_EXPERIENCE, CONF_WEEKLY_GOAL)


def _migrate_walker(hass: HomeAssistant, entry: RetroWalkConfigEntry) -> None:
    """Make the walker in a 1.2 entry's data its first walker profile."""
    walker = ConfigSubentry(
        data=MappingProxyType(
            {key: entry.data[key] for key in WALKER_FIELDS if key in entry.data}
        ),
        subentry_type=SUBENTRY_WALKER,
        title=MIGRATED_WALKER_NAME,
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(entry, walker)
    registry = er.async_get(hass)
    for key in WALKER_SENSOR_KEYS:
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.entry_id}_{key}"
        )
        if entity_id is not None:
            registry.async_update_entity(
                entity_id,
                new_unique_id=f"{entry.entry_id}_{walker.subentry_id}_{key}",
                config_subentry_id=walker.subentry_id,
            )
    hass.config_entries.async_update_entry(
        entry,
        data={
            key: value for key, value in entry.data.items() if key not in WALKER_FIELDS
        },
        minor_version=3,
    )


async def async_unload_entry(hass: HomeAssistant, entry: RetroWalkConfigEntry) -> bool:
    """Unload a station; the coordinator saves an active session on shutdown."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: RetroWalkConfigEntry) -> None:
    """Delete the station's stored history when the station is removed."""
    await HistoryStore(hass, entry.entry_id, entry.title).async_remove()
