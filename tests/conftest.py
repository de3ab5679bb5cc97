"""Fixtures for Retro Walk tests."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import PropertyMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from .common import (
    LINKED_DATA,
    STATION_DATA,
    async_add_station,
    async_load_entry,
    station_entry,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load the integration from custom_components."""
    return


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """A simulated-treadmill station."""
    return station_entry(
        STATION_DATA,
        unique_id="0b7e6a3c1f2d4e5a9b8c7d6e5f4a3b2c",
        entry_id="01JRWSTATION00000000000000",
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the simulated station."""
    await async_load_entry(hass, mock_config_entry)
    return mock_config_entry


@pytest.fixture
async def treadmill_helpers(hass: HomeAssistant) -> None:
    """A real treadmill made of helpers: speed, running switch and stop script."""
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "belt_speed": {
                    "min": 0,
                    "max": 8,
                    "step": 0.1,
                    "unit_of_measurement": "km/h",
                },
                "mph_speed": {
                    "min": 0,
                    "max": 5,
                    "step": 0.1,
                    "unit_of_measurement": "mph",
                },
            }
        },
    )
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"belt_running": {}}}
    )
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "stop_belt": {
                    "sequence": [
                        {
                            "action": "input_boolean.turn_off",
                            "target": {"entity_id": "input_boolean.belt_running"},
                        },
                        {
                            "action": "input_number.set_value",
                            "target": {"entity_id": "input_number.belt_speed"},
                            "data": {"value": 0},
                        },
                    ]
                },
                "broken_pause": {"sequence": [{"action": "nothing.here"}]},
            }
        },
    )
    await hass.async_block_till_done()


@pytest.fixture
async def linked_entry(hass: HomeAssistant, treadmill_helpers: None) -> MockConfigEntry:
    """A station linked to the helper treadmill, set up."""
    return await async_add_station(hass, LINKED_DATA, unique_id="gym_treadmill")


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (registry ids masked)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
