"""The walker subentry flow: adding, editing and removing a station's walkers."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk.const import (
    CONF_BODY_MASS,
    CONF_EXPERIENCE,
    CONF_PERSON,
    CONF_WEEKLY_GOAL,
    DEFAULT_BODY_MASS,
    DEFAULT_WEEKLY_GOAL,
    DOMAIN,
    SUBENTRY_WALKER,
    WALKER_SENSOR_KEYS,
)
from homeassistant.components.select import ATTR_OPTIONS
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    translation,
)

from .common import (
    STATION_DATA,
    WALKER_NAME,
    async_add_station,
    async_call,
    async_history,
    async_tick,
    form_defaults,
    walker_subentry,
)

SELECT = "select.living_room_walker"
# The entity id suffix of each walker sensor (WALKER_SENSOR_KEYS, in order).
SENSOR_SUFFIXES = (
    "backward_minutes_this_week",
    "weekly_goal_progress",
    "sessions_this_week",
    "streak",
    "next_suggested_backward_minutes",
)
# A walker as the add form is filled in (besides the name).
LUIS: dict[str, Any] = {
    CONF_BODY_MASS: 82.5,
    CONF_EXPERIENCE: "intermediate",
    CONF_WEEKLY_GOAL: 90,
}
ANA_ID = "walker_ana"
LUIS_ID = "walker_luis"


@pytest.fixture
async def station(hass: HomeAssistant) -> MockConfigEntry:
    """The living room station with its one walker, Ana, set up."""
    return await async_add_station(hass, STATION_DATA)


@pytest.fixture
async def two_walkers(hass: HomeAssistant) -> MockConfigEntry:
    """The living room station with Ana (linked to her person) and Luis."""
    return await async_add_station(
        hass,
        STATION_DATA,
        walkers=[
            walker_subentry(person="person.ana"),
            walker_subentry("Luis", **LUIS),
        ],
    )


def _sensors(walker: str) -> list[str]:
    """The entity ids of a walker's sensors."""
    return [f"sensor.{walker}_{suffix}" for suffix in SENSOR_SUFFIXES]


def _walker_device(
    hass: HomeAssistant, entry: ConfigEntry, subentry_id: str
) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_{subentry_id}"), entry.entry_id
    )


def _walkers(entry: ConfigEntry) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each walker subentry's title and data, by subentry id."""
    return {
        subentry_id: (subentry.title, dict(subentry.data))
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == SUBENTRY_WALKER
    }


def _suggested(result: FlowResult) -> dict[str, Any]:
    """The suggested value of every field of a form that has one."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def _fields(result: FlowResult) -> list[str]:
    return [str(key) for key in result["data_schema"].schema]


async def _start_add(hass: HomeAssistant, entry: ConfigEntry) -> FlowResult:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_WALKER), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {"station": entry.title}
    return result


async def _start_edit(
    hass: HomeAssistant, entry: ConfigEntry, subentry_id: str
) -> FlowResult:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_WALKER),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {}
    assert result["description_placeholders"] == {
        "walker": entry.subentries[subentry_id].title
    }
    return result


async def _configure(hass: HomeAssistant, result: FlowResult, **data: Any) -> Any:
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


# --- add -------------------------------------------------------------------------


async def test_station_offers_walker_subentries(
    hass: HomeAssistant, station: MockConfigEntry
) -> None:
    assert station.supported_subentry_types == {
        SUBENTRY_WALKER: {"supports_reconfigure": True}
    }


async def test_add_form(hass: HomeAssistant, station: MockConfigEntry) -> None:
    result = await _start_add(hass, station)

    assert _fields(result) == [
        CONF_NAME,
        CONF_BODY_MASS,
        CONF_EXPERIENCE,
        CONF_WEEKLY_GOAL,
        CONF_PERSON,
    ]
    assert form_defaults(result) == {
        CONF_NAME: "",
        CONF_BODY_MASS: DEFAULT_BODY_MASS,
        CONF_EXPERIENCE: "beginner",
        CONF_WEEKLY_GOAL: DEFAULT_WEEKLY_GOAL,
    }
    # The person is optional, with nothing suggested.
    assert _suggested(result) == {}


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        pytest.param({CONF_PERSON: "person.luis"}, {CONF_PERSON: "person.luis"}),
        pytest.param({}, {}, id="no_person"),
    ],
)
async def test_add_walker_without_reloading_the_station(
    hass: HomeAssistant,
    station: MockConfigEntry,
    person: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    coordinator = station.runtime_data.coordinator
    assert hass.states.get(SELECT).attributes[ATTR_OPTIONS] == [WALKER_NAME]
    result = await _start_add(hass, station)

    result = await _configure(
        hass, result, **{CONF_NAME: "  Luis   Pérez ", **LUIS, **person}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The name's extra spaces are dropped.
    assert result["title"] == "Luis Pérez"
    assert result["data"] == {**LUIS, **expected}
    (subentry_id,) = set(station.subentries) - {ANA_ID}
    assert _walkers(station) == {
        ANA_ID: (
            WALKER_NAME,
            {key: STATION_DATA[key] for key in LUIS},
        ),
        subentry_id: ("Luis Pérez", {**LUIS, **expected}),
    }
    # Not reloaded: the same station runs on, with the new walker.
    assert station.runtime_data.coordinator is coordinator
    assert [walker.name for walker in coordinator.walkers] == [
        WALKER_NAME,
        "Luis Pérez",
    ]
    (luis,) = (w for w in coordinator.walkers if w.walker_id == subentry_id)
    assert luis.person == expected.get(CONF_PERSON)
    assert luis.speed_cap == 4.8
    # The walker's device, off the station's, with its sensors.
    device = _walker_device(hass, station, subentry_id)
    assert device is not None
    assert device.name == "Luis Pérez"
    assert device.config_subentry_id == subentry_id
    station_device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, station.entry_id), station.entry_id
    )
    assert station_device is not None
    assert device.via_device_id == station_device.id
    registry = er.async_get(hass)
    for key, entity_id in zip(WALKER_SENSOR_KEYS, _sensors("luis_perez"), strict=True):
        entity = registry.async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.unique_id == f"{station.entry_id}_{subentry_id}_{key}"
        assert entity.config_subentry_id == subentry_id
        assert entity.device_id == device.id
        assert hass.states.get(entity_id) is not None
    assert hass.states.get("sensor.luis_perez_sessions_this_week").state == "0"
    # The station's walker select offers the new walker, and picks them.
    assert hass.states.get(SELECT).attributes[ATTR_OPTIONS] == [
        WALKER_NAME,
        "Luis Pérez",
    ]
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: SELECT, "option": "Luis Pérez"},
        blocking=True,
    )
    assert hass.states.get(SELECT).state == "Luis Pérez"
    assert station.runtime_data.coordinator is coordinator


@pytest.mark.parametrize("name", ["", "   ", "!!!", " - . / "])
async def test_add_walker_name_required_then_success(
    hass: HomeAssistant, station: MockConfigEntry, name: str
) -> None:
    result = await _start_add(hass, station)

    result = await _configure(
        hass, result, **{CONF_NAME: name, **LUIS, CONF_PERSON: "person.luis"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_NAME: "walker_name_required"}
    assert result["description_placeholders"] == {"station": "Living room"}
    # What was entered is offered again.
    assert form_defaults(result) == {CONF_NAME: name, **LUIS}
    assert _suggested(result) == {CONF_PERSON: "person.luis"}
    assert list(station.subentries) == [ANA_ID]

    result = await _configure(hass, result, **{CONF_NAME: "Luis", **LUIS})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Luis"
    assert result["data"] == LUIS


@pytest.mark.parametrize(
    "name", ["Ana", "ana", "  ANA  ", "Mary Jo", "mary   jo", " MARY JO"]
)
async def test_add_walker_name_taken_then_success(
    hass: HomeAssistant, name: str
) -> None:
    entry = await async_add_station(
        hass, STATION_DATA, walkers=[walker_subentry(), walker_subentry("Mary Jo")]
    )
    result = await _start_add(hass, entry)

    result = await _configure(hass, result, **{CONF_NAME: name, **LUIS})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "walker_name_taken"}
    assert form_defaults(result) == {CONF_NAME: name, **LUIS}
    assert len(entry.subentries) == 2

    # Another name that merely contains a walker's is free.
    result = await _configure(hass, result, **{CONF_NAME: "Ana Mary", **LUIS})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Ana Mary"
    assert len(entry.subentries) == 3


async def test_add_walker_of_another_station_name_is_free(
    hass: HomeAssistant, station: MockConfigEntry
) -> None:
    # Walker names are unique per station: the kitchen's Ana may be added too
    # (the same person cannot be on both belts at once, which sessions check).
    kitchen = await async_add_station(
        hass, {**STATION_DATA, CONF_NAME: "Kitchen"}, walkers=[walker_subentry("Luis")]
    )
    result = await _start_add(hass, kitchen)

    result = await _configure(hass, result, **{CONF_NAME: WALKER_NAME, **LUIS})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [s.title for s in kitchen.subentries.values()] == ["Luis", WALKER_NAME]
    assert [s.title for s in station.subentries.values()] == [WALKER_NAME]


@pytest.mark.parametrize("field", [CONF_BODY_MASS, CONF_WEEKLY_GOAL])
async def test_add_walker_not_finite_then_success(
    hass: HomeAssistant, station: MockConfigEntry, field: str
) -> None:
    result = await _start_add(hass, station)

    result = await _configure(hass, result, **{CONF_NAME: "Luis", **LUIS, field: "nan"})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "not_finite"}
    assert form_defaults(result)[CONF_NAME] == "Luis"
    assert list(station.subentries) == [ANA_ID]

    result = await _configure(hass, result, **{CONF_NAME: "Luis", **LUIS})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == LUIS


async def test_add_walker_shows_every_error_at_once(
    hass: HomeAssistant, station: MockConfigEntry
) -> None:
    result = await _start_add(hass, station)

    result = await _configure(
        hass, result, **{CONF_NAME: "ana", **LUIS, CONF_BODY_MASS: "nan"}
    )

    assert result["errors"] == {
        CONF_NAME: "walker_name_taken",
        CONF_BODY_MASS: "not_finite",
    }


# --- edit ------------------------------------------------------------------------


async def test_edit_form_defaults_from_the_walker(
    hass: HomeAssistant, two_walkers: MockConfigEntry
) -> None:
    result = await _start_edit(hass, two_walkers, ANA_ID)

    assert _fields(result) == [
        CONF_NAME,
        CONF_BODY_MASS,
        CONF_EXPERIENCE,
        CONF_WEEKLY_GOAL,
        CONF_PERSON,
    ]
    assert form_defaults(result) == {
        CONF_NAME: WALKER_NAME,
        **{key: STATION_DATA[key] for key in LUIS},
    }
    # The person is suggested, so that it can be cleared.
    assert _suggested(result) == {CONF_PERSON: "person.ana"}

    result = await _start_edit(hass, two_walkers, LUIS_ID)

    assert form_defaults(result) == {CONF_NAME: "Luis", **LUIS}
    assert _suggested(result) == {}


# The person is cleared, the walker renamed and faster.
ANA_LUCIA: dict[str, Any] = {
    CONF_NAME: "  Ana   Lucía ",
    CONF_BODY_MASS: 64.5,
    CONF_EXPERIENCE: "advanced",
    CONF_WEEKLY_GOAL: 120,
}


async def test_edit_renames_walker_without_reloading_the_station(
    hass: HomeAssistant, two_walkers: MockConfigEntry
) -> None:
    coordinator = two_walkers.runtime_data.coordinator
    device = _walker_device(hass, two_walkers, ANA_ID)
    assert device is not None
    assert device.name == WALKER_NAME
    result = await _start_edit(hass, two_walkers, ANA_ID)

    result = await _configure(hass, result, **ANA_LUCIA)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    # The same profile (its sessions stay its own), renamed.
    assert _walkers(two_walkers) == {
        ANA_ID: (
            "Ana Lucía",
            {CONF_BODY_MASS: 64.5, CONF_EXPERIENCE: "advanced", CONF_WEEKLY_GOAL: 120},
        ),
        LUIS_ID: ("Luis", LUIS),
    }
    # Not reloaded.
    assert two_walkers.runtime_data.coordinator is coordinator
    # The same device and entities: they keep their ids (and statistics).
    renamed = _walker_device(hass, two_walkers, ANA_ID)
    assert renamed.id == device.id
    assert renamed.name == "Ana Lucía"
    for entity_id in _sensors("ana"):
        entity = er.async_get(hass).async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.device_id == device.id
        assert entity.config_subentry_id == ANA_ID


async def test_edit_reaches_the_running_station(
    hass: HomeAssistant, two_walkers: MockConfigEntry
) -> None:
    coordinator = two_walkers.runtime_data.coordinator
    result = await _start_edit(hass, two_walkers, ANA_ID)

    result = await _configure(hass, result, **ANA_LUCIA)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    # The running station knows the walker's new profile ...
    assert two_walkers.runtime_data.coordinator is coordinator
    (ana, _luis) = coordinator.walkers
    assert (ana.walker_id, ana.name, ana.person) == (ANA_ID, "Ana Lucía", None)
    assert ana.speed_cap == 5.8
    assert ana.weekly_goal == 120
    # ... renames the walker's device ...
    device = _walker_device(hass, two_walkers, ANA_ID)
    assert device is not None
    assert device.name == "Ana Lucía"
    # ... and offers the new name.
    assert hass.states.get(SELECT).attributes[ATTR_OPTIONS] == ["Ana Lucía", "Luis"]
    assert hass.states.get(SELECT).state == "Ana Lucía"


@pytest.mark.parametrize("name", [WALKER_NAME, " ANA ", "ana"])
async def test_edit_walker_keeps_own_name(
    hass: HomeAssistant, two_walkers: MockConfigEntry, name: str
) -> None:
    result = await _start_edit(hass, two_walkers, ANA_ID)

    result = await _configure(
        hass,
        result,
        **{
            **form_defaults(result),
            CONF_NAME: name,
            CONF_WEEKLY_GOAL: 30,
            CONF_PERSON: "person.ana",
        },
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert _walkers(two_walkers)[ANA_ID] == (
        name.strip(),
        {
            **{key: STATION_DATA[key] for key in LUIS},
            CONF_WEEKLY_GOAL: 30,
            CONF_PERSON: "person.ana",
        },
    )
    assert list(two_walkers.subentries) == [ANA_ID, LUIS_ID]


@pytest.mark.parametrize("name", ["Luis", "luis", "  LUIS "])
async def test_edit_walker_name_taken_then_required_then_success(
    hass: HomeAssistant, two_walkers: MockConfigEntry, name: str
) -> None:
    before = _walkers(two_walkers)
    result = await _start_edit(hass, two_walkers, ANA_ID)

    result = await _configure(hass, result, **{CONF_NAME: name, **LUIS})

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_NAME: "walker_name_taken"}
    assert result["description_placeholders"] == {"walker": WALKER_NAME}
    # What was entered is offered again, not the walker's profile.
    assert form_defaults(result) == {CONF_NAME: name, **LUIS}
    assert _suggested(result) == {}

    result = await _configure(hass, result, **{CONF_NAME: "?", **LUIS})

    assert result["errors"] == {CONF_NAME: "walker_name_required"}
    assert _walkers(two_walkers) == before

    result = await _configure(hass, result, **{CONF_NAME: "Luisa", **LUIS})

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert _walkers(two_walkers)[ANA_ID] == ("Luisa", LUIS)


@pytest.mark.parametrize("field", [CONF_BODY_MASS, CONF_WEEKLY_GOAL])
async def test_edit_walker_not_finite_then_success(
    hass: HomeAssistant, two_walkers: MockConfigEntry, field: str
) -> None:
    before = _walkers(two_walkers)
    result = await _start_edit(hass, two_walkers, LUIS_ID)

    result = await _configure(hass, result, **{CONF_NAME: "Luis", **LUIS, field: "nan"})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "not_finite"}
    assert _walkers(two_walkers) == before

    result = await _configure(
        hass, result, **{CONF_NAME: "Luis", **LUIS, CONF_PERSON: "person.luis"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert _walkers(two_walkers)[LUIS_ID] == (
        "Luis",
        {**LUIS, CONF_PERSON: "person.luis"},
    )


# --- remove ----------------------------------------------------------------------


async def test_remove_walker_keeps_their_history(
    hass: HomeAssistant,
    two_walkers: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = two_walkers.runtime_data.coordinator
    await async_call(hass, "start_session", walker="Luis")
    assert hass.states.get(SELECT).state == "Luis"
    await async_tick(hass, freezer, 90)
    await async_call(hass, "stop_session")
    await async_tick(hass, freezer, 5)
    (record,) = (await async_history(hass, walker="Luis"))["sessions"]
    assert record["walker"] == "Luis"
    assert hass.states.get("sensor.luis_sessions_this_week").state == "1"
    device = _walker_device(hass, two_walkers, LUIS_ID)
    assert device is not None

    assert hass.config_entries.async_remove_subentry(two_walkers, LUIS_ID)
    await hass.async_block_till_done()

    # The walker, their device and their entities are gone.
    assert list(two_walkers.subentries) == [ANA_ID]
    assert _walker_device(hass, two_walkers, LUIS_ID) is None
    assert dr.async_get(hass).async_get(device.id) is None
    registry = er.async_get(hass)
    for entity_id in _sensors("luis"):
        assert registry.async_get(entity_id) is None, entity_id
        assert hass.states.get(entity_id) is None, entity_id
    # Ana's are not.
    assert _walker_device(hass, two_walkers, ANA_ID) is not None
    for entity_id in _sensors("ana"):
        assert hass.states.get(entity_id) is not None, entity_id
    # The station runs on without them; their sessions are kept.
    assert two_walkers.runtime_data.coordinator is coordinator
    assert hass.states.get(SELECT).attributes[ATTR_OPTIONS] == [WALKER_NAME]
    assert hass.states.get(SELECT).state == WALKER_NAME
    assert (await async_history(hass, walker="Luis"))["sessions"] == [record]
    assert (await async_history(hass))["sessions"] == [record]
    assert (await async_history(hass, walker=WALKER_NAME))["sessions"] == []


# --- translations ----------------------------------------------------------------


async def _subentry_translations(hass: HomeAssistant) -> dict[str, str]:
    return await translation.async_get_translations(
        hass, "en", "config_subentries", [DOMAIN]
    )


async def test_walker_flow_errors_are_translated(
    hass: HomeAssistant, station: MockConfigEntry
) -> None:
    translations = await _subentry_translations(hass)
    prefix = f"component.{DOMAIN}.config_subentries.{SUBENTRY_WALKER}"
    for error in (
        "walker_name_required",
        "walker_name_taken",
        "walker_name_too_long",
        "person_taken",
        "not_finite",
    ):
        assert f"{prefix}.error.{error}" in translations, error
    for step in ("user", "reconfigure"):
        assert f"{prefix}.step.{step}.title" in translations, step
        for field in (CONF_NAME, *LUIS, CONF_PERSON):
            assert f"{prefix}.step.{step}.data.{field}" in translations, field
    for source in ("user", "reconfigure"):
        assert f"{prefix}.initiate_flow.{source}" in translations, source


async def test_walker_edit_abort_is_translated(
    hass: HomeAssistant, two_walkers: MockConfigEntry
) -> None:
    result = await _start_edit(hass, two_walkers, LUIS_ID)
    result = await _configure(hass, result, **{CONF_NAME: "Luis", **LUIS})
    assert result["type"] is FlowResultType.ABORT

    translations = await _subentry_translations(hass)

    assert (
        f"component.{DOMAIN}.config_subentries.{SUBENTRY_WALKER}"
        f".abort.{result['reason']}"
    ) in translations


async def test_add_walker_name_too_long_then_success(
    hass: HomeAssistant, station: MockConfigEntry
) -> None:
    """Names are said and typed in service calls (at most 100 characters)."""
    result = await _start_add(hass, station)
    result = await _configure(hass, result, **{CONF_NAME: "A" * 101, **LUIS})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "walker_name_too_long"}
    result = await _configure(hass, result, **{CONF_NAME: "A" * 100, **LUIS})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_one_person_one_walker(
    hass: HomeAssistant, two_walkers: MockConfigEntry
) -> None:
    """Ana's person cannot be linked to Luis too: "my" must name one walker."""
    result = await _start_edit(hass, two_walkers, LUIS_ID)
    result = await _configure(
        hass, result, **{CONF_NAME: "Luis", **LUIS, CONF_PERSON: "person.ana"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PERSON: "person_taken"}
    # Ana keeps her own person when she is edited.
    result = await _start_edit(hass, two_walkers, ANA_ID)
    result = await _configure(
        hass,
        result,
        **{
            CONF_NAME: "Ana",
            CONF_BODY_MASS: 70.0,
            CONF_EXPERIENCE: "beginner",
            CONF_WEEKLY_GOAL: 60,
            CONF_PERSON: "person.ana",
        },
    )
    assert result["type"] is FlowResultType.ABORT
