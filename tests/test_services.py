"""Sessions driven through the services, the switch, the buttons and time."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .common import (
    STATION_DATA,
    async_add_station,
    async_call,
    async_history,
    async_tick,
)

STATE = "sensor.living_room_session_state"
PHASE = "sensor.living_room_phase"
BELT = "sensor.living_room_belt_speed"
SWITCH = "switch.living_room_session"
ACTIVE = "binary_sensor.living_room_session_active"


async def test_session_runs_through_its_program(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An empty start call runs the selected program from warm-up to finish."""
    assert hass.states.get(STATE).state == "idle"
    assert hass.states.get(SWITCH).state == STATE_OFF
    await async_call(hass, "start_session")
    assert hass.states.get(STATE).state == "warm_up"
    assert hass.states.get(PHASE).state == "warm_up"
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(ACTIVE).state == STATE_ON

    await async_tick(hass, freezer, 5)
    assert float(hass.states.get(BELT).state) == 3.0  # forward speed, ramped up
    await async_tick(hass, freezer, 60)  # one minute of warm-up
    assert hass.states.get(STATE).state == "backward"
    await async_tick(hass, freezer, 5)
    # Starter program: beginners go backwards at 2.0 km/h at most 2.4.
    assert float(hass.states.get(BELT).state) == 2.0

    await async_tick(hass, freezer, 120 + 60)  # two backward minutes and cool-down
    assert hass.states.get(STATE).state == "idle"
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert float(hass.states.get("sensor.ana_backward_minutes_this_week").state) == 2.0
    assert hass.states.get("sensor.ana_sessions_this_week").state == "1"
    assert hass.states.get("sensor.ana_streak").state == "1"
    # Completed and steady: grow from 2 to 2.5 minutes.
    assert (
        float(hass.states.get("sensor.ana_next_suggested_backward_minutes").state)
        == 2.5
    )

    response = await async_history(hass)
    (record,) = response["sessions"]
    assert record["end_reason"] == "completed"
    assert record["program"] == "starter"
    assert record["backward_minutes"] == 2.0
    assert record["station"] == "Living room"
    assert record["backward_distance"] > 60  # about 2 km/h for 2 minutes
    assert record["energy"] > 0

    await async_tick(hass, freezer, 5)  # the belt has come to rest
    assert float(hass.states.get(BELT).state) == 0.0


async def test_pause_resume_stop(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Buttons pause and resume, the switch stops and records the session."""
    await async_call(
        hass, "start_session", program="custom", backward_minutes=5, speed=2.5
    )
    await async_tick(hass, freezer, 70)
    assert hass.states.get(STATE).state == "backward"
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.living_room_pause"}, blocking=True
    )
    assert hass.states.get(STATE).state == "paused"
    assert hass.states.get(PHASE).state == "backward"
    await async_tick(hass, freezer, 5)
    assert float(hass.states.get(BELT).state) == 0.0
    elapsed_backward = hass.states.get("sensor.living_room_backward_time").state
    await async_tick(hass, freezer, 30)
    assert hass.states.get("sensor.living_room_backward_time").state == elapsed_backward

    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.living_room_resume"}, blocking=True
    )
    assert hass.states.get(STATE).state == "backward"
    await async_tick(hass, freezer, 5)
    assert float(hass.states.get(BELT).state) == 2.5
    assert hass.states.get("sensor.living_room_pauses").state == "1"

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert hass.states.get(STATE).state == "idle"
    response = await async_history(hass, limit=5)
    (record,) = response["sessions"]
    assert record["end_reason"] == "stopped"
    assert record["pauses"] == 1
    assert record["program"] == "custom"


async def test_switch_starts_selected_program(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Turning the switch on starts the program picked in the select."""
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: "select.living_room_program", "option": "intervals"},
        blocking=True,
    )
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.living_room_target_backward_minutes", "value": 4},
        blocking=True,
    )
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    coordinator = init_integration.runtime_data.coordinator
    assert coordinator.session is not None
    assert coordinator.session.program == "intervals"
    assert coordinator.session.target_backward_minutes == 4
    # Turning it on again leaves the session alone.
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert coordinator.session.program == "intervals"
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert coordinator.session is None


async def test_speed_number_is_capped_by_experience(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A beginner's backward speed cannot go past 3.2 km/h."""
    state = hass.states.get("number.living_room_backward_speed")
    assert state.attributes["max"] == 3.2
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: "number.living_room_backward_speed", "value": 4.5},
            blocking=True,
        )
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session", speed=4.0)
    assert err.value.translation_key == "speed_above_cap"


@pytest.mark.parametrize(
    ("service", "key"),
    [
        ("pause_session", "no_active_session"),
        ("resume_session", "no_active_session"),
        ("stop_session", "no_active_session"),
    ],
)
async def test_commands_without_session(
    hass: HomeAssistant, init_integration: MockConfigEntry, service: str, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, service)
    assert err.value.translation_key == key


async def test_invalid_transitions(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await async_call(hass, "start_session")
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session")
    assert err.value.translation_key == "session_already_active"
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "resume_session")
    assert err.value.translation_key == "not_paused"
    await async_call(hass, "pause_session")
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "pause_session")
    assert err.value.translation_key == "not_running"


async def test_station_selection(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With two stations the station must be named; unknown ids are refused."""
    other = await async_add_station(
        hass,
        {**STATION_DATA, "name": "Hallway", "treadmill_type": "none"},
        unique_id="hallway",
    )

    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session")
    assert err.value.translation_key == "station_required"
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session", config_entry_id="nope")
    assert err.value.translation_key == "station_not_found"

    await async_call(hass, "start_session", config_entry_id=other.entry_id)
    assert hass.states.get("sensor.hallway_session_state").state == "warm_up"
    assert hass.states.get(STATE).state == "idle"
    # A hallway station has no belt to show.
    assert hass.states.get("sensor.hallway_belt_speed") is None
    await async_call(hass, "stop_session", config_entry_id=other.entry_id)

    # get_history without a station gathers every station.
    response = await async_history(hass)
    assert [item["station"] for item in response["sessions"]] == ["Hallway"]

    assert await hass.config_entries.async_unload(other.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session", config_entry_id=other.entry_id)
    assert err.value.translation_key == "station_not_loaded"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await async_history(hass)
    assert err.value.translation_key == "no_station"


async def test_service_schema_rejects_bad_values(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    import voluptuous as vol

    for data in ({"program": "sprint"}, {"backward_minutes": 0}, {"speed": "fast"}):
        with pytest.raises(vol.Invalid):
            await async_call(hass, "start_session", **data)
    assert hass.states.get(STATE).state == "idle"


async def test_unload_mid_session_pauses_the_belt(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nobody supervises an unloaded station: the session pauses."""
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 3)
    treadmill = init_integration.runtime_data.treadmill
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert treadmill.target == 0.0
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "paused"
    with pytest.raises(HomeAssistantError):
        await async_call(hass, "pause_session")
