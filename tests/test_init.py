"""Setup, unload and services of Retro Walk."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk import async_migrate_entry
from custom_components.retro_walk.const import CONF_TREADMILL_TYPE, DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from .common import STATION_DATA, async_call, form_defaults


async def test_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    entities = er.async_entries_for_config_entry(
        er.async_get(hass), init_integration.entry_id
    )
    assert len(entities) >= 10
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED


async def test_options_change_reloads_the_station(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """New options apply to the next session; unrelated updates don't reload."""
    coordinator = init_integration.runtime_data.coordinator
    hass.config_entries.async_update_entry(init_integration, title="Living room 2")
    await hass.async_block_till_done()
    assert init_integration.runtime_data.coordinator is coordinator
    # No update listener: Home Assistant 2026.12 refuses one next to a flow
    # that reloads by itself (OptionsFlowWithReload, reconfigure).
    assert init_integration.update_listeners == []

    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form_defaults(result), "warm_up_minutes": 0.0}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form_defaults(result)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.coordinator is not coordinator
    coordinator = init_integration.runtime_data.coordinator
    await async_call(hass, "start_session")
    assert coordinator.session is not None
    assert coordinator.session.state == "backward"


@pytest.mark.parametrize(
    ("data", "old_id", "keeps_id"),
    [
        ({**STATION_DATA, CONF_NAME: "Hallway"}, "hallway", False),
        (
            {
                **STATION_DATA,
                CONF_TREADMILL_TYPE: "ftms",
                CONF_ADDRESS: "AA:BB:CC:DD:EE:01",
            },
            "AA:BB:CC:DD:EE:01",
            True,
        ),
    ],
)
async def test_migration_gives_named_stations_a_random_unique_id(
    hass: HomeAssistant, data: dict[str, Any], old_id: str, keeps_id: bool
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=data[CONF_NAME],
        unique_id=old_id,
        data=data,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    # Only the migration is under test here: don't set the station up.
    assert await async_migrate_entry(hass, entry)
    assert entry.minor_version == 3
    if keeps_id:
        assert entry.unique_id == old_id
    else:
        assert entry.unique_id != old_id
        assert re.fullmatch(r"[0-9a-f]{32}", str(entry.unique_id))
    # 1.2 -> 1.3: the walker fields became the station's first walker.
    assert dict(entry.data) == {
        k: v
        for k, v in data.items()
        if k not in ("body_mass", "experience", "weekly_goal")
    }
    (walker,) = entry.subentries.values()
    assert walker.title == "Walker"
    assert dict(walker.data) == {
        "body_mass": 70.0,
        "experience": "beginner",
        "weekly_goal": 60,
    }


async def test_entry_from_a_newer_version_is_refused(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hallway",
        unique_id="hallway",
        data={**STATION_DATA, CONF_NAME: "Hallway"},
        version=2,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.unique_id == "hallway"
