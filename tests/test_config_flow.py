"""Config flow, reconfigure flow and options flow of Retro Walk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from unittest.mock import AsyncMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.retro_walk.const import (
    CONF_BODY_MASS,
    CONF_COOL_DOWN_MINUTES,
    CONF_EXPERIENCE,
    CONF_FORWARD_SPEED,
    CONF_PAUSE_CONTROL,
    CONF_SPEED_CONTROL,
    CONF_SPEED_SENSOR,
    CONF_STOP_CONTROL,
    CONF_TREADMILL_TYPE,
    CONF_WARM_UP_MINUTES,
    CONF_WEEKLY_GOAL,
    DEFAULT_BODY_MASS,
    DEFAULT_COOL_DOWN_MINUTES,
    DEFAULT_FORWARD_SPEED,
    DEFAULT_WARM_UP_MINUTES,
    DEFAULT_WEEKLY_GOAL,
    DOMAIN,
)
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.data_entry_flow import FlowResult, FlowResultType, InvalidData

from .common import LINKED_DATA, STATION_DATA, STATION_OPTIONS

if TYPE_CHECKING:
    from collections.abc import Generator

    from homeassistant.core import HomeAssistant

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
# What the reconfigure step asks: the walker and the treadmill, not the name.
WALKER_INPUT: dict[str, Any] = {
    CONF_BODY_MASS: 82.5,
    CONF_EXPERIENCE: "intermediate",
    CONF_WEEKLY_GOAL: 90,
}
OTHER_SENSOR = "sensor.other_belt_speed"


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep created and reloaded entries from really setting up."""
    with patch(
        "custom_components.retro_walk.async_setup_entry", return_value=True
    ) as mock:
        yield mock


def _defaults(result: FlowResult) -> dict[str, Any]:
    """The default of every field of a form that has one."""
    return {
        str(key): key.default()
        for key in result["data_schema"].schema
        if key.default is not vol.UNDEFINED
    }


def _suggested(result: FlowResult) -> dict[str, Any]:
    """The suggested value of every field of a form that has one."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def _selector_max(result: FlowResult, field: str) -> float:
    schema = result["data_schema"].schema
    (key,) = (key for key in schema if str(key) == field)
    return schema[key].config["max"]


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
    assert _defaults(result) == {
        CONF_NAME: "",
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
    user_input = {**STATION_DATA, CONF_TREADMILL_TYPE: treadmill_type}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Living room"
    assert result["data"] == user_input
    assert result["options"] == {}
    entry = result["result"]
    assert entry.unique_id == "living_room"
    assert entry.data == user_input
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

    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data == STATION_DATA
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("name", ["", "   ", "!!!", " - . / "])
async def test_user_name_required_then_success(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, name: str
) -> None:
    result = await _start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**STATION_DATA, CONF_NAME: name, CONF_WEEKLY_GOAL: 120}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_NAME: "name_required"}
    # What was entered is offered again.
    assert _defaults(result)[CONF_NAME] == name
    assert _defaults(result)[CONF_WEEKLY_GOAL] == 120
    assert _defaults(result)[CONF_TREADMILL_TYPE] == "simulated"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**STATION_DATA, CONF_NAME: "  Hallway  "}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Hallway"
    assert result["data"] == {**STATION_DATA, CONF_NAME: "Hallway"}
    assert result["result"].unique_id == "hallway"


@pytest.mark.parametrize("name", ["Living room", "  LIVING ROOM ", "living-room!"])
async def test_user_duplicate_name_aborts(
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

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# --- linked step ---------------------------------------------------------------


async def _start_linked_step(hass: HomeAssistant) -> FlowResult:
    result = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_USER_INPUT)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {}
    return result


async def test_user_linked_creates_station_that_sets_up(
    hass: HomeAssistant, treadmill_helpers: None
) -> None:
    result = await _start_linked_step(hass)
    assert _defaults(result) == {}
    assert _suggested(result) == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Gym treadmill"
    assert result["data"] == LINKED_DATA
    entry = result["result"]
    assert entry.unique_id == "gym_treadmill"
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

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        **LINKED_USER_INPUT,
        CONF_SPEED_SENSOR: "input_number.belt_speed",
        CONF_PAUSE_CONTROL: "input_boolean.belt_running",
    }
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
    assert {**_defaults(result), **_suggested(result)} == bad_input

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == LINKED_DATA


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

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Second walker"
    assert result["data"] == {
        **LINKED_USER_INPUT,
        CONF_NAME: "Second walker",
        CONF_SPEED_SENSOR: OTHER_SENSOR,
        CONF_PAUSE_CONTROL: "input_boolean.belt_running",
    }
    assert result["result"].unique_id == "second_walker"


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

    # The name is the unique id: it cannot be changed here.
    assert _defaults(result) == {
        CONF_BODY_MASS: 70.0,
        CONF_EXPERIENCE: "beginner",
        CONF_WEEKLY_GOAL: 60,
        CONF_TREADMILL_TYPE: "simulated",
    }


@pytest.mark.parametrize("treadmill_type", ["none", "simulated"])
async def test_reconfigure_linked_to_unlinked(
    hass: HomeAssistant, linked_entry: MockConfigEntry, treadmill_type: str
) -> None:
    assert linked_entry.state is ConfigEntryState.LOADED
    result = await _start_reconfigure(hass, linked_entry)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**WALKER_INPUT, CONF_TREADMILL_TYPE: treadmill_type}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(linked_entry.data) == {
        CONF_NAME: "Gym treadmill",
        **WALKER_INPUT,
        CONF_TREADMILL_TYPE: treadmill_type,
    }
    assert linked_entry.title == "Gym treadmill"
    assert linked_entry.unique_id == "gym_treadmill"
    assert dict(linked_entry.options) == STATION_OPTIONS
    # Reloaded with the new treadmill.
    assert linked_entry.state is ConfigEntryState.LOADED


async def test_reconfigure_unlinked_to_linked(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
    treadmill_helpers: None,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await _start_reconfigure(hass, mock_config_entry)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**WALKER_INPUT, CONF_TREADMILL_TYPE: "linked"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {}
    assert _defaults(result) == {}
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
        **WALKER_INPUT,
        CONF_TREADMILL_TYPE: "linked",
        CONF_SPEED_SENSOR: "input_number.belt_speed",
        CONF_PAUSE_CONTROL: "input_boolean.belt_running",
    }
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reconfigure_linked_keeps_defaults_and_drops_cleared_fields(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    result = await _start_reconfigure(hass, linked_entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**WALKER_INPUT, CONF_TREADMILL_TYPE: "linked"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    # The entry's entities are offered: required fields as defaults, optional
    # ones as suggestions so that they can be cleared.
    assert _defaults(result) == {
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
        **WALKER_INPUT,
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
        result["flow_id"], {**WALKER_INPUT, CONF_TREADMILL_TYPE: "linked"}
    )
    bad_input = {**LINKED_INPUT, CONF_PAUSE_CONTROL: "switch.no_such_pause"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], bad_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {CONF_PAUSE_CONTROL: "entity_not_found"}
    # What was entered is offered again, not the entry's entities.
    assert _defaults(result)[CONF_PAUSE_CONTROL] == "switch.no_such_pause"
    # Nothing changed yet.
    assert dict(linked_entry.data) == LINKED_DATA

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(linked_entry.data) == {**LINKED_DATA, **WALKER_INPUT}
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
        result["flow_id"], {**WALKER_INPUT, CONF_TREADMILL_TYPE: "linked"}
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(LINKED_INPUT)
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked"
    assert result["errors"] == {CONF_SPEED_SENSOR: "treadmill_already_linked"}
    assert dict(mock_config_entry.data) == STATION_DATA


# --- options -------------------------------------------------------------------


async def test_options_flow(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert _defaults(result) == {**STATION_OPTIONS, "stop_confirm_seconds": 5.0}

    new_options = {
        CONF_WARM_UP_MINUTES: 5.0,
        CONF_COOL_DOWN_MINUTES: 0.0,
        CONF_FORWARD_SPEED: 2.5,
        "stop_confirm_seconds": 8.0,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], new_options
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == new_options
    assert dict(init_integration.options) == new_options
    assert dict(init_integration.data) == STATION_DATA
    assert init_integration.state is ConfigEntryState.LOADED


async def test_options_flow_defaults_without_options(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hallway",
        unique_id="hallway",
        data={**STATION_DATA, CONF_NAME: "Hallway", CONF_TREADMILL_TYPE: "none"},
    )
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert _defaults(result) == {
        CONF_WARM_UP_MINUTES: DEFAULT_WARM_UP_MINUTES,
        CONF_COOL_DOWN_MINUTES: DEFAULT_COOL_DOWN_MINUTES,
        CONF_FORWARD_SPEED: DEFAULT_FORWARD_SPEED,
    }


@pytest.mark.parametrize(
    ("experience", "stored", "default", "cap"),
    [
        ("beginner", 5.0, 3.2, 3.2),
        ("intermediate", 5.0, 4.8, 4.8),
        ("advanced", 5.0, 5.0, 5.8),
        ("beginner", 2.5, 2.5, 3.2),
    ],
)
async def test_options_forward_speed_capped_by_experience(
    hass: HomeAssistant,
    mock_setup_entry: AsyncMock,
    experience: str,
    stored: float,
    default: float,
    cap: float,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        unique_id="living_room",
        data={**STATION_DATA, CONF_EXPERIENCE: experience},
        options={**STATION_OPTIONS, CONF_FORWARD_SPEED: stored},
    )
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert _defaults(result)[CONF_FORWARD_SPEED] == default
    assert _selector_max(result, CONF_FORWARD_SPEED) == cap

    # A speed above the cap is refused by the form.
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**STATION_OPTIONS, CONF_FORWARD_SPEED: cap + 0.5}
        )

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**STATION_OPTIONS, CONF_FORWARD_SPEED: cap}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_FORWARD_SPEED] == cap
