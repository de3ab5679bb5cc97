"""Retro Walk intents: run sessions and ask about them by voice (Assist or an LLM).

The built-in conversation agent matches the sentences in ``custom_sentences/``
and speaks the response templates there (in the request's language), filled
from the speech slots set here. Any other caller (an LLM agent, the intent
API) gets the plain English speech set here. Errors are spoken in the
request's language from the integration's exception translations.

Home Assistant's ``intent`` integration loads this module as the integration's
intent platform and calls ``async_setup_intents`` itself (for every
integration that has an ``intent.py``), so nothing in ``__init__.py`` calls it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import probatio as vol

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, intent
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator
from .session import MAX_BACKWARD_MINUTES, MIN_BACKWARD_MINUTES, ProgramKind
from .status import StationStatus
from .walker import Walker, find_walker

INTENT_START = "RetroWalkStart"
INTENT_PAUSE = "RetroWalkPause"
INTENT_RESUME = "RetroWalkResume"
INTENT_STOP = "RetroWalkStop"
INTENT_STATUS = "RetroWalkStatus"
INTENT_WEEKLY = "RetroWalkWeekly"

SLOT_PROGRAM = "program"
SLOT_MINUTES = "minutes"
SLOT_STATION = "station"
SLOT_NAME = "name"
SLOT_WALKER = "walker"

# The built-in agent's platform: it speaks the sentence files' responses.
CONVERSATION_PLATFORM = "conversation"

_STATION_SLOTS: dict[Any, Any] = {
    vol.Optional(
        SLOT_STATION,
        description="Name of the Retro Walk station; only needed with several",
    ): intent.non_empty_string,
    vol.Optional(SLOT_NAME): intent.non_empty_string,
}


_WALKER_SLOT: dict[Any, Any] = {
    vol.Optional(
        SLOT_WALKER,
        description=(
            "Name of the walker (a walker profile of the station); without it, "
            "the walker linked to the asking user's person, else the selected walker"
        ),
    ): intent.non_empty_string,
}


def _number(value: float) -> int | float:
    """Minutes for speech: whole numbers without a decimal point."""
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def _minutes(seconds: float) -> int | float:
    return _number(seconds / 60.0)


def _loaded_entries(hass: HomeAssistant) -> list[RetroWalkConfigEntry]:
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _normalise(name: str) -> str:
    words = name.casefold().replace("\u2019", "'").split()
    while words and words[0] in {"the", "el", "la", "my", "mi"}:
        words = words[1:]
    while words and words[-1] in {"station", "estación", "estacion"}:
        words = words[:-1]
    return " ".join(words)


_POSSESSIVES = frozenset({"", "my", "mi", "me", "our", "nuestra", "nuestro"})


def _walker_name(slots: dict[str, Any]) -> str | None:
    """The walker named in the request ("Ana's" is Ana), if any."""
    if SLOT_WALKER not in slots or not (value := slots[SLOT_WALKER].get("value")):
        return None
    name = str(value).replace("\u2019", "'").strip()
    for suffix in ("'s", "'"):
        name = name.removesuffix(suffix)
    name = name.strip()
    # "my retro walk": the asking user's walker, not someone called "my".
    return None if name.casefold() in _POSSESSIVES else name or None


def _station(hass: HomeAssistant, slots: dict[str, Any]) -> RetroWalkCoordinator:
    """The station an intent is for: the one named, or the only one loaded.

    With several stations and none named, a named walker who has a profile
    on exactly one of them picks that one.
    """
    entries = _loaded_entries(hass)
    if (
        len(entries) > 1
        and SLOT_STATION not in slots
        and SLOT_NAME not in slots
        and (walker := _walker_name(slots)) is not None
    ):
        theirs = [
            entry
            for entry in entries
            if find_walker(entry.runtime_data.coordinator.walkers, walker)
        ]
        if len(theirs) == 1:
            entries = theirs
    name: str | None = None
    for key in (SLOT_STATION, SLOT_NAME):
        if key in slots and (value := slots[key].get("value")):
            name = str(value)
            break
    if name is not None:
        wanted = _normalise(name)
        for entry in entries:
            if _normalise(entry.title) == wanted:
                return entry.runtime_data.coordinator
        for entry in hass.config_entries.async_entries(DOMAIN):
            if _normalise(entry.title) == wanted:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="station_not_loaded",
                    translation_placeholders={"station": entry.title},
                )
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="station_not_found",
            translation_placeholders={"entry_id": name},
        )
    if not entries:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_station"
        )
    if len(entries) > 1:  # (also when name and walker left several)
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="station_required"
        )
    return entries[0].runtime_data.coordinator


async def _async_translations(
    hass: HomeAssistant, language: str, category: str
) -> dict[str, str]:
    try:
        return await async_get_translations(hass, language, category, {DOMAIN})
    except HomeAssistantError:  # pragma: no cover - an unknown language
        return {}


async def _async_error_message(
    hass: HomeAssistant, err: HomeAssistantError, language: str
) -> str:
    """The error in the request's language (English or the error's own text)."""
    if err.translation_domain == DOMAIN and err.translation_key:
        key = f"component.{DOMAIN}.exceptions.{err.translation_key}.message"
        for lang in (language, "en"):
            if message := (await _async_translations(hass, lang, "exceptions")).get(
                key
            ):
                try:
                    return message.format(**(err.translation_placeholders or {}))
                except KeyError, IndexError, ValueError:  # pragma: no cover
                    return message
    return str(err) or type(err).__name__


def _request_walker(
    coordinator: RetroWalkCoordinator, slots: dict[str, Any], user_id: str | None
) -> Walker | None:
    """Whom a request is about: the named walker, else "my" walker.

    "My" is the walker profile linked to the person of the user behind the
    request, where Home Assistant gives the user (Assist in the frontend or
    the companion app); otherwise the selected walker (None: leave it to the
    station). An unknown name is a translated error.
    """
    if (name := _walker_name(slots)) is not None:
        return coordinator.find_walker(name)
    if user_id is not None:
        hass = coordinator.hass
        persons = {
            state.entity_id
            for state in hass.states.async_all("person")
            if state.attributes.get("user_id") == user_id
        }
        for walker in coordinator.walkers:
            if walker.person in persons:
                return walker
    return None


class RetroWalkIntentHandler(intent.IntentHandler):
    """Finds the station, acts on it and answers; errors become spoken errors."""

    platforms = None  # offered to LLM agents whatever entities they expose
    query = False

    @property
    def slot_schema(self) -> dict[Any, Any] | None:
        """Every intent may name the station."""
        return dict(_STATION_SLOTS)

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Handle the intent."""
        hass = intent_obj.hass
        slots = self.async_validate_slots(intent_obj.slots)
        response = intent_obj.create_response()
        try:
            coordinator = _station(hass, slots)
            walker = _request_walker(coordinator, slots, intent_obj.context.user_id)
            speech_slots, english = await self.async_act(
                coordinator, slots, intent_obj.language, walker
            )
        except HomeAssistantError as err:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                await _async_error_message(hass, err, intent_obj.language),
            )
            return response
        if self.query:
            response.response_type = intent.IntentResponseType.QUERY_ANSWER
        response.async_set_speech_slots(
            {"station": coordinator.config_entry.title, **speech_slots}
        )
        if intent_obj.platform != CONVERSATION_PLATFORM:
            # The built-in agent speaks the sentence file's translated response
            # only when no speech is set: leave it to that.
            response.async_set_speech(english)
        return response

    async def async_act(
        self,
        coordinator: RetroWalkCoordinator,
        slots: dict[str, Any],
        language: str,
        walker: Walker | None,
    ) -> tuple[dict[str, Any], str]:
        """Do the work; return the speech slots and the English answer."""
        raise NotImplementedError


async def _async_state_names(
    hass: HomeAssistant, language: str, status: StationStatus
) -> dict[str, Any]:
    """The session state, phase and program, as keys and in ``language``."""
    entity = await _async_translations(hass, language, "entity")
    if not entity:  # pragma: no cover - an unknown language
        entity = await _async_translations(hass, "en", "entity")
    base = f"component.{DOMAIN}.entity"
    state = status.state.value
    phase = None if status.phase is None else status.phase.value
    program = None if status.program is None else status.program.value
    return {
        "state": state,
        "state_name": entity.get(f"{base}.sensor.session_state.state.{state}", state),
        "phase": phase,
        "phase_name": None
        if phase is None
        else entity.get(f"{base}.sensor.phase.state.{phase}", phase),
        "program": program,
        "program_name": None
        if program is None
        else entity.get(f"{base}.select.program.state.{program}", program),
    }


class StartHandler(RetroWalkIntentHandler):
    """Start a session."""

    intent_type = INTENT_START
    description = (
        "Starts a retro walking (walking backwards on a treadmill) session on "
        "a Retro Walk station for a walker (the named one, else the asking "
        "user's, else the selected one): the walker's program unless a program "
        "is given; minutes sets the backward minutes (the custom program if no "
        "program is given)"
    )

    @property
    def slot_schema(self) -> dict[Any, Any] | None:
        """Program, backward minutes and the station."""
        return {
            vol.Optional(
                SLOT_PROGRAM,
                description="Training program: starter, intervals, ratio or custom",
            ): vol.All(cv.string, vol.Lower, vol.In([k.value for k in ProgramKind])),
            vol.Optional(SLOT_MINUTES, description="Backward minutes to walk"): vol.All(
                vol.Coerce(float),
                vol.Range(min=MIN_BACKWARD_MINUTES, max=MAX_BACKWARD_MINUTES),
            ),
            **_WALKER_SLOT,
            **_STATION_SLOTS,
        }

    async def async_act(
        self,
        coordinator: RetroWalkCoordinator,
        slots: dict[str, Any],
        language: str,
        walker: Walker | None,
    ) -> tuple[dict[str, Any], str]:
        """Start the session."""
        program: ProgramKind | None = None
        if SLOT_PROGRAM in slots:
            program = ProgramKind(slots[SLOT_PROGRAM]["value"])
        minutes: float | None = None
        if SLOT_MINUTES in slots:
            minutes = float(slots[SLOT_MINUTES]["value"])
            if program is None:
                program = ProgramKind.CUSTOM
        await coordinator.async_start_session(
            walker=None if walker is None else walker.walker_id,
            program=program,
            backward_minutes=minutes,
        )
        status = coordinator._status()  # noqa: SLF001 - fresh, not the last tick
        names = await _async_state_names(coordinator.hass, language, status)
        session = coordinator.session
        target = None if session is None else session.target_backward_minutes
        speech_slots = {
            **names,
            "walker": status.walker,
            "minutes": None if minutes is None else _number(minutes),
            "target_minutes": None if target is None else _number(float(target)),
        }
        english = f"Started {status.walker}'s {names['program'] or 'selected'} program"
        if minutes is not None:
            english += f" with {_number(minutes)} backward minutes"
        return speech_slots, f"{english} on {coordinator.config_entry.title}."


class SessionCommandHandler(RetroWalkIntentHandler):
    """Pause or resume the session: one coordinator command, no answer data."""

    def __init__(
        self,
        intent_type: str,
        description: str,
        command: Callable[[RetroWalkCoordinator], Awaitable[None]],
        done: str,
    ) -> None:
        """Describe the intent and the command it runs."""
        super().__init__()
        self.intent_type = intent_type
        self.description = description
        self._command = command
        self._done = done

    async def async_act(
        self,
        coordinator: RetroWalkCoordinator,
        slots: dict[str, Any],
        language: str,
        walker: Walker | None,
    ) -> tuple[dict[str, Any], str]:
        """Run the command."""
        await self._command(coordinator)
        return {}, f"{self._done} the retro walk on {coordinator.config_entry.title}."


class StopHandler(RetroWalkIntentHandler):
    """Stop the session."""

    intent_type = INTENT_STOP
    description = "Stops (ends) the retro walking session and the treadmill belt"

    async def async_act(
        self,
        coordinator: RetroWalkCoordinator,
        slots: dict[str, Any],
        language: str,
        walker: Walker | None,
    ) -> tuple[dict[str, Any], str]:
        """Stop and say how many minutes were walked backwards."""
        backward = coordinator.data.backward_time if coordinator.data else 0.0
        await coordinator.async_stop()
        minutes = _minutes(backward)
        return (
            {"backward_minutes": minutes},
            (
                f"Stopped the retro walk on {coordinator.config_entry.title} "
                f"after {minutes} backward minutes."
            ),
        )


class StatusHandler(RetroWalkIntentHandler):
    """Say how the session goes."""

    intent_type = INTENT_STATUS
    description = (
        "Tells the state and phase of the current retro walking session, its "
        "elapsed minutes and the minutes walked backwards"
    )
    query = True

    async def async_act(
        self,
        coordinator: RetroWalkCoordinator,
        slots: dict[str, Any],
        language: str,
        walker: Walker | None,
    ) -> tuple[dict[str, Any], str]:
        """Report the status."""
        status = coordinator._status()  # noqa: SLF001 - fresh, not the last tick
        names = await _async_state_names(coordinator.hass, language, status)
        speech_slots = {
            **names,
            "active": status.active,
            "elapsed_minutes": _minutes(status.elapsed),
            "backward_minutes": _minutes(status.backward_time),
            "remaining_minutes": _minutes(status.remaining),
        }
        title = coordinator.config_entry.title
        if not status.active:
            return speech_slots, f"No retro walk is under way on {title}."
        english = (
            f"{title}: {str(names['state_name']).lower()}, "
            f"{speech_slots['elapsed_minutes']} minutes elapsed, "
            f"{speech_slots['backward_minutes']} of them backwards."
        )
        return speech_slots, english


class WeeklyHandler(RetroWalkIntentHandler):
    """Say this week's backward minutes against the goal."""

    intent_type = INTENT_WEEKLY
    description = (
        "Tells a walker's minutes walked backwards this week (Monday to Sunday), "
        "their weekly goal and their sessions this week"
    )
    query = True

    @property
    def slot_schema(self) -> dict[Any, Any] | None:
        """The walker and the station."""
        return {**_WALKER_SLOT, **_STATION_SLOTS}

    async def async_act(
        self,
        coordinator: RetroWalkCoordinator,
        slots: dict[str, Any],
        language: str,
        walker: Walker | None,
    ) -> tuple[dict[str, Any], str]:
        """Report the week."""
        walker = walker or coordinator.selected_walker
        if walker is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_walker",
                translation_placeholders={"station": coordinator.config_entry.title},
            )
        weekly = coordinator._status().walkers[walker.walker_id].weekly  # noqa: SLF001
        speech_slots = {
            "walker": walker.name,
            "backward_minutes": _number(weekly.backward_minutes),
            "goal_minutes": _number(weekly.goal_minutes),
            "goal_progress": _number(weekly.goal_progress),
            "sessions": weekly.sessions,
            "streak_days": weekly.streak_days,
        }
        return (
            speech_slots,
            (
                f"{walker.name}: {speech_slots['backward_minutes']} backward "
                "minutes this week "
                f"of a {speech_slots['goal_minutes']} minute goal "
                f"({speech_slots['goal_progress']} %), in {weekly.sessions} sessions."
            ),
        )


def _handlers() -> list[RetroWalkIntentHandler]:
    return [
        StartHandler(),
        SessionCommandHandler(
            INTENT_PAUSE,
            "Pauses the running retro walking session and its treadmill belt",
            lambda coordinator: coordinator.async_pause(),
            "Paused",
        ),
        SessionCommandHandler(
            INTENT_RESUME,
            "Resumes a paused or interrupted retro walking session (restarts the belt)",
            lambda coordinator: coordinator.async_resume(),
            "Resumed",
        ),
        StopHandler(),
        StatusHandler(),
        WeeklyHandler(),
    ]


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the Retro Walk intents (the ``intent`` integration calls this)."""
    for handler in _handlers():
        intent.async_register(hass, handler)
