"""Several walkers per station: profiles, who is on the belt, per-walker progress."""

from __future__ import annotations

import copy
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk.const import DOMAIN
from homeassistant.const import CONF_NAME
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .common import (
    RECORD,
    STATION_DATA,
    STATION_OPTIONS,
    async_add_station,
    async_call,
    async_history,
    async_tick,
    history_file,
    walker_subentry,
)

WALKER = "select.living_room_walker"
STATE = "sensor.living_room_session_state"
ANA = walker_subentry("Ana", body_mass=60.0, experience="beginner", weekly_goal=30)
LUIS = walker_subentry("Luis", body_mass=85.0, experience="advanced", weekly_goal=90)


async def _two_walkers(hass: HomeAssistant, **data: Any) -> MockConfigEntry:
    return await async_add_station(
        hass,
        {**STATION_DATA, **data},
        walkers=[copy.deepcopy(ANA), copy.deepcopy(LUIS)],
    )


async def _session(hass: HomeAssistant, walker: str | None, **data: Any) -> None:
    if walker is not None:
        data["walker"] = walker
    await async_call(hass, "start_session", **data)
    await async_call(hass, "stop_session")


async def test_walker_select_lists_the_walkers_and_follows_sessions(
    hass: HomeAssistant,
) -> None:
    await _two_walkers(hass)
    state = hass.states.get(WALKER)
    assert state.attributes["options"] == ["Ana", "Luis"]
    assert state.state == "Ana"  # the first walker until someone chooses

    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": WALKER, "option": "Luis"},
        blocking=True,
    )
    assert hass.states.get(WALKER).state == "Luis"

    # A session for Ana puts her on the belt.
    await async_call(hass, "start_session", walker="ana")
    assert hass.states.get(WALKER).state == "Ana"
    # Nobody else while her session runs.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": WALKER, "option": "Luis"},
            blocking=True,
        )
    assert err.value.translation_key == "walker_session_active"
    await async_call(hass, "stop_session")
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": WALKER, "option": "Luis"},
        blocking=True,
    )
    assert hass.states.get(WALKER).state == "Luis"


async def test_history_per_walker(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await _two_walkers(hass)
    await _session(hass, "Ana")
    await async_tick(hass, freezer, 2)
    await _session(hass, "Luis")
    await async_tick(hass, freezer, 2)
    await _session(hass, None)  # the selected walker: Luis, chosen last

    everyone = (await async_history(hass))["sessions"]
    assert [item["walker"] for item in everyone] == ["Luis", "Luis", "Ana"]
    ana = (await async_history(hass, walker="ANA"))["sessions"]
    assert [item["walker"] for item in ana] == ["Ana"]
    luis = (await async_history(hass, walker="Luis"))["sessions"]
    assert [item["walker"] for item in luis] == ["Luis", "Luis"]
    assert {item["walker_id"] for item in luis} == {"walker_luis"}
    # Each record says how fast it went backwards (None before laps were kept).
    assert all("peak_backward_speed" in item for item in everyone)

    with pytest.raises(ServiceValidationError) as err:
        await async_history(hass, walker="Nobody")
    assert err.value.translation_key == "unknown_walker"


async def test_unknown_walker_is_refused(hass: HomeAssistant) -> None:
    await _two_walkers(hass)
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session", walker="Marta")
    assert err.value.translation_key == "unknown_walker"
    assert err.value.translation_placeholders == {
        "walker": "Marta",
        "station": "Living room",
    }
    assert hass.states.get(STATE).state == "idle"


async def test_caps_and_energy_are_the_walkers_own(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    entry = await _two_walkers(hass)
    coordinator = entry.runtime_data.coordinator
    # Ana is a beginner (3.2 km/h), Luis advanced (5.8 km/h).
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session", walker="Ana", speed=5.0)
    assert err.value.translation_key == "speed_above_cap"
    assert err.value.translation_placeholders == {"speed": "5", "cap": "3.2"}

    await async_call(hass, "start_session", walker="Luis", program="custom", speed=5.0)
    assert coordinator.speed_cap == 5.8
    session = coordinator.session
    assert session.body_mass == 85.0
    assert max(segment.speed for segment in session.segments) == 5.0
    await async_tick(hass, freezer, 30)
    await async_call(hass, "stop_session")

    await async_call(hass, "start_session", walker="Ana", program="custom", speed=3.0)
    session = coordinator.session
    assert session.body_mass == 60.0
    assert max(segment.speed for segment in session.segments) <= 3.2
    await async_call(hass, "stop_session")


async def test_settings_are_per_walker(hass: HomeAssistant) -> None:
    entry = await _two_walkers(hass)
    program = "select.living_room_program"
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": program, "option": "ratio"},
        blocking=True,
    )
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": WALKER, "option": "Luis"},
        blocking=True,
    )
    # Luis has his own program (the default) ...
    assert hass.states.get(program).state == "starter"
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": program, "option": "intervals"},
        blocking=True,
    )
    await hass.services.async_call(
        "select", "select_option", {"entity_id": WALKER, "option": "Ana"}, blocking=True
    )
    # ... and Ana keeps hers.
    assert hass.states.get(program).state == "ratio"
    await async_call(hass, "start_session")
    assert entry.runtime_data.coordinator.session.program == "ratio"


async def test_a_walker_is_on_one_belt_at_a_time(hass: HomeAssistant) -> None:
    living_room = await _two_walkers(hass)
    gym = await async_add_station(
        hass,
        {**STATION_DATA, CONF_NAME: "Gym"},
        walkers=[
            walker_subentry("ANA", subentry_id="gym_ana"),
            walker_subentry("Eva"),
        ],
    )
    await async_call(
        hass, "start_session", config_entry_id=living_room.entry_id, walker="Ana"
    )
    with pytest.raises(ServiceValidationError) as err:
        await async_call(
            hass, "start_session", config_entry_id=gym.entry_id, walker="Ana"
        )
    assert err.value.translation_key == "walker_on_other_station"
    assert err.value.translation_placeholders == {
        "walker": "ANA",
        "station": "Living room",
    }
    # Someone else may use the other belt meanwhile.
    await async_call(hass, "start_session", config_entry_id=gym.entry_id, walker="Eva")
    await async_call(hass, "stop_session", config_entry_id=gym.entry_id)
    # Once Ana's session on the first station ends, she may walk on the gym's.
    await async_call(hass, "stop_session", config_entry_id=living_room.entry_id)
    await async_call(hass, "start_session", config_entry_id=gym.entry_id, walker="Ana")


async def test_linked_persons_are_the_same_walker_whatever_the_name(
    hass: HomeAssistant,
) -> None:
    await async_add_station(
        hass, STATION_DATA, walkers=[walker_subentry("Ana", person="person.ana")]
    )
    gym = await async_add_station(
        hass,
        {**STATION_DATA, CONF_NAME: "Gym"},
        walkers=[walker_subentry("Ana María", subentry_id="gym", person="person.ana")],
    )
    await async_call(hass, "start_session", config_entry_id=_first(hass).entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session", config_entry_id=gym.entry_id)
    assert err.value.translation_key == "walker_on_other_station"


def _first(hass: HomeAssistant) -> MockConfigEntry:
    return next(
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.title == "Living room"
    )


async def test_each_walker_has_a_device_with_progress_sensors(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = await _two_walkers(hass)
    station = device_registry.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    for walker in ("ana", "luis"):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, f"{entry.entry_id}_walker_{walker}"), entry.entry_id
        )
        assert device.name == walker.title()
        assert device.via_device_id == station.id
        assert device.config_subentry_id == f"walker_{walker}"
        entities = er.async_entries_for_device(entity_registry, device.id)
        assert sorted(e.translation_key for e in entities) == [
            "next_backward_minutes",
            "sessions_this_week",
            "streak",
            "weekly_backward_minutes",
            "weekly_goal_progress",
        ]
        minutes = hass.states.get(f"sensor.{walker}_backward_minutes_this_week")
        assert minutes.attributes["state_class"] == "total"
        assert minutes.attributes["last_reset"]
        assert hass.states.get(f"sensor.{walker}_weekly_goal_progress").state == "0.0"
    # Luis walks: only his progress moves.
    await async_call(hass, "start_session", walker="Luis", program="custom")
    await async_tick(hass, freezer, 70)  # warm-up 60 s, then backwards
    await async_call(hass, "stop_session")
    assert hass.states.get("sensor.luis_sessions_this_week").state == "1"
    assert hass.states.get("sensor.ana_sessions_this_week").state == "0"
    assert float(hass.states.get("sensor.luis_backward_minutes_this_week").state) > 0


async def test_session_events_carry_the_walker(hass: HomeAssistant) -> None:
    await _two_walkers(hass)
    events: list[Event] = []
    hass.bus.async_listen("state_changed", events.append)
    await async_call(hass, "start_session", walker="Luis")
    started = hass.states.get("event.living_room_session").attributes
    assert started["event_type"] == "started"
    assert started["walker"] == "Luis"
    assert started["walker_id"] == "walker_luis"
    await async_call(hass, "stop_session")
    finished = hass.states.get("event.living_room_session").attributes
    assert finished["event_type"] == "finished"
    assert finished["walker"] == "Luis"


async def _delete(hass: HomeAssistant, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, "delete_walker_history", data, blocking=True, return_response=True
    )


async def test_delete_walker_history_only_when_asked(hass: HomeAssistant) -> None:
    entry = await _two_walkers(hass)
    await _session(hass, "Ana")
    await _session(hass, "Luis")
    hass.config_entries.async_remove_subentry(entry, "walker_ana")
    await hass.async_block_till_done()
    # Removed, but her sessions are kept (and found by her name).
    assert hass.states.get(WALKER).attributes["options"] == ["Luis"]
    assert len((await async_history(hass, walker="Ana"))["sessions"]) == 1
    assert await _delete(hass, {"walker": "Ana"}) == {"deleted": 1}
    with pytest.raises(ServiceValidationError):
        await async_history(hass, walker="Ana")
    assert [s["walker"] for s in (await async_history(hass))["sessions"]] == ["Luis"]
    assert await _delete(
        hass, {"walker": "Luis", "config_entry_id": entry.entry_id}
    ) == {"deleted": 1}
    # A known walker without sessions: nothing to delete, no error.
    assert await _delete(hass, {"walker": "Luis"}) == {"deleted": 0}
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "delete_walker_history", walker="Nobody")
    assert err.value.translation_key == "unknown_walker"


async def test_station_without_walkers(hass: HomeAssistant) -> None:
    await async_add_station(hass, STATION_DATA, walkers=[])
    state = hass.states.get(WALKER)
    assert state.attributes["options"] == []
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_session")
    assert err.value.translation_key == "no_walker"


async def test_migration_makes_the_station_walker_the_first_profile(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    entity_registry: er.EntityRegistry,
) -> None:
    """A 1.2 station keeps its history, settings and statistics' entity ids."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        unique_id="0b7e6a3c1f2d4e5a9b8c7d6e5f4a3b2c",
        minor_version=2,
        data={**STATION_DATA, "weekly_goal": 45, "experience": "intermediate"},
        options=dict(STATION_OPTIONS),
    )
    entry.add_to_hass(hass)
    old_sensor = entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{entry.entry_id}_weekly_backward_minutes",
        config_entry=entry,
        suggested_object_id="living_room_backward_minutes_this_week",
    )
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = history_file(
        {
            "sessions": [{**RECORD, "session_id": "old1"}],
            "settings": {"program": "ratio", "backward_minutes": 6.0},
        }
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.minor_version == 3
    assert "weekly_goal" not in entry.data
    (walker,) = entry.subentries.values()
    assert walker.title == "Walker"
    assert walker.data["weekly_goal"] == 45
    # The statistics' entity id stays; it is the walker's sensor now.
    moved = entity_registry.async_get(old_sensor.entity_id)
    assert (
        moved.unique_id
        == f"{entry.entry_id}_{walker.subentry_id}_weekly_backward_minutes"
    )
    assert moved.config_subentry_id == walker.subentry_id
    assert hass.states.get(old_sensor.entity_id) is not None
    # The sessions and settings are the walker's.
    (record,) = (await async_history(hass, walker="Walker"))["sessions"]
    assert record["session_id"] == "old1"
    assert record["walker_id"] == walker.subentry_id
    assert hass.states.get("select.living_room_program").state == "ratio"
    assert hass.states.get("number.living_room_target_backward_minutes").state == "6.0"
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]
    assert stored["sessions"][0]["walker_id"] == walker.subentry_id
    assert "program" not in stored["settings"]
    assert stored["settings"]["walkers"][walker.subentry_id]["program"] == "ratio"


async def test_walker_added_while_a_session_runs_needs_no_reload(
    hass: HomeAssistant,
) -> None:
    entry = await async_add_station(hass, STATION_DATA)
    coordinator = entry.runtime_data.coordinator
    await async_call(hass, "start_session")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "walker"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "Luis",
            "body_mass": 80,
            "experience": "advanced",
            "weekly_goal": 60,
        },
    )
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator is coordinator
    assert coordinator.session is not None
    assert coordinator.session.is_moving
    assert hass.states.get(WALKER).attributes["options"] == ["Ana", "Luis"]
    assert hass.states.get("sensor.luis_weekly_goal_progress") is not None


async def test_the_chosen_walker_survives_a_restart(hass: HomeAssistant) -> None:
    entry = await _two_walkers(hass)
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": WALKER, "option": "Luis"},
        blocking=True,
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(WALKER).state == "Luis"


async def test_a_session_cut_off_before_walker_profiles_is_the_first_walkers(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A 1.2 station restarted mid-session: the session is its walker's."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Living room",
        minor_version=2,
        data=dict(STATION_DATA),
        options=dict(STATION_OPTIONS),
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await async_call(hass, "start_session")
    stored = copy.deepcopy(entry.runtime_data.history.history.active.as_dict())
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # What a 1.2 station left behind: a session that names no walker.
    stored.pop("walker_id")
    stored.pop("walker")
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = history_file(
        {"sessions": [], "active": stored, "settings": {}}
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    session = entry.runtime_data.coordinator.session
    assert session is not None
    assert session.walker == "Walker"
    assert session.walker_id == next(iter(entry.subentries))


async def test_other_entries_changing_leave_the_station_alone(
    hass: HomeAssistant,
) -> None:
    entry = await _two_walkers(hass)
    coordinator = entry.runtime_data.coordinator
    other = await async_add_station(
        hass, {**STATION_DATA, CONF_NAME: "Gym"}, walkers=[walker_subentry("Eva")]
    )
    hass.config_entries.async_update_entry(other, title="Gym 2")
    await hass.async_block_till_done()
    assert [walker.name for walker in coordinator.walkers] == ["Ana", "Luis"]
    assert hass.states.get(WALKER).attributes["options"] == ["Ana", "Luis"]


async def test_the_speed_number_follows_the_walkers_cap(hass: HomeAssistant) -> None:
    await _two_walkers(hass)
    speed = "number.living_room_backward_speed"
    assert hass.states.get(speed).attributes["max"] == 3.2  # Ana, a beginner
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": WALKER, "option": "Luis"},
        blocking=True,
    )
    assert hass.states.get(speed).attributes["max"] == 5.8  # Luis, advanced
