"""The session event entity: a session's start and its summary at the end."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from .common import STATION_DATA, async_add_station, async_call, async_tick
from .instability import WEBHOOK_OPTIONS, async_report, async_stream

SESSION_EVENT = "event.living_room_session"
INSTABILITY_EVENT = "event.living_room_instability"
NO_INSTABILITY = {"pause_now": 0, "confirmed_fall": 0, "unsteady": 0}


async def test_start_fires_started_with_the_program(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Started carries the program and the target backward minutes."""
    state = hass.states.get(SESSION_EVENT)
    assert state.state == STATE_UNKNOWN
    assert state.attributes["event_types"] == ["started", "finished"]

    await async_call(hass, "start_session", program="custom", backward_minutes=3)

    state = hass.states.get(SESSION_EVENT)
    assert state.state != STATE_UNKNOWN  # the time it happened
    assert state.attributes["event_type"] == "started"
    assert state.attributes["program"] == "custom"
    assert state.attributes["target_backward_minutes"] == 3.0
    assert "end_reason" not in state.attributes
    # Only the session entity reports it.
    assert hass.states.get(INSTABILITY_EVENT).state == STATE_UNKNOWN


async def test_switch_start_uses_the_selected_program(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Turning the session switch on starts the selected program: started too."""
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
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: "switch.living_room_session"},
        blocking=True,
    )
    state = hass.states.get(SESSION_EVENT)
    assert state.attributes["event_type"] == "started"
    assert state.attributes["program"] == "intervals"
    assert state.attributes["target_backward_minutes"] == 4.0


async def test_completed_session_fires_finished_with_its_summary(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A program walked to its end: duration, minutes, distance, energy."""
    await async_call(hass, "start_session", program="starter", backward_minutes=2)
    started = hass.states.get(SESSION_EVENT).state
    # One minute of warm-up, two backwards and one of cool-down.
    await async_tick(hass, freezer, 60 + 120 + 60 + 5)
    assert hass.states.get("sensor.living_room_session_state").state == "idle"

    state = hass.states.get(SESSION_EVENT)
    assert state.state != started
    attributes = state.attributes
    assert attributes["event_type"] == "finished"
    assert attributes["program"] == "starter"
    assert attributes["end_reason"] == "completed"
    assert attributes["duration_minutes"] == 4.0
    assert attributes["backward_minutes"] == 2.0
    # About two minutes at 2.0 km/h (the simulated belt ramps up and down).
    assert 55 < attributes["backward_distance_m"] <= 66.7
    assert attributes["energy_kcal"] > 0
    assert attributes["instability_events"] == 0
    assert attributes["instability_tiers"] == NO_INSTABILITY
    assert "target_backward_minutes" not in attributes


async def test_stopped_session_fires_finished(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Stopped early (here by the walker during the warm-up)."""
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 30)
    await async_call(hass, "stop_session")

    attributes = hass.states.get(SESSION_EVENT).attributes
    assert attributes["event_type"] == "finished"
    assert attributes["end_reason"] == "stopped"
    assert attributes["duration_minutes"] == 0.5
    assert attributes["backward_minutes"] == 0.0
    assert attributes["backward_distance_m"] == 0.0
    assert attributes["instability_tiers"] == NO_INSTABILITY


async def test_refused_start_fires_nothing(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A start that is refused (above the speed cap) is no session."""
    with pytest.raises(ServiceValidationError):
        await async_call(hass, "start_session", speed=5)
    assert hass.states.get(SESSION_EVENT).state == STATE_UNKNOWN


async def test_finished_counts_instability_by_tier(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The summary counts the session's instability events by tier."""
    await async_add_station(hass, STATION_DATA, options=WEBHOOK_OPTIONS)
    await async_call(hass, "start_session")
    await async_stream(hass, freezer, hass_client_no_auth, 3)
    await async_report(hass, hass_client_no_auth, 3, "unsteady")
    await async_report(hass, hass_client_no_auth, 1, "spin")
    assert (
        hass.states.get("sensor.living_room_session_state").state == "paused_by_safety"
    )
    await async_call(hass, "stop_session")

    attributes = hass.states.get(SESSION_EVENT).attributes
    assert attributes["event_type"] == "finished"
    assert attributes["end_reason"] == "stopped"
    assert attributes["instability_events"] == 2
    assert attributes["instability_tiers"] == {
        "pause_now": 1,
        "confirmed_fall": 0,
        "unsteady": 1,
    }
