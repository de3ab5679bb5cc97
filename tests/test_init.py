"""Setup, unload and services of Retro Walk."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .common import async_call


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

    hass.config_entries.async_update_entry(
        init_integration, options={**init_integration.options, "warm_up_minutes": 0}
    )
    await hass.async_block_till_done()
    coordinator = init_integration.runtime_data.coordinator
    await async_call(hass, "start_session")
    assert coordinator.session is not None
    assert coordinator.session.state == "backward"
