"""Config flow, reconfigure flow and options flow of Retro Walk."""

from __future__ import annotations

import re
import struct
from typing import TYPE_CHECKING, Any
from unittest.mock import AsyncMock, patch

from bleak.uuids import normalize_uuid_str
from bluetooth_data_tools import monotonic_time_coarse
from habluetooth import BluetoothServiceInfoBleak
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.retro_walk.const import (
    CONF_BODY_MASS,
    CONF_COOL_DOWN_MINUTES,
    CONF_EXPERIENCE,
    CONF_FORWARD_SPEED,
    CONF_PAUSE_CONTROL,
    CONF_REMOTE_CONTROL,
    CONF_SPEED_CONTROL,
    CONF_SPEED_SENSOR,
    CONF_STOP_CONFIRM_SECONDS,
    CONF_STOP_CONTROL,
    CONF_TREADMILL_TYPE,
    CONF_WALKER_NAME,
    CONF_WARM_UP_MINUTES,
    CONF_WEEKLY_GOAL,
    DEFAULT_BODY_MASS,
    DEFAULT_COOL_DOWN_MINUTES,
    DEFAULT_FORWARD_SPEED,
    DEFAULT_STOP_CONFIRM_SECONDS,
    DEFAULT_WARM_UP_MINUTES,
    DEFAULT_WEEKLY_GOAL,
    DOMAIN,
    MIGRATED_WALKER_NAME,
    SUBENTRY_WALKER,
)
from homeassistant.config_entries import (
    SOURCE_BLUETOOTH,
    SOURCE_IGNORE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import CONF_ADDRESS, CONF_NAME
from homeassistant.data_entry_flow import FlowResult, FlowResultType, InvalidData

from .bluetooth import inject_bluetooth_service_info
from .common import (
    LINKED_DATA,
    STATION_DATA,
    STATION_OPTIONS,
    WALKER_NAME,
    form_defaults,
    station_entry,
    walker_subentry,
)
from .ftms_fake import DEFAULT_ADDRESS, DEFAULT_NAME, FakeTreadmill

if TYPE_CHECKING:
    from collections.abc import Generator

    from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import NoURLAvailableError

LINKED_FIELDS = (
    CONF_SPEED_SENSOR,
    CONF_SPEED_CONTROL,
    CONF_PAUSE_CONTROL,
    CONF_STOP_CONTROL,
)
# What the user step asks for a linked station; the entities come next.
LINKED_USER_INPUT: dict[str, Any] = {
    key: value for key, value in LINKED_DATA.items() if key not in LINKED_FIELDS
}
LINKED_INPUT: dict[str, Any] = {key: LINKED_DATA[key] for key in LINKED_FIELDS}
# The walker fields of a station form; the rest of it is the station's.
WALKER_FIELDS = (CONF_BODY_MASS, CONF_EXPERIENCE, CONF_WEEKLY_GOAL)
# A first walker other than the form's defaults, as the station forms ask it.
WALKER_INPUT: dict[str, Any] = {
    CONF_WALKER_NAME: "Luis",
    CONF_BODY_MASS: 82.5,
    CONF_EXPERIENCE: "intermediate",
    CONF_WEEKLY_GOAL: 90,
}
OTHER_SENSOR = "sensor.other_belt_speed"

# The FTMS service and the Fitness Machine Type bits of its service data
# (FTMS 3.1.2); FakeTreadmill.service_info() advertises a treadmill (bit 0).
FTMS_UUID = normalize_uuid_str("1826")
INDOOR_BIKE = 1 << 5
ROWER = 1 << 4
# A second treadmill, the one of an existing FTMS station, and other machines.
OTHER_ADDRESS = "C0:FF:EE:00:00:02"
OTHER_NAME = "Second Treadmill"
BASEMENT_ADDRESS = "C0:FF:EE:00:00:03"
BIKE_ADDRESS = "C0:FF:EE:00:00:0B"
HEART_RATE_ADDRESS = "C0:FF:EE:00:00:0C"
# What the bluetooth_confirm step asks besides the name.
CONFIRM_INPUT: dict[str, Any] = {**WALKER_INPUT, CONF_REMOTE_CONTROL: True}
# An FTMS station made from the user step, keyed by its machine's address.
BASEMENT_DATA: dict[str, Any] = {
    **STATION_DATA,
    CONF_NAME: "Basement",
    CONF_TREADMILL_TYPE: "ftms",
    CONF_ADDRESS: BASEMENT_ADDRESS,
}


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep created and reloaded entries from really setting up."""
    with patch(
        "custom_components.retro_walk.async_setup_entry", return_value=True
    ) as mock:
        yield mock


def _suggested(result: FlowResult) -> dict[str, Any]:
    """The suggested value of every field of a form that has one."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def _selector(result: FlowResult, field: str) -> Any:
    schema = result["data_schema"].schema
    (key,) = (key for key in schema if str(key) == field)
    return schema[key]


def _selector_max(result: FlowResult, field: str) -> float:
    return _selector(result, field).config["max"]


def _fields(result: FlowResult) -> list[str]:
    return [str(key) for key in result["data_schema"].schema]


def _service_info(
    address: str,
    name: str,
    service_data: dict[str, bytes],
    service_uuids: list[str],
) -> BluetoothServiceInfoBleak:
    """An advertisement built as FakeTreadmill.service_info() builds its own."""
    template = FakeTreadmill(address, name).service_info()
    return BluetoothServiceInfoBleak(
        name=name,
        address=address,
        rssi=template.rssi,
        manufacturer_data={},
        service_data=service_data,
        service_uuids=service_uuids,
        source=template.source,
        device=template.device,
        advertisement=template.advertisement._replace(
            service_data=service_data, service_uuids=service_uuids
        ),
        connectable=True,
        time=monotonic_time_coarse(),
        tx_power=None,
    )


def _ftms_info(
    address: str, name: str, machine_type: int, flags: int = 0x01
) -> BluetoothServiceInfoBleak:
    """An FTMS machine: flags byte, then the machine type as a u16 (FTMS 3.1)."""
    return _service_info(
        address,
        name,
        {FTMS_UUID: bytes([flags]) + struct.pack("<H", machine_type)},
        [FTMS_UUID],
    )


def _bike_info() -> BluetoothServiceInfoBleak:
    return _ftms_info(BIKE_ADDRESS, "Retro Bike", INDOOR_BIKE)


def _heart_rate_info() -> BluetoothServiceInfoBleak:
    """A Bluetooth device that is no fitness machine at all."""
    return _service_info(
        HEART_RATE_ADDRESS, "Heart Rate", {}, [normalize_uuid_str("180d")]
    )


async def _async_advertise(
    hass: HomeAssistant, *infos: BluetoothServiceInfoBleak
) -> None:
    """Make devices discoverable and wait for the discovery flows they start.

    Bluetooth starts discovery flows as background tasks, which a plain
    ``async_block_till_done()`` does not wait for.
    """
    for info in infos:
        inject_bluetooth_service_info(hass, info)
    await hass.async_block_till_done(wait_background_tasks=True)


def _flows(hass: HomeAssistant) -> dict[str, str]:
    """The unique id and step of every Retro Walk flow in progress."""
    return {
        flow["context"]["unique_id"]: flow["step_id"]
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    }


def _ftms_entry(
    data: dict[str, Any] = BASEMENT_DATA, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    return station_entry(
        data,
        unique_id=data[CONF_ADDRESS],
        options={CONF_REMOTE_CONTROL: False} if options is None else options,
    )


def _station(data: dict[str, Any]) -> dict[str, Any]:
    """What of a station form (or of STATION_DATA) is the entry's data."""
    return {
        key: value
        for key, value in data.items()
        if key not in (*WALKER_FIELDS, CONF_WALKER_NAME)
    }


def _walker(
    data: dict[str, Any] = STATION_DATA, name: str = MIGRATED_WALKER_NAME
) -> dict[str, Any]:
    """The walker subentry a station form's walker fields make."""
    return {
        "subentry_type": SUBENTRY_WALKER,
        "title": name,
        "data": {key: data[key] for key in WALKER_FIELDS},
        "unique_id": None,
    }


def _walkers(entry: ConfigEntry) -> list[dict[str, Any]]:
    """An entry's subentries, as the config flow describes them."""
    return [
        {
            "subentry_type": subentry.subentry_type,
            "title": subentry.title,
            "data": dict(subentry.data),
            "unique_id": subentry.unique_id,
        }
        for subentry in entry.subentries.values()
    ]


def _assert_station(
    result: FlowResult, data: dict[str, Any], walker: dict[str, Any]
) -> ConfigEntry:
    """A station was created with this data and exactly this one walker."""
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == data
    assert list(result["subentries"]) == [walker]
    entry = result["result"]
    assert dict(entry.data) == data
    assert _walkers(entry) == [walker]
    assert (entry.version, entry.minor_version) == (1, 3)
    return entry


async def _start_user_flow(hass: HomeAssistant) -> FlowResult:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result


# --- user step ---------------------------------------------------------------


async def test_user_form_defaults(hass: HomeAssistant) -> None:
    result = await _start_user_flow(hass)
    # The station, then its first walker.
    assert _fields(result) == [
        CONF_NAME,
        CONF_TREADMILL_TYPE,
        CONF_WALKER_NAME,
        CONF_BODY_MASS,
        CONF_EXPERIENCE,
        CONF_WEEKLY_GOAL,
    ]
    assert form_defaults(result) == {
        CONF_NAME: "",
        CONF_WALKER_NAME: MIGRATED_WALKER_NAME,
        CONF_BODY_MASS: DEFAULT_BODY_MASS,
        CONF_EXPERIENCE: "beginner",
        CONF_WEEKLY_GOAL: DEFAULT_WEEKLY_GOAL,
        CONF_TREADMILL_TYPE: "none",
    }


@pytest.mark.parametrize("treadmill_type", ["none", "simulated"])
async def test_user_creates_station_without_linked_treadmill(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, treadmill_type: str
) -> None:
    result = await _start_user_flow(hass)
    user_input = {
        **STATION_DATA,
        **WALKER_INPUT,
        CONF_WALKER_NAME: "  Luis ",
        CONF_TREADMILL_TYPE: treadmill_type,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["title"] == "Living room"
    # The station's data holds the station; the walker is its one subentry.
    entry = _assert_station(result, _station(user_input), _walker(WALKER_INPUT, "Luis"))
    assert result["options"] == {}
    # A random id, not the typed name: renaming must not leave it stale.
    assert re.fullmatch(r"[0-9a-f]{32}", entry.unique_id)
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_user_creates_simulated_station_that_sets_up(
    hass: HomeAssistant,
) -> None:
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(STATION_DATA)
    )
    await hass.async_block_till_done()

    # The first walker is named after the form's default.
    entry = _assert_station(result, _station(STATION_DATA), _walker())
    assert entry.state is ConfigEntryState.LOADED
    (walker,) = entry.runtime_data.coordinator.walkers
    assert walker.name == MIGRATED_WALKER_NAME
    assert walker.body_mass == STATION_DATA[CONF_BODY_MASS]


@pytest.mark.parametrize("name", ["", "   ", "!!!", " - . / "])
async def test_user_name_required_then_success(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, name: str
) -> None:
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**STATION_DATA, **WALKER_INPUT, CONF_NAME: name, CONF_WEEKLY_GOAL: 120},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_NAME: "name_required"}
    # What was entered is offered again.
    assert form_defaults(result) == {
        **STATION_DATA,
        **WALKER_INPUT,
        CONF_NAME: name,
        CONF_WEEKLY_GOAL: 120,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**STATION_DATA, CONF_NAME: "  Hallway  "}
    )

    assert result["title"] == "Hallway"
    # The walker's name, left out, is the one entered before (the default).
    entry = _assert_station(
        result, {**_station(STATION_DATA), CONF_NAME: "Hallway"}, _walker(name="Luis")
    )
    assert entry.unique_id != "hallway"


@pytest.mark.parametrize("walker_name", ["", "   ", "!!!", " - . / "])
async def test_user_walker_name_required_then_success(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, walker_name: str
) -> None:
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**STATION_DATA, **WALKER_INPUT, CONF_WALKER_NAME: walker_name},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_WALKER_NAME: "walker_name_required"}
    assert form_defaults(result) == {
        **STATION_DATA,
        **WALKER_INPUT,
        CONF_WALKER_NAME: walker_name,
    }
    assert hass.config_entries.async_entries(DOMAIN) == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**STATION_DATA, **WALKER_INPUT, CONF_WALKER_NAME: " Ana "}
    )

    _assert_station(result, _station(STATION_DATA), _walker(WALKER_INPUT, "Ana"))


@pytest.mark.parametrize("field", [CONF_BODY_MASS, CONF_WEEKLY_GOAL])
async def test_user_refuses_nan_then_succeeds(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, field: str
) -> None:
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**STATION_DATA, field: "nan"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "not_finite"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(STATION_DATA)
    )
    _assert_station(result, _station(STATION_DATA), _walker())


@pytest.mark.parametrize("name", ["Living room", "  LIVING ROOM ", "living-room!"])
async def test_user_duplicate_name_then_success(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
    name: str,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**STATION_DATA, CONF_NAME: name, CONF_TREADMILL_TYPE: "none"},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_taken"}
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        # The other station's walker's name is no station's name.
        {
            **STATION_DATA,
            CONF_NAME: "Kitchen",
            CONF_TREADMILL_TYPE: "none",
            CONF_WALKER_NAME: WALKER_NAME,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


@pytest.mark.parametrize("treadmill_type", ["none", "ftms"])
@pytest.mark.parametrize("name", ["Basement", " BASEMENT ", "basement!"])
async def test_user_name_of_ftms_station_is_taken(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, treadmill_type: str, name: str
) -> None:
    # An FTMS station is keyed by its machine's address, but its name is taken.
    _ftms_entry().add_to_hass(hass)
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**STATION_DATA, CONF_NAME: name, CONF_TREADMILL_TYPE: treadmill_type},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_taken"}
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_user_form_offers_every_treadmill_type(hass: HomeAssistant) -> None:
    result = await _start_user_flow(hass)

    assert _selector(result, CONF_TREADMILL_TYPE).config["options"] == [
        "none",
        "simulated",
        "linked",
        "ftms",
    ]


# --- ftms step ---------------------------------------------------------------


async def _start_ftms_step(hass: HomeAssistant, name: str = "Hallway") -> FlowResult:
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**STATION_DATA, **WALKER_INPUT, CONF_NAME: name, CONF_TREADMILL_TYPE: "ftms"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ftms"
    return result


def _treadmill_choices(result: FlowResult) -> dict[str, str]:
    return {
        option["value"]: option["label"]
        for option in _selector(result, CONF_ADDRESS).config["options"]
    }


@pytest.mark.parametrize("remote_control", [True, False])
async def test_user_ftms_lists_unconfigured_treadmills_and_creates_station(
    hass: HomeAssistant,
    enable_bluetooth: None,
    mock_setup_entry: AsyncMock,
    remote_control: bool,
) -> None:
    _ftms_entry().add_to_hass(hass)
    await _async_advertise(
        hass,
        FakeTreadmill().service_info(),
        FakeTreadmill(OTHER_ADDRESS, OTHER_NAME).service_info(),
        FakeTreadmill(BASEMENT_ADDRESS, "Basement Treadmill").service_info(),
        _bike_info(),
        _heart_rate_info(),
    )
    # Discovery asks about the two treadmills that are no station yet.
    assert _flows(hass) == {
        DEFAULT_ADDRESS: "bluetooth_confirm",
        OTHER_ADDRESS: "bluetooth_confirm",
    }

    result = await _start_ftms_step(hass)

    # Neither the configured treadmill, nor the bike, nor the heart rate
    # monitor is offered.
    assert _treadmill_choices(result) == {
        DEFAULT_ADDRESS: f"{DEFAULT_NAME} ({DEFAULT_ADDRESS})",
        OTHER_ADDRESS: f"{OTHER_NAME} ({OTHER_ADDRESS})",
    }
    assert _fields(result) == [CONF_ADDRESS, CONF_REMOTE_CONTROL]
    assert form_defaults(result) == {CONF_REMOTE_CONTROL: False}
    assert not result["errors"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_ADDRESS: OTHER_ADDRESS, CONF_REMOTE_CONTROL: remote_control},
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Hallway"
    expected = {
        **_station(STATION_DATA),
        CONF_NAME: "Hallway",
        CONF_TREADMILL_TYPE: "ftms",
        CONF_ADDRESS: OTHER_ADDRESS,
    }
    # The walker entered in the user step comes through the ftms step.
    entry = _assert_station(result, expected, _walker(WALKER_INPUT, "Luis"))
    assert result["options"] == {CONF_REMOTE_CONTROL: remote_control}
    assert entry.unique_id == OTHER_ADDRESS
    assert entry.source == SOURCE_USER
    assert dict(entry.options) == {CONF_REMOTE_CONTROL: remote_control}
    assert entry.state is ConfigEntryState.LOADED
    # The discovery of the chosen treadmill is over; the other one's goes on.
    assert _flows(hass) == {DEFAULT_ADDRESS: "bluetooth_confirm"}


async def test_user_ftms_defaults_remote_control_off(
    hass: HomeAssistant, enable_bluetooth: None, mock_setup_entry: AsyncMock
) -> None:
    await _async_advertise(hass, FakeTreadmill().service_info())
    result = await _start_ftms_step(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: DEFAULT_ADDRESS}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == {CONF_REMOTE_CONTROL: False}


async def test_user_ftms_refuses_a_machine_not_offered(
    hass: HomeAssistant, enable_bluetooth: None
) -> None:
    await _async_advertise(hass, FakeTreadmill().service_info(), _bike_info())
    result = await _start_ftms_step(hass)

    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_ADDRESS: BIKE_ADDRESS, CONF_REMOTE_CONTROL: False},
        )


@pytest.mark.parametrize(
    "advertised",
    [
        pytest.param((), id="nothing"),
        pytest.param((_bike_info, _heart_rate_info), id="no_treadmill"),
        pytest.param(
            (lambda: FakeTreadmill(BASEMENT_ADDRESS).service_info(),),
            id="only_configured_treadmill",
        ),
    ],
)
async def test_user_ftms_no_devices_found(
    hass: HomeAssistant,
    enable_bluetooth: None,
    mock_setup_entry: AsyncMock,
    advertised: tuple[Any, ...],
) -> None:
    _ftms_entry().add_to_hass(hass)
    await _async_advertise(hass, *(make() for make in advertised))
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**STATION_DATA, CONF_NAME: "Hallway", CONF_TREADMILL_TYPE: "ftms"},
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_devices_found"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_user_ftms_treadmill_configured_meanwhile_aborts(
    hass: HomeAssistant, enable_bluetooth: None, mock_setup_entry: AsyncMock
) -> None:
    await _async_advertise(hass, FakeTreadmill().service_info())
    result = await _start_ftms_step(hass)
    assert list(_treadmill_choices(result)) == [DEFAULT_ADDRESS]

    # The treadmill's discovery is confirmed while the form is open.
    (discovery,) = hass.config_entries.flow.async_progress_by_handler(
        DOMAIN, match_context={"source": SOURCE_BLUETOOTH}
    )
    created = await hass.config_entries.flow.async_configure(
        discovery["flow_id"], {**CONFIRM_INPUT, CONF_NAME: "Bedroom"}
    )
    assert created["type"] is FlowResultType.CREATE_ENTRY

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: DEFAULT_ADDRESS, CONF_REMOTE_CONTROL: False}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.title == "Bedroom"


async def test_user_ftms_offers_ignored_treadmill(
    hass: HomeAssistant, enable_bluetooth: None, mock_setup_entry: AsyncMock
) -> None:
    # The user once ignored the discovered treadmill: choosing it by hand
    # replaces the ignored entry, and its title does not block the name.
    MockConfigEntry(
        domain=DOMAIN,
        source=SOURCE_IGNORE,
        title=DEFAULT_NAME,
        unique_id=DEFAULT_ADDRESS,
        data={},
    ).add_to_hass(hass)
    await _async_advertise(hass, FakeTreadmill().service_info())
    assert _flows(hass) == {}

    result = await _start_ftms_step(hass, name=DEFAULT_NAME)
    assert list(_treadmill_choices(result)) == [DEFAULT_ADDRESS]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ADDRESS: DEFAULT_ADDRESS, CONF_REMOTE_CONTROL: True}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == DEFAULT_NAME
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert entry.source == SOURCE_USER
    assert entry.unique_id == DEFAULT_ADDRESS


# --- bluetooth discovery ---------------------------------------------------------


async def _start_bluetooth_flow(
    hass: HomeAssistant, info: BluetoothServiceInfoBleak | None = None
) -> FlowResult:
    info = info or FakeTreadmill().service_info()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=info
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    assert result["description_placeholders"] == {"name": info.name}
    return result


async def test_bluetooth_discovered_from_advertisement(
    hass: HomeAssistant, enable_bluetooth: None, mock_setup_entry: AsyncMock
) -> None:
    # The manifest's matcher starts discovery for FTMS machines; only the
    # treadmill's flow is left for the user to confirm.
    await _async_advertise(
        hass, FakeTreadmill().service_info(), _bike_info(), _heart_rate_info()
    )

    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["step_id"] == "bluetooth_confirm"
    assert flow["context"]["source"] == SOURCE_BLUETOOTH
    assert flow["context"]["unique_id"] == DEFAULT_ADDRESS
    assert flow["context"]["title_placeholders"] == {"name": DEFAULT_NAME}

    # Confirming with every default makes a station named after the treadmill.
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()

    assert result["title"] == DEFAULT_NAME
    _assert_station(
        result,
        {
            CONF_NAME: DEFAULT_NAME,
            CONF_TREADMILL_TYPE: "ftms",
            CONF_ADDRESS: DEFAULT_ADDRESS,
        },
        _walker(
            {
                CONF_BODY_MASS: DEFAULT_BODY_MASS,
                CONF_EXPERIENCE: "beginner",
                CONF_WEEKLY_GOAL: DEFAULT_WEEKLY_GOAL,
            }
        ),
    )
    assert result["options"] == {CONF_REMOTE_CONTROL: False}
    assert result["result"].source == SOURCE_BLUETOOTH
    assert result["result"].unique_id == DEFAULT_ADDRESS
    assert len(mock_setup_entry.mock_calls) == 1


async def test_bluetooth_confirm_form(hass: HomeAssistant) -> None:
    result = await _start_bluetooth_flow(hass)

    assert result["errors"] == {}
    # No treadmill type: the discovered treadmill is the station's.
    assert _fields(result) == [
        CONF_NAME,
        CONF_WALKER_NAME,
        CONF_BODY_MASS,
        CONF_EXPERIENCE,
        CONF_WEEKLY_GOAL,
        CONF_REMOTE_CONTROL,
    ]
    assert form_defaults(result) == {
        CONF_NAME: DEFAULT_NAME,
        CONF_WALKER_NAME: MIGRATED_WALKER_NAME,
        CONF_BODY_MASS: DEFAULT_BODY_MASS,
        CONF_EXPERIENCE: "beginner",
        CONF_WEEKLY_GOAL: DEFAULT_WEEKLY_GOAL,
        CONF_REMOTE_CONTROL: False,
    }
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["title_placeholders"] == {"name": DEFAULT_NAME}
    assert flow["context"]["unique_id"] == DEFAULT_ADDRESS


@pytest.mark.parametrize("remote_control", [True, False])
async def test_bluetooth_confirm_creates_station(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    remote_control: bool,
) -> None:
    result = await _start_bluetooth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **CONFIRM_INPUT,
            CONF_NAME: "  Hall treadmill ",
            CONF_REMOTE_CONTROL: remote_control,
        },
    )
    await hass.async_block_till_done()

    assert result["title"] == "Hall treadmill"
    expected = {
        CONF_NAME: "Hall treadmill",
        CONF_TREADMILL_TYPE: "ftms",
        CONF_ADDRESS: DEFAULT_ADDRESS,
    }
    # Neither the walker nor the remote control option is the station's data.
    entry = _assert_station(result, expected, _walker(WALKER_INPUT, "Luis"))
    assert result["options"] == {CONF_REMOTE_CONTROL: remote_control}
    assert entry.unique_id == DEFAULT_ADDRESS
    assert dict(entry.options) == {CONF_REMOTE_CONTROL: remote_control}
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.parametrize("source", [SOURCE_USER, SOURCE_BLUETOOTH, SOURCE_IGNORE])
async def test_bluetooth_already_configured(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, source: str
) -> None:
    station_entry(
        {**BASEMENT_DATA, CONF_ADDRESS: DEFAULT_ADDRESS},
        source=source,
        unique_id=DEFAULT_ADDRESS,
    ).add_to_hass(hass)

    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_BLUETOOTH},
        data=FakeTreadmill().service_info(),
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    "info",
    [
        pytest.param(_bike_info, id="indoor_bike"),
        pytest.param(
            lambda: _ftms_info(BIKE_ADDRESS, "Retro Rower", ROWER), id="rower"
        ),
        # Flags without "fitness machine available" and FTMS advertised
        # without service data: no available treadmill to offer.
        pytest.param(
            lambda: _ftms_info(DEFAULT_ADDRESS, DEFAULT_NAME, 0x0001, flags=0x00),
            id="not_available",
        ),
        pytest.param(
            lambda: _service_info(DEFAULT_ADDRESS, DEFAULT_NAME, {}, [FTMS_UUID]),
            id="no_service_data",
        ),
    ],
)
async def test_bluetooth_not_a_treadmill(hass: HomeAssistant, info: Any) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_BLUETOOTH}, data=info()
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_a_treadmill"
    assert hass.config_entries.async_entries(DOMAIN) == []


@pytest.mark.parametrize("field", [CONF_BODY_MASS, CONF_WEEKLY_GOAL])
async def test_bluetooth_confirm_refuses_nan_then_succeeds(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, field: str
) -> None:
    result = await _start_bluetooth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CONFIRM_INPUT, field: "nan"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "not_finite"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(CONFIRM_INPUT)
    )
    _assert_station(
        result,
        {
            CONF_NAME: DEFAULT_NAME,
            CONF_TREADMILL_TYPE: "ftms",
            CONF_ADDRESS: DEFAULT_ADDRESS,
        },
        _walker(WALKER_INPUT, "Luis"),
    )


@pytest.mark.parametrize("walker_name", ["", "   ", "!!!", " - . / "])
async def test_bluetooth_confirm_walker_name_required_then_success(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, walker_name: str
) -> None:
    result = await _start_bluetooth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CONFIRM_INPUT, CONF_WALKER_NAME: walker_name}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    assert result["errors"] == {CONF_WALKER_NAME: "walker_name_required"}
    # What was entered is offered again.
    assert form_defaults(result) == {
        **CONFIRM_INPUT,
        CONF_NAME: DEFAULT_NAME,
        CONF_WALKER_NAME: walker_name,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CONFIRM_INPUT, CONF_WALKER_NAME: "  Ana María "}
    )

    _assert_station(
        result,
        {
            CONF_NAME: DEFAULT_NAME,
            CONF_TREADMILL_TYPE: "ftms",
            CONF_ADDRESS: DEFAULT_ADDRESS,
        },
        _walker(WALKER_INPUT, "Ana María"),
    )


@pytest.mark.parametrize("name", ["", "   ", "!!!", " - . / "])
async def test_bluetooth_confirm_name_required_then_success(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, name: str
) -> None:
    result = await _start_bluetooth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**CONFIRM_INPUT, CONF_NAME: name, CONF_WEEKLY_GOAL: 120},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    assert result["errors"] == {CONF_NAME: "name_required"}
    assert result["description_placeholders"] == {"name": DEFAULT_NAME}
    # What was entered is offered again, not the treadmill's name.
    assert form_defaults(result) == {
        **CONFIRM_INPUT,
        CONF_NAME: name,
        CONF_WEEKLY_GOAL: 120,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CONFIRM_INPUT, CONF_NAME: "Hallway"}
    )

    assert result["title"] == "Hallway"
    _assert_station(
        result,
        {
            CONF_NAME: "Hallway",
            CONF_TREADMILL_TYPE: "ftms",
            CONF_ADDRESS: DEFAULT_ADDRESS,
        },
        _walker(WALKER_INPUT, "Luis"),
    )
    assert result["options"] == {CONF_REMOTE_CONTROL: True}


@pytest.mark.parametrize(
    "name", ["Living room", "  LIVING ROOM ", "living-room!", "Basement"]
)
async def test_bluetooth_confirm_name_taken_then_success(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
    name: str,
) -> None:
    # A station keyed by its name, and an FTMS station keyed by its address.
    mock_config_entry.add_to_hass(hass)
    _ftms_entry().add_to_hass(hass)
    result = await _start_bluetooth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CONFIRM_INPUT, CONF_NAME: name}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "bluetooth_confirm"
    assert result["errors"] == {CONF_NAME: "name_taken"}
    assert form_defaults(result) == {**CONFIRM_INPUT, CONF_NAME: name}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**CONFIRM_INPUT, CONF_NAME: "Hallway"}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Hallway"
    assert result["result"].unique_id == DEFAULT_ADDRESS
    assert len(hass.config_entries.async_entries(DOMAIN)) == 3


async def test_bluetooth_confirm_treadmill_name_taken(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    # The treadmill's own name, the default, is a station's already.
    mock_config_entry.add_to_hass(hass)
    result = await _start_bluetooth_flow(
        hass, FakeTreadmill(name="Living Room").service_info()
    )
    assert form_defaults(result)[CONF_NAME] == "Living Room"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_taken"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Living Room treadmill"}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Living Room treadmill"
    assert result["options"] == {CONF_REMOTE_CONTROL: False}
    # The form's default walker.
    assert list(result["subentries"]) == [
        _walker(
            {
                CONF_BODY_MASS: DEFAULT_BODY_MASS,
                CONF_EXPERIENCE: "beginner",
                CONF_WEEKLY_GOAL: DEFAULT_WEEKLY_GOAL,
            }
        )
    ]


# --- linked step ---------------------------------------------------------------


async def _start_linked_step(hass: HomeAssistant) -> FlowResult:
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**LINKED_USER_INPUT, CONF_WALKER_NAME: WALKER_NAME}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {}
    return result


async def test_user_linked_creates_station_that_sets_up(
    hass: HomeAssistant, treadmill_helpers: None
) -> None:
    result = await _start_linked_step(hass)
    assert form_defaults(result) == {}
    assert _suggested(result) == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )
    await hass.async_block_till_done()

    assert result["title"] == "Gym treadmill"
    # The walker entered in the user step comes through the linked step.
    entry = _assert_station(result, _station(LINKED_DATA), _walker(LINKED_DATA, "Ana"))
    assert re.fullmatch(r"[0-9a-f]{32}", entry.unique_id)
    assert entry.state is ConfigEntryState.LOADED


async def test_user_linked_optional_fields_left_out(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, treadmill_helpers: None
) -> None:
    result = await _start_linked_step(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_SPEED_SENSOR: "input_number.belt_speed",
            CONF_PAUSE_CONTROL: "input_boolean.belt_running",
        },
    )

    _assert_station(
        result,
        {
            **_station(LINKED_USER_INPUT),
            CONF_SPEED_SENSOR: "input_number.belt_speed",
            CONF_PAUSE_CONTROL: "input_boolean.belt_running",
        },
        _walker(LINKED_DATA, "Ana"),
    )
    assert CONF_SPEED_CONTROL not in result["result"].data
    assert CONF_STOP_CONTROL not in result["result"].data


@pytest.mark.parametrize(
    ("field", "missing"),
    [
        (CONF_SPEED_SENSOR, "sensor.no_such_belt"),
        (CONF_PAUSE_CONTROL, "switch.no_such_pause"),
        (CONF_SPEED_CONTROL, "number.no_such_speed"),
        (CONF_STOP_CONTROL, "button.no_such_stop"),
    ],
)
async def test_user_linked_entity_not_found_then_success(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    treadmill_helpers: None,
    field: str,
    missing: str,
) -> None:
    result = await _start_linked_step(hass)
    bad_input = {**LINKED_INPUT, field: missing}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], bad_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {field: "entity_not_found"}
    # The entities entered are offered again.
    assert {**form_defaults(result), **_suggested(result)} == bad_input

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )

    _assert_station(result, _station(LINKED_DATA), _walker(LINKED_DATA, "Ana"))


async def test_user_linked_treadmill_already_linked_then_success(
    hass: HomeAssistant, linked_entry: MockConfigEntry, mock_setup_entry: AsyncMock
) -> None:
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**LINKED_USER_INPUT, CONF_NAME: "Second walker"}
    )
    assert result["step_id"] == "linked"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {CONF_SPEED_SENSOR: "treadmill_already_linked"}

    hass.states.async_set(OTHER_SENSOR, "0.0")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_SPEED_SENSOR: OTHER_SENSOR,
            CONF_PAUSE_CONTROL: "input_boolean.belt_running",
        },
    )

    assert result["title"] == "Second walker"
    _assert_station(
        result,
        {
            **_station(LINKED_USER_INPUT),
            CONF_NAME: "Second walker",
            CONF_SPEED_SENSOR: OTHER_SENSOR,
            CONF_PAUSE_CONTROL: "input_boolean.belt_running",
        },
        _walker(LINKED_DATA),
    )
    assert result["result"].unique_id != "second_walker"


# --- reconfigure -----------------------------------------------------------------


async def _start_reconfigure(hass: HomeAssistant, entry: MockConfigEntry) -> FlowResult:
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"station": entry.title}
    return result


async def test_reconfigure_form_defaults_from_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)

    result = await _start_reconfigure(hass, mock_config_entry)

    # The name is the unique id: it cannot be changed here. Neither are the
    # walkers: they are the station's subentries, edited in their own flow.
    assert _fields(result) == [CONF_TREADMILL_TYPE]
    assert form_defaults(result) == {CONF_TREADMILL_TYPE: "simulated"}


async def test_reconfigure_refuses_walker_fields(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    walkers = _walkers(mock_config_entry)
    result = await _start_reconfigure(hass, mock_config_entry)

    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {**WALKER_INPUT, CONF_TREADMILL_TYPE: "none"}
        )

    assert dict(mock_config_entry.data) == _station(STATION_DATA)
    assert _walkers(mock_config_entry) == walkers


@pytest.mark.parametrize("treadmill_type", ["none", "simulated"])
async def test_reconfigure_linked_to_unlinked(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    treadmill_type: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert linked_entry.state is ConfigEntryState.LOADED
    walkers = _walkers(linked_entry)
    result = await _start_reconfigure(hass, linked_entry)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TREADMILL_TYPE: treadmill_type}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    # The linked entities are dropped; the walkers are kept as they were.
    assert dict(linked_entry.data) == {
        CONF_NAME: "Gym treadmill",
        CONF_TREADMILL_TYPE: treadmill_type,
    }
    assert _walkers(linked_entry) == walkers
    assert linked_entry.title == "Gym treadmill"
    assert linked_entry.unique_id == "gym_treadmill"
    assert dict(linked_entry.options) == STATION_OPTIONS
    # Reloaded with the new treadmill, by the flow: no update listener that
    # Home Assistant 2026.12 would refuse beside it.
    assert linked_entry.state is ConfigEntryState.LOADED
    assert linked_entry.update_listeners == []
    assert "update listener" not in caplog.text


async def test_reconfigure_unlinked_to_linked(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
    treadmill_helpers: None,
) -> None:
    mock_config_entry.add_to_hass(hass)
    walkers = _walkers(mock_config_entry)
    result = await _start_reconfigure(hass, mock_config_entry)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TREADMILL_TYPE: "linked"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {}
    assert form_defaults(result) == {}
    assert _suggested(result) == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_SPEED_SENSOR: "input_number.belt_speed",
            CONF_PAUSE_CONTROL: "input_boolean.belt_running",
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(mock_config_entry.data) == {
        CONF_NAME: "Living room",
        CONF_TREADMILL_TYPE: "linked",
        CONF_SPEED_SENSOR: "input_number.belt_speed",
        CONF_PAUSE_CONTROL: "input_boolean.belt_running",
    }
    assert _walkers(mock_config_entry) == walkers
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reconfigure_linked_keeps_defaults_and_drops_cleared_fields(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    result = await _start_reconfigure(hass, linked_entry)
    assert form_defaults(result) == {CONF_TREADMILL_TYPE: "linked"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TREADMILL_TYPE: "linked"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    # The entry's entities are offered: required fields as defaults, optional
    # ones as suggestions so that they can be cleared.
    assert form_defaults(result) == {
        CONF_SPEED_SENSOR: "input_number.belt_speed",
        CONF_PAUSE_CONTROL: "input_boolean.belt_running",
    }
    assert _suggested(result) == {
        CONF_SPEED_CONTROL: "input_number.belt_speed",
        CONF_STOP_CONTROL: "script.stop_belt",
    }

    # Its own speed sensor does not count as linked to another station; the
    # stop control is cleared.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_SPEED_SENSOR: "input_number.belt_speed",
            CONF_SPEED_CONTROL: "input_number.belt_speed",
            CONF_PAUSE_CONTROL: "input_boolean.belt_running",
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(linked_entry.data) == {
        CONF_NAME: "Gym treadmill",
        CONF_TREADMILL_TYPE: "linked",
        CONF_SPEED_SENSOR: "input_number.belt_speed",
        CONF_SPEED_CONTROL: "input_number.belt_speed",
        CONF_PAUSE_CONTROL: "input_boolean.belt_running",
    }
    assert linked_entry.state is ConfigEntryState.LOADED


async def test_reconfigure_linked_error_then_success(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    result = await _start_reconfigure(hass, linked_entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TREADMILL_TYPE: "linked"}
    )
    bad_input = {**LINKED_INPUT, CONF_PAUSE_CONTROL: "switch.no_such_pause"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], bad_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {CONF_PAUSE_CONTROL: "entity_not_found"}
    # What was entered is offered again, not the entry's entities.
    assert form_defaults(result)[CONF_PAUSE_CONTROL] == "switch.no_such_pause"
    # Nothing changed yet.
    assert dict(linked_entry.data) == _station(LINKED_DATA)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(linked_entry.data) == _station(LINKED_DATA)
    assert linked_entry.state is ConfigEntryState.LOADED


async def test_reconfigure_to_treadmill_of_another_station(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await _start_reconfigure(hass, mock_config_entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TREADMILL_TYPE: "linked"}
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {CONF_SPEED_SENSOR: "treadmill_already_linked"}
    assert dict(mock_config_entry.data) == _station(STATION_DATA)


async def test_reconfigure_form_offers_no_ftms(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    # An FTMS treadmill is added by discovery or the user step, with its
    # address: reconfigure cannot switch a station to one.
    mock_config_entry.add_to_hass(hass)

    result = await _start_reconfigure(hass, mock_config_entry)

    assert _selector(result, CONF_TREADMILL_TYPE).config["options"] == [
        "none",
        "simulated",
        "linked",
    ]


async def test_reconfigure_ftms_station_keeps_its_treadmill(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    entry = _ftms_entry(options={**STATION_OPTIONS, CONF_REMOTE_CONTROL: True})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    walkers = _walkers(entry)

    result = await entry.start_reconfigure_flow(hass)
    await hass.async_block_till_done()

    # Nothing to reconfigure: the station keeps its machine, and its walkers
    # are edited in their own flow.
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_ftms"
    assert dict(entry.data) == _station(BASEMENT_DATA)
    assert _walkers(entry) == walkers
    assert entry.unique_id == BASEMENT_ADDRESS
    assert entry.title == "Basement"
    assert dict(entry.options) == {**STATION_OPTIONS, CONF_REMOTE_CONTROL: True}
    # Not reloaded.
    assert len(mock_setup_entry.mock_calls) == 1
    assert entry.state is ConfigEntryState.LOADED


# --- options -------------------------------------------------------------------


# The options flow's first step also asks whether to write FIT files.
EXPORT_DEFAULT: dict[str, Any] = {"export_fit": True}
SAFETY_DEFAULTS: dict[str, Any] = {
    "webhook_enabled": False,
    "webhook_local_only": True,
    "stream_timeout": 1.0,
    "min_clearance": 30.0,
    "ack_timeout": 60.0,
}


async def _submit_safety(hass: HomeAssistant, result: Any, **changes: Any) -> Any:
    """Answer the options flow's safety step (defaults unless changed)."""
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "safety"
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**SAFETY_DEFAULTS, **changes}
    )


async def test_options_flow(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert form_defaults(result) == {
        **STATION_OPTIONS,
        "stop_confirm_seconds": 5.0,
        **EXPORT_DEFAULT,
    }

    new_options = {
        CONF_WARM_UP_MINUTES: 5.0,
        CONF_COOL_DOWN_MINUTES: 0.0,
        CONF_FORWARD_SPEED: 2.5,
        "stop_confirm_seconds": 8.0,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], new_options
    )
    result = await _submit_safety(hass, result)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {**new_options, **SAFETY_DEFAULTS, **EXPORT_DEFAULT}
    assert dict(init_integration.options) == {
        **new_options,
        **SAFETY_DEFAULTS,
        **EXPORT_DEFAULT,
    }
    assert dict(init_integration.data) == _station(STATION_DATA)
    assert init_integration.state is ConfigEntryState.LOADED


async def test_options_flow_defaults_without_options(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    entry = station_entry(
        {**STATION_DATA, CONF_NAME: "Hallway", CONF_TREADMILL_TYPE: "none"},
        unique_id="hallway",
        options={},
    )
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert form_defaults(result) == {
        **EXPORT_DEFAULT,
        CONF_WARM_UP_MINUTES: DEFAULT_WARM_UP_MINUTES,
        CONF_COOL_DOWN_MINUTES: DEFAULT_COOL_DOWN_MINUTES,
        CONF_FORWARD_SPEED: DEFAULT_FORWARD_SPEED,
    }


@pytest.mark.parametrize(
    ("experiences", "stored", "default"),
    [
        (["beginner"], 5.0, 5.0),
        (["intermediate"], 5.0, 5.0),
        (["advanced"], 5.0, 5.0),
        (["beginner"], 2.5, 2.5),
        (["beginner", "advanced"], 7.0, 5.8),
        ([], 7.0, 5.8),
    ],
)
async def test_options_forward_speed_capped_by_fastest_experience(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    experiences: list[str],
    stored: float,
    default: float,
) -> None:
    # The station's walkers no longer cap its forward speed in the form: each
    # walker's session keeps to their own cap. The form keeps to the highest.
    entry = station_entry(
        STATION_DATA,
        walkers=[
            walker_subentry(f"Walker {index}", experience=experience)
            for index, experience in enumerate(experiences)
        ],
        options={**STATION_OPTIONS, CONF_FORWARD_SPEED: stored},
    )
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert form_defaults(result)[CONF_FORWARD_SPEED] == default
    assert _selector_max(result, CONF_FORWARD_SPEED) == 5.8

    # A speed above the highest cap is refused by the form.
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**STATION_OPTIONS, CONF_FORWARD_SPEED: 6.3}
        )

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**STATION_OPTIONS, CONF_FORWARD_SPEED: 5.8}
    )
    result = await _submit_safety(hass, result)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_FORWARD_SPEED] == 5.8


@pytest.mark.parametrize(
    ("stored", "defaults"),
    [
        (
            {CONF_REMOTE_CONTROL: False},
            {
                CONF_WARM_UP_MINUTES: DEFAULT_WARM_UP_MINUTES,
                CONF_COOL_DOWN_MINUTES: DEFAULT_COOL_DOWN_MINUTES,
                CONF_FORWARD_SPEED: DEFAULT_FORWARD_SPEED,
                CONF_STOP_CONFIRM_SECONDS: DEFAULT_STOP_CONFIRM_SECONDS,
                CONF_REMOTE_CONTROL: False,
            },
        ),
        (
            {},
            {
                CONF_WARM_UP_MINUTES: DEFAULT_WARM_UP_MINUTES,
                CONF_COOL_DOWN_MINUTES: DEFAULT_COOL_DOWN_MINUTES,
                CONF_FORWARD_SPEED: DEFAULT_FORWARD_SPEED,
                CONF_STOP_CONFIRM_SECONDS: DEFAULT_STOP_CONFIRM_SECONDS,
                CONF_REMOTE_CONTROL: False,
            },
        ),
        (
            {
                **STATION_OPTIONS,
                CONF_STOP_CONFIRM_SECONDS: 8.0,
                CONF_REMOTE_CONTROL: True,
            },
            {
                **STATION_OPTIONS,
                CONF_STOP_CONFIRM_SECONDS: 8.0,
                CONF_REMOTE_CONTROL: True,
            },
        ),
    ],
)
async def test_options_flow_ftms_station(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    stored: dict[str, Any],
    defaults: dict[str, Any],
) -> None:
    entry = _ftms_entry(options=stored)
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert form_defaults(result) == {**defaults, **EXPORT_DEFAULT}

    new_options = {
        CONF_WARM_UP_MINUTES: 2.0,
        CONF_COOL_DOWN_MINUTES: 3.0,
        CONF_FORWARD_SPEED: 2.5,
        CONF_STOP_CONFIRM_SECONDS: 12.5,
        CONF_REMOTE_CONTROL: not defaults[CONF_REMOTE_CONTROL],
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], new_options
    )
    result = await _submit_safety(hass, result)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(entry.options) == {
        **stored,
        **new_options,
        **SAFETY_DEFAULTS,
        **EXPORT_DEFAULT,
    }
    assert dict(entry.data) == _station(BASEMENT_DATA)


async def test_options_flow_linked_station_has_no_remote_control(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(linked_entry.entry_id)

    assert form_defaults(result) == {
        **EXPORT_DEFAULT,
        **STATION_OPTIONS,
        CONF_STOP_CONFIRM_SECONDS: DEFAULT_STOP_CONFIRM_SECONDS,
    }


async def test_options_safety_step(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Sensors, partners and an MQTT topic; a bad topic is shown, then fixed."""
    hass.states.async_set("binary_sensor.belt", "on", {"device_class": "occupancy"})
    async_mock_service(hass, "notify", "mobile_app_partner")
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], STATION_OPTIONS
    )
    schema = result["data_schema"].schema
    partner_field = next(key for key in schema if key == "partner_targets")
    assert "notify.mobile_app_partner" in (schema[partner_field].config["options"])
    chosen = {
        "mqtt_topic": "sensorlogger/#/bad",
        "presence_sensors": ["binary_sensor.belt"],
        "partner_targets": ["notify.mobile_app_partner"],
        "escalation_targets": ["notify.coach"],
    }
    result = await _submit_safety(hass, result, **chosen)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"mqtt_topic": "invalid_topic"}

    chosen["mqtt_topic"] = " sensorlogger/walker "
    result = await _submit_safety(hass, result, **chosen)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        **STATION_OPTIONS,
        CONF_STOP_CONFIRM_SECONDS: DEFAULT_STOP_CONFIRM_SECONDS,
        **SAFETY_DEFAULTS,
        **EXPORT_DEFAULT,
        **chosen,
        "mqtt_topic": "sensorlogger/walker",
    }


async def test_options_webhook_address_is_shown_once(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], STATION_OPTIONS
    )
    result = await _submit_safety(hass, result, webhook_enabled=True)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "webhook"
    webhook_id = init_integration.options.get("webhook_id")
    assert webhook_id is None  # nothing saved yet
    url = result["description_placeholders"]["webhook_url"]
    assert url.startswith(("http", "/api/webhook/"))
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    webhook_id = init_integration.options["webhook_id"]
    assert url.endswith(f"/api/webhook/{webhook_id}")
    await hass.async_block_till_done()

    # Opened again with the webhook still on: no address, the same secret.
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], STATION_OPTIONS
    )
    result = await _submit_safety(hass, result, webhook_enabled=True)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options["webhook_id"] == webhook_id
    await hass.async_block_till_done()

    # Switched off: the secret is forgotten.
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], STATION_OPTIONS
    )
    result = await _submit_safety(hass, result)
    assert "webhook_id" not in init_integration.options


async def test_options_webhook_without_a_url_shows_the_path(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], STATION_OPTIONS
    )
    with patch(
        "custom_components.retro_walk.config_flow.webhook.async_generate_url",
        side_effect=NoURLAvailableError,
    ):
        result = await _submit_safety(hass, result, webhook_enabled=True)
    assert result["description_placeholders"]["webhook_url"].startswith("/api/webhook/")


@pytest.mark.parametrize(
    "topic",
    ["sensor/#/walker", "sensor/a+b", "sensor/#x", "a\0b", "t" * 65536],
)
async def test_options_refuse_invalid_mqtt_topics(
    hass: HomeAssistant, init_integration: MockConfigEntry, topic: str
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], STATION_OPTIONS
    )
    result = await _submit_safety(hass, result, mqtt_topic=topic)
    assert result["errors"] == {"mqtt_topic": "invalid_topic"}
    # Wildcards where MQTT allows them are fine.
    result = await _submit_safety(hass, result, mqtt_topic="sensor/+/walker/#")
    assert result["type"] is FlowResultType.CREATE_ENTRY
