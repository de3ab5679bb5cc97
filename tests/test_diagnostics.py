"""Diagnostics of a station."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.retro_walk.const import DOMAIN
from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    await hass.services.async_call(DOMAIN, "start_session", {}, blocking=True)
    result = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert result["entry"]["title"] == REDACTED
    assert result["entry"]["data"]["name"] == REDACTED
    assert result["entry"]["data"]["body_mass"] == REDACTED
    assert result["entry"]["data"]["experience"] == "beginner"
    assert result["session"]["body_mass"] == REDACTED
    assert result["session"]["state"] == "warm_up"
    assert result["status"]["target_speed"] == 3.0
    assert result["treadmill"]["type"] == "SimulatedTreadmill"
    assert result["history"] == {"sessions": 0, "unreadable": 0, "recent": []}
