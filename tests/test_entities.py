"""Every entity of a station, as a snapshot."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.retro_walk.sensor import SENSORS
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .common import async_load_entry


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
        if description.device_class is not SensorDeviceClass.ENUM
        and description.suggested_display_precision is None
    ]
    assert missing == []
