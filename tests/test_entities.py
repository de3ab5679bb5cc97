"""Every entity of a station, as a snapshot."""

from __future__ import annotations

from collections import Counter
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.retro_walk.sensor import SENSORS
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EVENT_STATE_CHANGED, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .common import async_call, async_load_entry, async_tick


@pytest.mark.parametrize(
    "platform",
    [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.EVENT,
        Platform.NUMBER,
        Platform.SELECT,
        Platform.SENSOR,
        Platform.SWITCH,
    ],
)
@pytest.mark.freeze_time("2026-11-18 10:00:00+00:00")
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Names, unique ids, classes, units and idle states of each platform."""
    with patch("custom_components.retro_walk.PLATFORMS", [platform]):
        await async_load_entry(hass, mock_config_entry)
    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


def test_every_numeric_sensor_has_a_display_precision() -> None:
    """Without one, the frontend shows raw floats (a streak of "3.00 d")."""
    missing = [
        description.key
        for description in SENSORS
        if description.device_class
        not in (SensorDeviceClass.ENUM, SensorDeviceClass.TIMESTAMP)
        and description.suggested_display_precision is None
    ]
    assert missing == []


async def test_ticking_writes_only_what_the_dashboard_shows(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A moving session ticks every second; states change only when shown.

    Durations show tenths of a minute (a write every 6 s, not every second),
    and the planned end is a timestamp dashboards count down to by themselves.
    """
    await async_load_entry(hass, mock_config_entry)
    writes: Counter[str] = Counter()

    @callback
    def count(event: Event[EventStateChangedData]) -> None:
        writes[event.data["entity_id"]] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, count)
    await async_call(hass, "start_session")
    ends = hass.states.get("sensor.living_room_session_ends").state
    started = hass.states.get("sensor.living_room_session_started").state
    writes.clear()
    await async_tick(hass, freezer, 60)
    assert 8 <= writes["sensor.living_room_elapsed_time"] <= 11
    assert 8 <= writes["sensor.living_room_time_remaining"] <= 11
    # Neither timestamp moves while the plan holds.
    assert writes["sensor.living_room_session_ends"] == 0
    assert writes["sensor.living_room_session_started"] == 0
    assert hass.states.get("sensor.living_room_session_ends").state == ends
    assert hass.states.get("sensor.living_room_session_started").state == started
    # Every write of the station in that minute, all entities together.
    assert sum(writes.values()) < 120
    # A pause ends the plan: no end time while halted.
    await async_call(hass, "pause_session")
    assert hass.states.get("sensor.living_room_session_ends").state == "unknown"
