"""The belt must be seen at rest after every pause and stop.

Linked treadmills are real Home Assistant helpers; the simulated belt ramps
down like a real one. A treadmill that takes a command but keeps running is
caught, reported on the event bus, as an event entity and as a repair issue.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.retro_walk.const import DOMAIN, EVENT_TREADMILL_DID_NOT_STOP
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .common import (
    LINKED_DATA,
    STATION_OPTIONS,
    async_add_station,
    async_call,
    async_tick,
)

SPEED = "input_number.belt_speed"


async def _set_speed(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": SPEED, "value": value}, blocking=True
    )


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"treadmill_did_not_stop_{entry.entry_id}"
    )


async def test_simulated_treadmill_stops_in_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 5)
    await async_call(hass, "pause_session")
    await async_tick(hass, freezer, 10)
    assert events == []
    assert _issue(hass, init_integration) is None
    assert hass.states.get("event.living_room_treadmill").state == STATE_UNKNOWN


async def test_linked_treadmill_that_ignores_pause_is_reported(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The pause control "works" but the belt keeps running: alert after 5 s."""
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await async_call(hass, "pause_session")
    assert hass.states.get("input_boolean.belt_running").state == "off"
    # The speed sensor still reads 3 km/h: the command was silently ignored.
    await async_tick(hass, freezer, 4)
    assert events == []
    await async_tick(hass, freezer, 1)
    assert len(events) == 1
    assert events[0].data == {
        "config_entry_id": linked_entry.entry_id,
        "station": "Gym treadmill",
        "reason": "pause",
        "speed": 3.0,
        "timeout": 5.0,
    }
    issue = _issue(hass, linked_entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.CRITICAL
    state = hass.states.get("event.gym_treadmill_treadmill")
    assert state.attributes["event_type"] == "did_not_stop"
    assert state.attributes["reason"] == "pause"

    # Once the belt is seen at rest after the next command, the issue goes.
    await async_call(hass, "resume_session")
    await async_call(hass, "pause_session")
    await _set_speed(hass, 0)
    await async_tick(hass, freezer, 6)
    assert len(events) == 1
    assert _issue(hass, linked_entry) is None


async def test_linked_treadmill_stop_script_is_confirmed(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The stop script sets the speed to 0: the standstill is confirmed."""
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await async_call(hass, "stop_session")
    assert float(hass.states.get(SPEED).state) == 0
    await async_tick(hass, freezer, 10)
    assert events == []


async def test_treadmill_resumed_before_the_deadline_is_not_reported(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await async_call(hass, "pause_session")
    await async_tick(hass, freezer, 2)
    await async_call(hass, "resume_session")
    await async_tick(hass, freezer, 10)
    assert events == []


@pytest.mark.parametrize("seconds", [2, 12])
async def test_treadmill_standstill_time_is_configurable(
    hass: HomeAssistant,
    treadmill_helpers: None,
    freezer: FrozenDateTimeFactory,
    seconds: int,
) -> None:
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    entry = await async_add_station(
        hass,
        LINKED_DATA,
        options={**STATION_OPTIONS, "stop_confirm_seconds": seconds},
    )
    await async_call(hass, "start_session", config_entry_id=entry.entry_id)
    await async_call(hass, "pause_session", config_entry_id=entry.entry_id)
    await async_tick(hass, freezer, seconds - 1)
    assert events == []
    await async_tick(hass, freezer, 1)
    assert len(events) == 1


async def test_treadmill_without_reading_cannot_confirm(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """An unknown belt speed is not a standstill: alert."""
    events: list[Any] = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await async_call(hass, "pause_session")
    hass.states.async_set(SPEED, STATE_UNKNOWN)
    await async_tick(hass, freezer, 5)
    assert events[0].data["speed"] is None


async def test_failed_treadmill_pause_command_alerts_after_the_deadline(
    hass: HomeAssistant, treadmill_helpers: None, freezer: FrozenDateTimeFactory
) -> None:
    """The pause control raises: the belt keeps running, the partner hears of it."""
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    entry = await async_add_station(
        hass,
        {**LINKED_DATA, "name": "Broken", "pause_control": "script.broken_pause"},
    )
    await async_call(hass, "start_session", config_entry_id=entry.entry_id)
    with pytest.raises(Exception, match="did not take"):
        await async_call(hass, "pause_session", config_entry_id=entry.entry_id)
    await async_tick(hass, freezer, 5)
    assert len(events) == 1
    assert _issue(hass, entry) is not None
