"""Retro Walk by voice: the intents, through Assist's built-in agent and directly."""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk import intent as retro_intent
from homeassistant.components import conversation
from homeassistant.const import CONF_NAME
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component

from .common import (
    STATION_DATA,
    async_add_station,
    async_call,
    async_tick,
    walker_subentry,
)

REPO_SENTENCES = Path(__file__).resolve().parents[1] / "custom_sentences"


@pytest.fixture
async def assist(hass: HomeAssistant, tmp_path: Path) -> None:
    """Assist's built-in agent reading the repository's custom sentences."""
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "custom_sentences").symlink_to(REPO_SENTENCES, target_is_directory=True)
    for component in ("homeassistant", "intent", "conversation"):
        assert await async_setup_component(hass, component, {})


async def _ensure_intents(hass: HomeAssistant) -> None:
    """Register the intents unless the ``intent`` integration already did.

    It calls the intent platform's ``async_setup_intents`` once it is set up
    (with ``conversation``); the direct tests run without it.
    """
    if retro_intent.INTENT_START not in hass.data.get(intent.DATA_KEY, {}):
        await retro_intent.async_setup_intents(hass)


@pytest.fixture
async def station(
    hass: HomeAssistant, assist: None, init_integration: MockConfigEntry
) -> MockConfigEntry:
    """The simulated station "Living room" with the intents registered."""
    await _ensure_intents(hass)
    return init_integration


async def _say(hass: HomeAssistant, text: str, language: str) -> dict[str, Any]:
    result = await conversation.async_converse(
        hass, text, None, Context(), language=language
    )
    response = result.response.as_dict()
    await hass.async_block_till_done()
    return response


def _speech(response: dict[str, Any]) -> str:
    return str(response["speech"]["plain"]["speech"])


def _state(hass: HomeAssistant) -> str:
    state = hass.states.get("sensor.living_room_session_state")
    assert state is not None
    return state.state


START_EN = [
    "start my retro walk",
    "Start a backwards walk",
    "start my backward walking session",
    "start retro walking",
    "begin the retro-walk workout",
    "let's walk backwards",
    "start my retro walk on the Living room",
]
START_ES = [
    "empieza mi caminata hacia atrás",
    "iniciar la caminata hacia atrás",
    "comienza la marcha atrás",
    "inicia la sesión de espaldas",
    "caminar hacia atrás",
    "quiero caminar hacia atrás",
    "empieza el retro walking",
]


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", text) for text in START_EN] + [("es", text) for text in START_ES],
)
async def test_start_sentences(
    hass: HomeAssistant, station: MockConfigEntry, language: str, text: str
) -> None:
    """Every way to start a session starts one and says so in the language."""
    response = await _say(hass, text, language)
    assert response["response_type"] == "action_done", response
    assert _state(hass) != "idle"
    speech = _speech(response)
    assert ("started" if language == "en" else "iniciada") in speech.lower(), speech
    assert response["speech_slots"]["station"] == "Living room"


@pytest.mark.parametrize(
    ("language", "text", "program", "minutes"),
    [
        ("en", "start the intervals program", "intervals", None),
        ("en", "start my starter retro walk", "starter", None),
        ("en", "start the ratio program", "ratio", None),
        ("en", "walk backwards for 12 minutes", "custom", 12),
        ("en", "start a 5 minute retro walk", "custom", 5),
        ("es", "empieza el programa de intervalos", "intervals", None),
        ("es", "inicia el programa personalizado", "custom", None),
        ("es", "caminar hacia atrás durante 8 minutos", "custom", 8),
        ("es", "empieza la caminata hacia atrás de 10 minutos", "custom", 10),
    ],
)
async def test_start_program_and_minutes(
    hass: HomeAssistant,
    station: MockConfigEntry,
    language: str,
    text: str,
    program: str,
    minutes: int | None,
) -> None:
    """The program and backward minutes said reach the session."""
    response = await _say(hass, text, language)
    assert response["response_type"] == "action_done", response
    session = station.runtime_data.coordinator.session
    assert session is not None
    assert session.program == program
    if minutes is not None:
        assert session.target_backward_minutes == minutes
        assert str(minutes) in _speech(response)


@pytest.mark.parametrize(
    ("language", "pause", "resume", "stop"),
    [
        ("en", "pause my retro walk", "resume my retro walk", "stop my retro walk"),
        (
            "en",
            "pause the backwards walk",
            "continue my retro walk",
            "end my retro walking session",
        ),
        (
            "es",
            "pausa la caminata hacia atrás",
            "reanuda la caminata hacia atrás",
            "para la caminata hacia atrás",
        ),
        (
            "es",
            "pausar mi caminata hacia atrás",
            "continúa la caminata hacia atrás",
            "detén la caminata hacia atrás",
        ),
        (
            "es",
            "pon en pausa la marcha atrás",
            "sigue caminando hacia atrás",
            "termina la caminata hacia atrás",
        ),
    ],
)
async def test_pause_resume_stop(
    hass: HomeAssistant,
    station: MockConfigEntry,
    language: str,
    pause: str,
    resume: str,
    stop: str,
) -> None:
    """Pause, resume and stop by voice; each answer is in the language asked."""
    await _say(hass, "start my retro walk", "en")
    response = await _say(hass, pause, language)
    assert response["response_type"] == "action_done", response
    assert _state(hass) == "paused"
    assert ("paused" if language == "en" else "pausa") in _speech(response).lower()
    response = await _say(hass, resume, language)
    assert response["response_type"] == "action_done", response
    assert _state(hass) not in ("paused", "idle")
    response = await _say(hass, stop, language)
    assert response["response_type"] == "action_done", response
    assert _state(hass) == "idle"
    expected = (
        "stopped after 0 backward minutes" if language == "en" else "tras 0 minutos"
    )
    assert expected in _speech(response), _speech(response)


@pytest.mark.parametrize(
    ("language", "text", "running", "idle"),
    [
        ("en", "how am I doing", "Warming up: 0 minutes so far", "No retro walk"),
        ("en", "what's my retro walk status", "0 of them backwards", "No retro walk"),
        ("en", "how's my retro walk going", "Warming up", "under way"),
        ("es", "¿cómo voy?", "Calentando: llevas 0 minutos", "No hay ninguna caminata"),
        ("es", "cómo va la caminata hacia atrás", "0 de ellos hacia atrás", "en curso"),
        ("es", "estado de la caminata hacia atrás", "Calentando", "en curso"),
    ],
)
async def test_status(
    hass: HomeAssistant,
    station: MockConfigEntry,
    language: str,
    text: str,
    running: str,
    idle: str,
) -> None:
    """The status answer: state, elapsed and backward minutes."""
    response = await _say(hass, text, language)
    assert response["response_type"] == "query_answer", response
    assert idle in _speech(response)
    await _say(hass, "start my retro walk", "en")
    response = await _say(hass, text, language)
    assert running in _speech(response), _speech(response)
    assert response["speech_slots"]["state"] == "warm_up"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "en",
            "how many backward minutes this week",
            "Ana: 0 backward minutes this week, of a 60 minute goal",
        ),
        ("en", "how long did I walk backwards this week", "of a 60 minute goal"),
        (
            "en",
            "how many minutes have I walked backwards this week",
            "0 backward minutes",
        ),
        ("en", "how close am I to my weekly goal", "0 percent"),
        (
            "es",
            "¿cuántos minutos he caminado hacia atrás esta semana?",
            "Ana: Esta semana, 0 minutos hacia atrás de un objetivo de 60",
        ),
        ("es", "cuánto he caminado hacia atrás esta semana", "objetivo de 60"),
        ("es", "cómo voy con mi objetivo semanal", "0 sesiones"),
    ],
)
async def test_weekly(
    hass: HomeAssistant,
    station: MockConfigEntry,
    language: str,
    text: str,
    expected: str,
) -> None:
    """This week's backward minutes against the goal, as numbers."""
    response = await _say(hass, text, language)
    assert response["response_type"] == "query_answer", response
    assert expected in _speech(response), _speech(response)
    assert re.search(r"\d", _speech(response))
    assert response["speech_slots"]["goal_minutes"] == 60


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "A session is already under way on this station; stop it first."),
        ("es", "Ya hay una sesión en curso en esta estación; detenla primero."),
    ],
)
async def test_error_spoken_in_language(
    hass: HomeAssistant, station: MockConfigEntry, language: str, expected: str
) -> None:
    """A refused command is an error answer in the language asked."""
    await _say(hass, "start my retro walk", "en")
    response = await _say(
        hass,
        "start my retro walk"
        if language == "en"
        else "empieza mi caminata hacia atrás",
        language,
    )
    assert response["response_type"] == "error"
    assert response["data"]["code"] == "failed_to_handle"
    assert _speech(response) == expected


async def test_built_in_sentences_still_work(
    hass: HomeAssistant, station: MockConfigEntry
) -> None:
    """The session switch keeps answering the built-in turn on/off sentences."""
    response = await _say(hass, "turn on the Living room session", "en")
    assert response["response_type"] == "action_done", response
    assert _state(hass) != "idle"
    response = await _say(hass, "turn off the Living room session", "en")
    assert response["response_type"] == "action_done", response
    assert _state(hass) == "idle"


# Direct calls (what an LLM agent does) ----------------------------------------


async def _handle(
    hass: HomeAssistant,
    intent_type: str,
    slots: dict[str, Any] | None = None,
    language: str = "en",
) -> intent.IntentResponse:
    return await intent.async_handle(
        hass,
        "openai_conversation",
        intent_type,
        {key: {"value": value} for key, value in (slots or {}).items()},
        language=language,
    )


async def test_direct_no_station(hass: HomeAssistant) -> None:
    """Without a station the intent says so."""
    await retro_intent.async_setup_intents(hass)
    response = await _handle(hass, retro_intent.INTENT_START)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.error_code is intent.IntentResponseErrorCode.FAILED_TO_HANDLE
    assert response.speech["plain"]["speech"] == (
        "No Retro Walk station is set up and loaded."
    )


async def test_direct_two_stations(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """With two stations the station must be named."""
    await _ensure_intents(hass)
    await async_add_station(
        hass, {**STATION_DATA, CONF_NAME: "Hallway"}, unique_id="hallway"
    )
    response = await _handle(hass, retro_intent.INTENT_START)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.speech["plain"]["speech"] == (
        "There is more than one station: choose one."
    )
    response = await _handle(
        hass, retro_intent.INTENT_START, {"station": "the hallway station"}
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert response.speech["plain"]["speech"] == (
        "Started Ana's starter program on Hallway."
    )
    assert init_integration.runtime_data.coordinator.session is None
    response = await _handle(hass, retro_intent.INTENT_STATUS, {"name": "Hallway"})
    assert response.response_type is intent.IntentResponseType.QUERY_ANSWER
    assert response.speech_slots["state"] == "warm_up"
    response = await _handle(hass, retro_intent.INTENT_STOP, {"station": "Kitchen"})
    assert response.response_type is intent.IntentResponseType.ERROR
    assert "Kitchen" in response.speech["plain"]["speech"]


async def test_direct_already_running(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A second start is refused, in the language asked."""
    await _ensure_intents(hass)
    response = await _handle(
        hass, retro_intent.INTENT_START, {"program": "custom", "minutes": 4}
    )
    assert response.speech["plain"]["speech"] == (
        "Started Ana's custom program with 4 backward minutes on Living room."
    )
    response = await _handle(hass, retro_intent.INTENT_START, language="es")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.speech["plain"]["speech"] == (
        "Ya hay una sesión en curso en esta estación; detenla primero."
    )


async def test_direct_nothing_to_pause(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Pause, resume and stop without a session, and resume while running."""
    await _ensure_intents(hass)
    for intent_type in (
        retro_intent.INTENT_PAUSE,
        retro_intent.INTENT_RESUME,
        retro_intent.INTENT_STOP,
    ):
        response = await _handle(hass, intent_type)
        assert response.response_type is intent.IntentResponseType.ERROR
        assert response.speech["plain"]["speech"] == (
            "There is no session under way on this station."
        )
    await _handle(hass, retro_intent.INTENT_START)
    response = await _handle(hass, retro_intent.INTENT_RESUME)
    assert response.speech["plain"]["speech"] == (
        "The session is not paused, so it cannot be resumed."
    )
    response = await _handle(hass, retro_intent.INTENT_PAUSE)
    assert response.speech["plain"]["speech"] == "Paused the retro walk on Living room."
    response = await _handle(hass, retro_intent.INTENT_PAUSE)
    assert response.speech["plain"]["speech"] == (
        "The session is not running, so it cannot be paused."
    )
    response = await _handle(hass, retro_intent.INTENT_WEEKLY)
    assert response.speech["plain"]["speech"].startswith(
        "Ana: 0 backward minutes this week"
    )


async def test_direct_bad_slots(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Slots outside the schema are refused before anything starts."""
    await _ensure_intents(hass)
    with pytest.raises(intent.InvalidSlotInfo):
        await _handle(hass, retro_intent.INTENT_START, {"minutes": 90})
    with pytest.raises(intent.InvalidSlotInfo):
        await _handle(hass, retro_intent.INTENT_START, {"program": "marathon"})
    assert init_integration.runtime_data.coordinator.session is None


async def test_llm_tools(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The intents are offered to LLM agents with descriptions and parameters.

    Through the integration's ``llm`` platform (tests/test_llm.py has more):
    the Assist API lives in the ``llm`` integration and collects the tools
    of the integrations' ``llm`` platforms, named ``<domain>__…``.
    """
    await _ensure_intents(hass)
    for component in ("homeassistant", "llm"):
        assert await async_setup_component(hass, component, {})
    api = await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="openai_conversation",
            context=Context(),
            language="en",
            assistant="conversation",
            device_id=None,
        ),
    )
    tools = {tool.name: tool for tool in api.tools}
    for intent_type in (
        "RetroWalkStart",
        "RetroWalkPause",
        "RetroWalkResume",
        "RetroWalkStop",
        "RetroWalkStatus",
        "RetroWalkWeekly",
    ):
        name = f"retro_walk__{intent_type}"
        assert name in tools
        assert tools[name].description
    assert "program" in str(tools["retro_walk__RetroWalkStart"].parameters.schema)


@pytest.fixture
async def walkers(hass: HomeAssistant, assist: None) -> MockConfigEntry:
    """A station with two walkers, Ana (selected first) and Luis."""
    entry = await async_add_station(
        hass,
        STATION_DATA,
        walkers=[
            walker_subentry("Ana"),
            walker_subentry("Luis", person="person.luis", experience="advanced"),
        ],
    )
    await _ensure_intents(hass)
    return entry


WALKER_SELECT = "select.living_room_walker"


@pytest.mark.parametrize(
    ("language", "text", "walker"),
    [
        ("en", "start Luis's retro walk", "Luis"),
        ("en", "start Luis' retro walk", "Luis"),
        ("en", "start a retro walk for Luis", "Luis"),
        ("en", "begin the backwards walk for luis", "Luis"),
        ("en", "start the intervals program for Luis", "Luis"),
        ("en", "Luis wants to walk backwards", "Luis"),
        ("en", "start Luis's retro walk on the Living room", "Luis"),
        ("es", "empieza la caminata hacia atrás de Luis", "Luis"),
        ("es", "inicia una caminata hacia atrás para Luis", "Luis"),
        ("es", "Luis quiere caminar hacia atrás", "Luis"),
        # Without a name: the selected walker.
        ("en", "start my retro walk", "Ana"),
        ("es", "empieza mi caminata hacia atrás", "Ana"),
    ],
)
async def test_start_for_a_named_walker(
    hass: HomeAssistant, walkers: MockConfigEntry, language: str, text: str, walker: str
) -> None:
    response = await _say(hass, text, language)
    assert response["response_type"] == "action_done", response
    assert hass.states.get(WALKER_SELECT).state == walker
    assert walkers.runtime_data.coordinator.session.walker == walker
    assert response["speech_slots"]["walker"] == walker
    assert walker in _speech(response)


async def test_start_for_an_unknown_walker_is_an_error(
    hass: HomeAssistant, walkers: MockConfigEntry
) -> None:
    response = await _say(hass, "start Marta's retro walk", "en")
    assert response["response_type"] == "error"
    assert _speech(response) == "Living room has no walker named Marta."
    response = await _say(hass, "empieza la caminata hacia atrás de Marta", "es")
    assert _speech(response) == "Living room no tiene ningún usuario llamado Marta."
    assert _state(hass) == "idle"


async def test_my_walk_is_the_walker_linked_to_the_user(
    hass: HomeAssistant, walkers: MockConfigEntry, hass_admin_user: Any
) -> None:
    """ "my retro walk" from Luis's user is Luis's, though Ana is selected."""
    hass.states.async_set("person.luis", "home", {"user_id": hass_admin_user.id})
    result = await conversation.async_converse(
        hass,
        "start my retro walk",
        None,
        Context(user_id=hass_admin_user.id),
        language="en",
    )
    assert result.response.response_type == intent.IntentResponseType.ACTION_DONE
    assert hass.states.get(WALKER_SELECT).state == "Luis"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "how long did Luis walk backwards this week"),
        ("en", "what's Luis's weekly retro walk progress"),
        ("es", "cuántos minutos ha caminado Luis hacia atrás esta semana"),
        ("es", "cuál es el progreso semanal de Luis"),
    ],
)
async def test_weekly_for_a_named_walker(
    hass: HomeAssistant,
    walkers: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    language: str,
    text: str,
) -> None:
    await async_call(hass, "start_session", walker="Luis", program="custom")
    await async_tick(hass, freezer, 120)
    await async_call(hass, "stop_session")
    response = await _say(hass, text, language)
    assert response["response_type"] == "query_answer", response
    assert response["speech_slots"]["walker"] == "Luis"
    assert response["speech_slots"]["sessions"] == 1
    assert _speech(response).startswith("Luis: ")
    # Ana's week is her own.
    ana = await _say(
        hass,
        "how long did Ana walk backwards this week"
        if language == "en"
        else "cuántos minutos ha caminado Ana hacia atrás esta semana",
        language,
    )
    assert ana["speech_slots"]["sessions"] == 0


async def test_a_named_walker_picks_the_station(
    hass: HomeAssistant, walkers: MockConfigEntry
) -> None:
    """With two stations, the one where the walker has a profile."""
    await async_add_station(
        hass,
        {**STATION_DATA, CONF_NAME: "Gym"},
        walkers=[walker_subentry("Eva")],
    )
    response = await _say(hass, "start Eva's retro walk", "en")
    assert response["response_type"] == "action_done", response
    assert response["speech_slots"]["station"] == "Gym"
    # Luis only walks in the living room.
    response = await _say(hass, "start a retro walk for Luis", "en")
    assert response["speech_slots"]["station"] == "Living room"
