"""History that survives restarts and damaged storage."""

from __future__ import annotations

import copy
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk.const import DOMAIN
from custom_components.retro_walk.history import SAVE_DELAY
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from .common import (
    RECORD,
    STATION_DATA,
    async_add_station,
    async_call,
    async_history,
    async_load_entry,
    async_tick,
    history_file,
)

STATE = "sensor.living_room_session_state"
BELT = "sensor.living_room_belt_speed"


def _key(entry: MockConfigEntry) -> str:
    return f"{DOMAIN}.{entry.entry_id}"


async def test_restart_mid_session(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant stops mid-session: it comes back interrupted, belt still."""
    hass_storage[_key(mock_config_entry)] = history_file({"sessions": [RECORD]})
    await async_load_entry(hass, mock_config_entry)
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 10)
    assert float(hass.states.get(BELT).state) == 3.0

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    stored = copy.deepcopy(hass_storage[_key(mock_config_entry)])
    assert stored["data"]["active"]["state"] == "interrupted"
    # The station's one walker owns what was stored before walker profiles.
    assert stored["data"]["sessions"] == [
        {
            **RECORD,
            "safety_events": [],
            "walker_id": "walker_ana",
            "walker": "Ana",
            "laps": [],
            "pause_log": [],
        }
    ]

    # Start again from what was stored.
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    hass_storage[_key(mock_config_entry)] = stored
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "interrupted"
    await async_tick(hass, freezer, 10)
    assert float(hass.states.get(BELT).state) == 0.0
    assert hass.states.get(STATE).state == "interrupted"
    coordinator = mock_config_entry.runtime_data.coordinator
    assert coordinator.data.forward_time == 10
    assert [record.session_id for record in coordinator.records] == ["a1"]

    # Stopping records it next to the old session.
    await async_call(hass, "stop_session")
    response = await async_history(hass)
    assert [item["end_reason"] for item in response["sessions"]] == [
        "stopped",
        "completed",
    ]


async def test_a_running_session_is_saved_every_ten_seconds(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A crash (kill -9) loses at most SAVE_DELAY of a running session.

    The station asks for a save every second; those requests used to postpone
    the delayed write forever, so nothing after the start was ever stored.
    """
    await async_load_entry(hass, mock_config_entry)
    await async_call(hass, "start_session")
    session = mock_config_entry.runtime_data.coordinator.session
    assert session is not None
    for _ in range(40):
        await async_tick(hass, freezer, 1)
        stored = hass_storage[_key(mock_config_entry)]["data"]["active"]
        # What is on disk is never more than one save period (plus the tick
        # that asked for it) behind the walking done.
        lag = session.metrics.active_time - stored["metrics"]["active_time"]
        assert lag <= SAVE_DELAY + 1, lag
    assert session.metrics.active_time >= 39


async def test_crash_mid_session(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Stored as moving (no clean stop): restored as interrupted."""
    await async_load_entry(hass, mock_config_entry)
    await async_call(hass, "start_session")
    stored = copy.deepcopy(hass_storage[_key(mock_config_entry)])
    assert stored["data"]["active"]["state"] == "warm_up"
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    hass_storage[_key(mock_config_entry)] = stored
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "interrupted"
    assert mock_config_entry.runtime_data.treadmill.target == 0.0


async def test_damaged_records_are_kept_and_reported(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
) -> None:
    bad = {"session_id": "b2", "program": "moonwalk"}
    other_key = f"{DOMAIN}.other_station"
    other = history_file({"sessions": [RECORD]})
    hass_storage[other_key] = copy.deepcopy(other)
    hass_storage[_key(mock_config_entry)] = history_file(
        {
            "sessions": [RECORD, bad, "garbage"],
            "active": {"state": "backward"},
            "settings": ["not", "a", "dict"],
        }
    )
    await async_load_entry(hass, mock_config_entry)

    coordinator = mock_config_entry.runtime_data.coordinator
    assert [record.session_id for record in coordinator.records] == ["a1"]
    assert hass.states.get(STATE).state == "idle"
    assert issue_registry.async_get_issue(
        DOMAIN, f"records_unreadable_{mock_config_entry.entry_id}"
    )
    await async_call(hass, "start_session")
    await async_call(hass, "stop_session")
    saved = hass_storage[_key(mock_config_entry)]["data"]
    assert len(saved["sessions"]) == 2
    assert saved["unreadable"] == [bad, "garbage", {"active": {"state": "backward"}}]
    assert hass_storage[other_key] == other


async def test_unreadable_file_is_set_aside(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A file that cannot be read is moved aside and a fresh history starts."""
    with (
        patch(
            "custom_components.retro_walk.history.RetroWalkStore.async_load",
            side_effect=HomeAssistantError("permission denied"),
        ),
        patch("custom_components.retro_walk.history.os.replace") as replace,
    ):
        await async_load_entry(hass, mock_config_entry)
    assert replace.call_count == 1
    issue = issue_registry.async_get_issue(
        DOMAIN, f"storage_unreadable_{mock_config_entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders["path"].startswith(replace.call_args[0][1])
    assert hass.states.get(STATE).state == "idle"


async def test_the_unreadable_repair_goes_after_a_good_load(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    with (
        patch(
            "custom_components.retro_walk.history.RetroWalkStore.async_load",
            side_effect=HomeAssistantError("permission denied"),
        ),
        patch("custom_components.retro_walk.history.os.replace"),
    ):
        await async_load_entry(hass, mock_config_entry)
    issue_id = f"storage_unreadable_{mock_config_entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id)
    # The new history reads fine at the next start: the repair is done.
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_history_from_a_newer_version_is_left_untouched(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A downgrade: the station runs, the newer file is never written over."""
    newer = {
        "version": 2,
        "minor_version": 1,
        "key": _key(mock_config_entry),
        "data": {"sessions": [RECORD], "walkers": ["from the future"]},
    }
    hass_storage[_key(mock_config_entry)] = copy.deepcopy(newer)
    await async_load_entry(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    issue = issue_registry.async_get_issue(
        DOMAIN, f"storage_newer_version_{mock_config_entry.entry_id}"
    )
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 15)
    await async_call(hass, "stop_session")
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    assert hass_storage[_key(mock_config_entry)] == newer


async def test_unmovable_file_is_never_overwritten(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """If the unreadable file cannot even be moved, nothing writes over it."""
    hass_storage[_key(mock_config_entry)] = ["not", "an", "object"]
    with patch(
        "custom_components.retro_walk.history.RetroWalkStore.async_load",
        return_value=["not", "an", "object"],
    ):
        await async_load_entry(hass, mock_config_entry)
    await async_call(hass, "start_session")
    await async_call(hass, "stop_session")
    assert hass_storage[_key(mock_config_entry)] == ["not", "an", "object"]


async def test_older_layout_is_migrated(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    stored = history_file({"sessions": [RECORD]})
    stored["minor_version"] = 0
    hass_storage[_key(mock_config_entry)] = stored
    await async_load_entry(hass, mock_config_entry)
    assert len(mock_config_entry.runtime_data.coordinator.records) == 1
    assert hass_storage[_key(mock_config_entry)]["minor_version"] == 1


async def test_settings_survive_a_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.living_room_program", "option": "ratio"},
        blocking=True,
    )
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("select.living_room_program").state == "ratio"


async def test_removing_the_station_deletes_its_history(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await async_call(hass, "start_session")
    await async_call(hass, "stop_session")
    assert _key(init_integration) in hass_storage
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert _key(init_integration) not in hass_storage


async def test_second_station_is_independent(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    other = await async_add_station(
        hass,
        {**STATION_DATA, "name": "Hallway", "treadmill_type": "none"},
        unique_id="hallway",
    )
    await async_call(hass, "start_session", config_entry_id=other.entry_id)
    await async_call(hass, "stop_session", config_entry_id=other.entry_id)
    assert len(hass_storage[_key(other)]["data"]["sessions"]) == 1
    assert init_integration.runtime_data.coordinator.records == []
