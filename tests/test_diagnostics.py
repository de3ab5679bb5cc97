"""Diagnostics of a station."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant

from .common import STATION_DATA, STATION_OPTIONS, async_add_station, async_call


async def test_diagnostics_are_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    hass.config_entries.async_update_subentry(
        init_integration,
        init_integration.subentries["walker_ana"],
        data={**init_integration.subentries["walker_ana"].data, "person": "person.ana"},
    )
    await async_call(hass, "start_session")
    await async_call(hass, "stop_session")
    await async_call(hass, "start_session")
    result = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert result["entry"]["title"] == REDACTED
    assert result["entry"]["data"]["name"] == REDACTED
    (walker,) = result["walkers"]
    assert walker["walker_id"] == "walker_ana"
    assert walker["title"] == REDACTED
    assert walker["data"]["body_mass"] == REDACTED
    assert walker["data"]["person"] == REDACTED
    assert walker["data"]["experience"] == "beginner"
    assert walker["records"] == 1
    assert result["session"]["body_mass"] == REDACTED
    assert result["session"]["walker"] == REDACTED
    assert result["session"]["walker_id"] == "walker_ana"
    assert result["session"]["state"] == "warm_up"
    assert result["status"]["target_speed"] == 3.0
    assert result["treadmill"]["type"] == "SimulatedTreadmill"
    assert result["history"]["sessions"] == 1
    (record,) = result["history"]["recent"]
    assert record["walker"] == REDACTED
    assert "Ana" not in str(result)


async def test_diagnostics_redact_the_webhook(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
) -> None:
    """The webhook id is a secret: redacted; the motion figures are there."""
    entry = await async_add_station(
        hass,
        STATION_DATA,
        options={**STATION_OPTIONS, "webhook_enabled": True, "webhook_id": "secret-id"},
    )
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert result["entry"]["options"]["webhook_id"] == REDACTED
    assert "secret-id" not in str(result)
    motion = result["safety"]["motion"]
    assert motion == {
        "enabled": True,
        "active": False,
        "calibrated": False,
        "messages": 0,
        "samples": 0,
        "rejected": {},
    }
    assert result["safety"]["alert"] is None


async def test_diagnostics_redact_notify_targets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
) -> None:
    """Notify services name people and their phones: redacted."""
    targets = {
        "partner_targets": ["notify.mobile_app_ana_s_phone"],
        "escalation_targets": ["notify.mobile_app_dr_garcia"],
        "walker_targets": ["notify.mobile_app_luis"],
    }
    entry = await async_add_station(
        hass, STATION_DATA, options={**STATION_OPTIONS, **targets}
    )
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    for key in targets:
        assert result["entry"]["options"][key] == REDACTED
    for name in ("ana_s_phone", "dr_garcia", "mobile_app_luis"):
        assert name not in str(result)
