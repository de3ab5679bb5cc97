"""A treadmill already in Home Assistant, made of real helper entities."""

from __future__ import annotations

import copy
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .common import LINKED_DATA, async_add_station, async_call, async_tick

SPEED = "input_number.belt_speed"
RUNNING = "input_boolean.belt_running"
STATE = "sensor.gym_treadmill_session_state"
BELT = "sensor.gym_treadmill_belt_speed"


async def test_treadmill_follows_the_program(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Warm-up at forward speed, backward at the capped speed, stop at the end."""
    assert hass.states.get(BELT).state == "0.0"
    await async_call(hass, "start_session", program="custom", backward_minutes=1)
    assert hass.states.get(RUNNING).state == STATE_ON
    assert float(hass.states.get(SPEED).state) == 3.0
    assert float(hass.states.get(BELT).state) == 3.0

    await async_tick(hass, freezer, 61)
    assert hass.states.get(STATE).state == "backward"
    assert float(hass.states.get(SPEED).state) == 2.0  # beginner default

    await async_call(hass, "pause_session")
    assert hass.states.get(RUNNING).state == STATE_OFF
    await async_call(hass, "resume_session")
    assert hass.states.get(RUNNING).state == STATE_ON
    assert float(hass.states.get(SPEED).state) == 2.0

    await async_call(hass, "stop_session")
    # The stop script switched the belt off and set the speed to 0.
    assert hass.states.get(RUNNING).state == STATE_OFF
    assert float(hass.states.get(SPEED).state) == 0.0
    assert hass.states.get(STATE).state == "idle"


async def test_distance_uses_the_measured_belt_speed(
    hass: HomeAssistant, linked_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The belt runs slower than asked: distance follows what it measures."""
    await async_call(hass, "start_session", program="custom", backward_minutes=1)
    await async_tick(hass, freezer, 60)
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": SPEED, "value": 1.8}, blocking=True
    )
    await async_tick(hass, freezer, 60)
    coordinator = linked_entry.runtime_data.coordinator
    assert coordinator.data.backward_distance == pytest.approx(1.8 / 3.6 * 60, rel=0.05)


async def test_unavailable_treadmill_refuses_to_start(
    hass: HomeAssistant, linked_entry: MockConfigEntry
) -> None:
    hass.states.async_set(SPEED, STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert hass.states.get(BELT).state == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError) as err:
        await async_call(hass, "start_session")
    assert err.value.translation_key == "treadmill_unavailable"
    assert hass.states.get(STATE).state == "idle"


async def test_failing_pause_control_is_reported(
    hass: HomeAssistant, treadmill_helpers: None
) -> None:
    """A pause control that fails raises, and the session still counts as paused."""
    await async_add_station(
        hass,
        {**LINKED_DATA, "name": "Broken", "pause_control": "script.broken_pause"},
        unique_id="broken",
    )
    await async_call(hass, "start_session")
    with pytest.raises(HomeAssistantError) as err:
        await async_call(hass, "pause_session")
    assert err.value.translation_key == "treadmill_command_failed"
    assert hass.states.get("sensor.broken_session_state").state == "paused"


async def test_speed_in_miles_per_hour(
    hass: HomeAssistant, treadmill_helpers: None
) -> None:
    """A treadmill that works in mph gets mph and reports km/h."""
    entry = await async_add_station(
        hass,
        {
            **LINKED_DATA,
            "name": "Imperial",
            "speed_sensor": "input_number.mph_speed",
            "speed_control": "input_number.mph_speed",
        },
        unique_id="imperial",
    )
    await async_call(hass, "start_session", config_entry_id=entry.entry_id)
    assert float(hass.states.get("input_number.mph_speed").state) == pytest.approx(
        1.9, abs=0.05
    )
    assert float(hass.states.get("sensor.imperial_belt_speed").state) == pytest.approx(
        3.0, abs=0.1
    )


async def test_restored_session_holds_a_running_belt(
    hass: HomeAssistant,
    linked_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """After a crash mid-session the belt is paused, never restarted."""
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 3)
    await linked_entry.runtime_data.history.async_save()
    key = f"retro_walk.{linked_entry.entry_id}"
    at_crash = copy.deepcopy(hass_storage[key])
    assert at_crash["data"]["active"]["state"] == "warm_up"
    # The process dies: what was on disk is all that is left, the belt runs.
    await hass.config_entries.async_unload(linked_entry.entry_id)
    hass_storage[key] = at_crash
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": RUNNING}, blocking=True
    )
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": SPEED, "value": 3.0}, blocking=True
    )
    await hass.config_entries.async_setup(linked_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(RUNNING).state == STATE_OFF
    assert hass.states.get(STATE).state == "interrupted"
    await async_tick(hass, freezer, 5)
    assert hass.states.get(RUNNING).state == STATE_OFF
    # Resuming is the walker's decision, and it restarts the belt.
    await async_call(hass, "resume_session")
    assert hass.states.get(RUNNING).state == STATE_ON
