"""The station: owns the session, the treadmill link and the history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import UNDEFINED
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_SESSION_EVENT_TYPE,
    CONF_BODY_MASS,
    CONF_COOL_DOWN_MINUTES,
    CONF_EXPERIENCE,
    CONF_FORWARD_SPEED,
    CONF_WARM_UP_MINUTES,
    CONF_WEEKLY_GOAL,
    DEFAULT_COOL_DOWN_MINUTES,
    DEFAULT_FORWARD_SPEED,
    DEFAULT_WARM_UP_MINUTES,
    DOMAIN,
    SessionEventType,
    StationEvent,
)
from .history import HistoryStore
from .safety.runner import SafetyRunner
from .session import (
    DEFAULT_BACKWARD_SPEED_KMH,
    MAX_BACKWARD_MINUTES,
    MIN_BACKWARD_MINUTES,
    MIN_SPEED_KMH,
    SPEED_CAP_KMH,
    Experience,
    PhaseChange,
    ProgramKind,
    ProgramSettings,
    Session,
    SessionError,
    SessionRecord,
    SessionState,
    WeeklySummary,
    cap_speed,
    finite,
    suggest_backward_minutes,
    weekly_summary,
)
from .standstill import StandstillWatch
from .status import StationStatus, finished_event_data
from .treadmill import Treadmill, TreadmillError, TreadmillEvent
from .treadmill.ftms import FtmsTreadmill

_LOGGER = logging.getLogger(__name__)

TICK = timedelta(seconds=1)
# An unsteady walker gets the belt this much slower (km/h).
SLOW_DOWN_STEP = 0.5

SETTING_PROGRAM = "program"
SETTING_BACKWARD_MINUTES = "backward_minutes"
SETTING_BACKWARD_SPEED = "backward_speed"

type RetroWalkConfigEntry = ConfigEntry[RetroWalkData]


@dataclass(kw_only=True)
class RetroWalkData:
    """What a station's config entry owns at run time."""

    coordinator: RetroWalkCoordinator
    treadmill: Treadmill
    history: HistoryStore
    safety: SafetyRunner


# The planned end is shown to this many seconds: now + remaining wobbles by a
# fraction of a second from tick to tick and must not rewrite the sensor.
END_RESOLUTION = 10


def _planned_end(now: float, remaining: float) -> datetime:
    """When a moving session will end, rounded to END_RESOLUTION seconds."""
    end = round((now + remaining) / END_RESOLUTION) * END_RESOLUTION
    return dt_util.utc_from_timestamp(end)


def _finite_or_refuse(value: object) -> float:
    """A finite float, or a translated validation error (NaN, inf, junk)."""
    try:
        return finite(value)
    except TypeError, ValueError:
        raise _translated_error("not_finite", {"value": str(value)}) from None


def _translated_error(
    key: str, placeholders: dict[str, str] | None = None, *, validation: bool = True
) -> HomeAssistantError:
    cls = ServiceValidationError if validation else HomeAssistantError
    return cls(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


class RetroWalkCoordinator(DataUpdateCoordinator[StationStatus]):
    """Runs one station's sessions and pushes its status to the entities."""

    config_entry: RetroWalkConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: RetroWalkConfigEntry,
        treadmill: Treadmill,
        history: HistoryStore,
    ) -> None:
        """Set up the station (nothing runs until ``async_setup``)."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=entry.title)
        self.treadmill = treadmill
        self.history_store = history
        self._stop_ticking: Callable[[], None] | None = None
        self._progress_cache: tuple[tuple[int, date], WeeklySummary, float] | None = (
            None
        )
        self._last_state = SessionState.IDLE
        self._treadmill_was_available = False
        self._hold_belt_on_motion = False
        self.standstill = StandstillWatch(
            hass,
            entry,
            treadmill,
            on_did_not_stop=lambda data: self._async_fire_station_event(
                StationEvent.DID_NOT_STOP, data
            ),
        )
        self._station_listeners: list[
            Callable[[StationEvent, dict[str, Any]], None]
        ] = []

    # Configuration --------------------------------------------------------

    def _option(self, key: str, default: Any) -> Any:
        entry = self.config_entry
        return entry.options.get(key, entry.data.get(key, default))

    @property
    def experience(self) -> Experience:
        """The walker's experience level."""
        return Experience(self.config_entry.data[CONF_EXPERIENCE])

    @property
    def speed_cap(self) -> float:
        """The fastest backward belt speed allowed for this walker."""
        return SPEED_CAP_KMH[self.experience]

    @property
    def session(self) -> Session | None:
        """The session under way, if any."""
        return self.history_store.history.active

    @property
    def records(self) -> list[SessionRecord]:
        """Finished sessions, oldest first."""
        return self.history_store.history.records

    @property
    def _settings(self) -> dict[str, Any]:
        return self.history_store.history.settings

    @property
    def program(self) -> ProgramKind:
        """The program a new session follows."""
        try:
            return ProgramKind(str(self._settings.get(SETTING_PROGRAM)))
        except ValueError:
            return ProgramKind.STARTER

    @property
    def backward_minutes(self) -> float:
        """Target backward minutes of a new session (the suggestion by default)."""
        value = self._settings.get(SETTING_BACKWARD_MINUTES)
        with contextlib.suppress(TypeError, ValueError):
            # Stored settings are checked too (a NaN once dropped the phase).
            return min(max(finite(value), MIN_BACKWARD_MINUTES), MAX_BACKWARD_MINUTES)
        return suggest_backward_minutes(self.records, self.experience)

    @property
    def backward_speed(self) -> float:
        """Backward belt speed of a new session, within the walker's cap."""
        value = self._settings.get(SETTING_BACKWARD_SPEED)
        try:
            return cap_speed(finite(value), self.experience)
        except TypeError, ValueError:
            return cap_speed(
                DEFAULT_BACKWARD_SPEED_KMH[self.experience], self.experience
            )

    async def async_set_setting(self, key: str, value: str | float) -> None:
        """Change what the next session does (program, minutes, speed)."""
        if not isinstance(value, str):
            value = _finite_or_refuse(value)
        self._settings[key] = value
        await self.history_store.async_save()
        self.async_set_updated_data(self._status())

    # Life cycle -----------------------------------------------------------

    async def async_setup(self) -> None:
        """Load the history and recover a session cut off by a restart."""
        history = await self.history_store.async_load()
        self.config_entry.async_on_unload(
            self.treadmill.add_listener(self._async_treadmill_changed)
        )
        self.config_entry.async_on_unload(
            self.treadmill.add_event_listener(self._async_treadmill_event)
        )
        self.config_entry.async_on_unload(self.standstill.async_cancel)
        session = history.active
        if session is not None and session.is_active:
            if session.state is not SessionState.INTERRUPTED and session.is_moving:
                _LOGGER.warning(
                    "The session on %s was cut off by a restart; it is kept as "
                    "interrupted and the belt will not restart by itself",
                    self.config_entry.title,
                )
                session.interrupt(self._now())
            await self.history_store.async_save()
        # The belt may still be running (a linked or FTMS treadmill that kept
        # going): it is held as soon as it is seen moving.
        await self.treadmill.async_start()
        if session is not None and session.is_active:
            if (
                self.treadmill.has_belt
                and self.treadmill.available
                and self.treadmill.moving
            ):
                self._hold_belt_on_motion = False
                await self._async_belt_halt("restart")
        elif session is not None:
            history.active = None
        self._last_state = self._status().state
        self.config_entry.async_on_unload(self._async_stop_ticking)
        self.config_entry.async_on_unload(
            self.hass.bus.async_listen(
                EVENT_HOMEASSISTANT_STOP, self._async_hass_stopping
            )
        )

    async def _async_hass_stopping(self, _event: Event) -> None:
        """Home Assistant stops under a session: interrupt it and hold the belt."""
        await self._async_catch_up()
        session = self.session
        if session is None or not session.is_moving:
            return
        session.interrupt(self._now())
        self._async_stop_ticking()
        await self.history_store.async_save()
        await self._async_belt(self.treadmill.async_pause())

    async def async_shutdown(self) -> None:
        """Hold the belt, save and let go of the treadmill (the entry unloads)."""
        await super().async_shutdown()
        self._async_stop_ticking()
        await self._async_catch_up()
        session = self.session
        if session is not None and session.is_moving:
            # Nobody supervises the belt while the station is unloaded.
            session.pause(self._now())
            await self._async_belt(self.treadmill.async_pause())
        await self.history_store.async_save()
        await self.treadmill.async_close()

    async def _async_update_data(self) -> StationStatus:
        return self._status()

    @staticmethod
    def _now() -> float:
        return dt_util.utcnow().timestamp()

    # Status ---------------------------------------------------------------

    def _progress(self) -> tuple[WeeklySummary, float]:
        """The week so far and the next suggestion.

        Both only change when a session is recorded or the day changes, so
        they are not recomputed over the whole history on every tick.
        """
        now = dt_util.now()
        key = (len(self.records), now.date())
        if self._progress_cache is None or self._progress_cache[0] != key:
            summary = weekly_summary(
                self.records,
                now=now,
                goal_minutes=float(self.config_entry.data[CONF_WEEKLY_GOAL]),
            )
            suggestion = suggest_backward_minutes(self.records, self.experience)
            self._progress_cache = (key, summary, suggestion)
        return self._progress_cache[1], self._progress_cache[2]

    def _status(self) -> StationStatus:
        now = self._now()
        session = self.session
        belt = self.treadmill.speed if self.treadmill.has_belt else None
        weekly, suggestion = self._progress()
        telemetry = dict(self.treadmill.telemetry)
        if session is None:
            return StationStatus(
                state=SessionState.IDLE,
                phase=None,
                program=None,
                elapsed=0.0,
                remaining=0.0,
                backward_time=0.0,
                forward_time=0.0,
                backward_distance=0.0,
                energy=0.0,
                backward_pace=None,
                pauses=0,
                safety_pauses=0,
                belt_speed=belt,
                target_speed=0.0,
                weekly=weekly,
                next_backward_minutes=suggestion,
                telemetry=telemetry,
                tier_counts={1: 0, 2: 0, 3: 0},
            )
        metrics = session.metrics
        return StationStatus(
            state=session.state,
            phase=session.phase,
            program=session.program,
            elapsed=round(session.elapsed(now)),
            remaining=round(session.remaining),
            backward_time=round(metrics.backward_time),
            forward_time=round(metrics.forward_time),
            backward_distance=round(metrics.backward_distance, 1),
            energy=round(metrics.energy, 1),
            backward_pace=None
            if metrics.backward_pace is None
            else round(metrics.backward_pace, 1),
            pauses=metrics.pauses,
            safety_pauses=metrics.safety_pauses,
            belt_speed=belt,
            target_speed=session.target_speed,
            weekly=weekly,
            next_backward_minutes=suggestion,
            telemetry=telemetry,
            tier_counts=session.tier_counts(),
            started_at=dt_util.utc_from_timestamp(session.started_at),
            ends_at=_planned_end(now, session.remaining) if session.is_moving else None,
        )

    def _async_publish(self) -> None:
        status = self._status()
        if status.state is not self._last_state:
            _LOGGER.debug("%s: %s -> %s", self.name, self._last_state, status.state)
            self._last_state = status.state
        self.async_set_updated_data(status)

    @callback
    def _async_treadmill_changed(self) -> None:
        available = self.treadmill.available
        if available and not self._treadmill_was_available:
            # (Re)connected: a halted session must not find its belt running.
            self._hold_belt_on_motion = True
        self._treadmill_was_available = available
        session = self.session
        if session is None or session.is_moving:
            self._hold_belt_on_motion = False
        elif self._hold_belt_on_motion and self.treadmill.moving:
            self._hold_belt_on_motion = False
            self.hass.async_create_task(
                self._async_belt_halt("belt running while the session is halted"),
                eager_start=True,
            )
        self.standstill.async_check()
        self._async_show_treadmill_device()
        self._async_publish()

    @callback
    def _async_show_treadmill_device(self) -> None:
        """Show the make and model the treadmill reports on the station's device."""
        if not (info := self.treadmill.device_info):
            return
        registry = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        device = registry.async_get_device_by_identifier((DOMAIN, entry_id), entry_id)
        # No device before the entities are added: the next change retries.
        if device is None or all(
            getattr(device, key) == value for key, value in info.items()
        ):
            return
        registry.async_update_device(
            device.id,
            manufacturer=info.get("manufacturer", UNDEFINED),
            model=info.get("model", UNDEFINED),
            sw_version=info.get("sw_version", UNDEFINED),
            hw_version=info.get("hw_version", UNDEFINED),
        )

    # Ticking --------------------------------------------------------------

    def _async_start_ticking(self) -> None:
        if self._stop_ticking is None:
            self._stop_ticking = async_track_time_interval(
                self.hass, self._async_tick, TICK, name=f"{DOMAIN} {self.name}"
            )

    @callback
    def _async_stop_ticking(self) -> None:
        if self._stop_ticking is not None:
            self._stop_ticking()
            self._stop_ticking = None

    async def _async_tick(self, _now: Any = None) -> None:
        session = self.session
        if session is not None and session.is_moving:
            await self._async_catch_up()
            self.history_store.async_schedule_save()
        elif not self.treadmill.moving:
            # Nothing moves any more: the belt has come to a standstill.
            self._async_stop_ticking()
        self.standstill.async_check()
        self._async_publish()

    async def _async_catch_up(self) -> None:
        """Account for the walking since the last tick; act on phase changes."""
        session = self.session
        if session is None or not session.is_moving:
            return
        belt = self.treadmill.speed if self.treadmill.has_belt else None
        for change in session.advance(self._now(), belt):
            await self._async_phase_changed(change)

    async def _async_phase_changed(self, change: PhaseChange) -> None:
        if change.segment is None:
            if not await self._async_finish():
                _LOGGER.warning(
                    "%s: the belt may still run after the session", self.name
                )
        else:
            await self._async_belt_run(change.segment.speed)

    async def _async_belt(self, command: Awaitable[None]) -> bool:
        """Run a treadmill command; log and report failure instead of raising."""
        try:
            await command
        except TreadmillError as err:
            _LOGGER.error("Treadmill of %s did not take a command: %s", self.name, err)
            return False
        return True

    async def _async_belt_run(self, speed: float) -> bool:
        """Run the belt at ``speed`` (left to the walker without remote control)."""
        self.standstill.async_cancel()
        if not self.treadmill.remote_control:
            return True
        return await self._async_belt(self.treadmill.async_set_speed(speed))

    async def _async_belt_halt(self, reason: str, *, stop: bool = False) -> bool:
        """Pause (or stop) the belt, then make sure it really comes to rest."""
        treadmill = self.treadmill
        ok = await self._async_belt(
            treadmill.async_stop() if stop else treadmill.async_pause()
        )
        self.standstill.async_expect(reason)
        return ok

    # The machine's own events ---------------------------------------------

    def async_add_station_listener(
        self, listener: Callable[[StationEvent, dict[str, Any]], None]
    ) -> Callable[[], None]:
        """Listen for station events (for the event entities)."""
        self._station_listeners.append(listener)
        return lambda: self._station_listeners.remove(listener)

    @callback
    def _async_fire_station_event(
        self, event: StationEvent, data: dict[str, Any]
    ) -> None:
        for listener in list(self._station_listeners):
            listener(event, data)

    @callback
    def _async_treadmill_event(self, event: TreadmillEvent) -> None:
        self.hass.async_create_task(
            self._async_handle_treadmill_event(event), eager_start=True
        )

    async def _async_handle_treadmill_event(self, event: TreadmillEvent) -> None:
        session = self.session
        if event is TreadmillEvent.CONSOLE_PAUSE:
            # Paused on the machine itself: the session follows.
            if session is not None and session.is_moving:
                session.pause(self._now())
                await self.history_store.async_save()
                self._async_publish()
            return
        if event is TreadmillEvent.SAFETY_KEY:
            self._async_fire_station_event(
                StationEvent.SAFETY_KEY_STOP, {"station": self.config_entry.title}
            )
        if session is None:
            return
        # A safety key is always recorded; a lost link only matters under a
        # walker (a paused session stays the walker's pause).
        if (
            event is TreadmillEvent.SAFETY_KEY and session.is_active
        ) or session.is_moving:
            await self.async_safety_halt(event.value)

    async def async_safety_halt(
        self, reason: str, *, tier: int = 1, stop: bool = False
    ) -> None:
        """Halt for safety: pause (or stop) the belt and the session, confirm it.

        Never raises: a belt that does not take the command is caught by the
        standstill check, which alerts.
        """
        await self._async_catch_up()
        session = self.session
        if session is not None and session.is_active:
            session.pause(self._now(), safety=reason, tier=tier)
        # The belt first; saving can wait.
        if self.treadmill.available:
            await self._async_belt_halt(reason, stop=stop)
        else:
            # Nothing can be commanded: the standstill check will alert.
            self.standstill.async_expect(reason)
        self._async_start_ticking()
        self._async_publish()
        await self.history_store.async_save()

    @callback
    def async_note(self, kind: str, tier: int) -> None:
        """Record a safety event that does not halt the session."""
        if (session := self.session) is not None and session.is_active:
            session.note(self._now(), kind, tier)
            self.history_store.async_schedule_save()
            self._async_publish()

    async def async_slow_down(self) -> None:
        """Unsteady: slow the belt one step (remote control only)."""
        session = self.session
        if session is None or not session.is_moving or not self.treadmill.moving:
            return
        current = self.treadmill.speed or session.target_speed
        speed = round(max(current - SLOW_DOWN_STEP, MIN_SPEED_KMH), 1)
        await self._async_belt_run(speed)

    @callback
    def async_fire_instability(
        self, tier: int, kind: str, features: dict[str, float]
    ) -> None:
        """Show an instability on the station's event entity."""
        self._async_fire_station_event(
            StationEvent.INSTABILITY, {"tier": tier, "kind": kind, **features}
        )
        self._async_publish()

    async def _async_finish(self) -> bool:
        """Record the ended session, stop the belt and save.

        Returns whether the belt took the stop command.
        """
        session = self.session
        assert session is not None  # noqa: S101 - only called with a session
        ok = await self._async_belt_halt("session end", stop=True)
        record = session.record()
        self.records.append(record)
        self.history_store.history.active = None
        await self.history_store.async_save()
        self._async_publish()
        self._async_fire_station_event(
            StationEvent.SESSION, finished_event_data(record)
        )
        return ok

    # Commands -------------------------------------------------------------

    async def async_start_session(
        self,
        *,
        program: ProgramKind | None = None,
        backward_minutes: float | None = None,
        speed: float | None = None,
    ) -> None:
        """Start a session (the selected program unless told otherwise)."""
        if self.session is not None:
            raise _translated_error("session_already_active")
        if speed is not None and speed > self.speed_cap:
            raise _translated_error(
                "speed_above_cap",
                {"speed": f"{speed:g}", "cap": f"{self.speed_cap:g}"},
            )
        if self.treadmill.has_belt and not self.treadmill.available:
            raise _translated_error("treadmill_unavailable", validation=False)
        settings = ProgramSettings(
            experience=self.experience,
            backward_minutes=self.backward_minutes
            if backward_minutes is None
            else backward_minutes,
            backward_speed=self.backward_speed if speed is None else speed,
            forward_speed=float(
                self._option(CONF_FORWARD_SPEED, DEFAULT_FORWARD_SPEED)
            ),
            warm_up_minutes=float(
                self._option(CONF_WARM_UP_MINUTES, DEFAULT_WARM_UP_MINUTES)
            ),
            cool_down_minutes=float(
                self._option(CONF_COOL_DOWN_MINUTES, DEFAULT_COOL_DOWN_MINUTES)
            ),
        )
        session = Session.start(
            program=program or self.program,
            settings=settings,
            body_mass=float(self.config_entry.data[CONF_BODY_MASS]),
            now=self._now(),
        )
        if not await self._async_belt_run(session.target_speed):
            await self._async_belt_halt("failed start", stop=True)
            raise _translated_error("treadmill_command_failed", validation=False)
        self.history_store.history.active = session
        await self.history_store.async_save()
        self._async_start_ticking()
        self._async_publish()
        self._async_fire_station_event(
            StationEvent.SESSION,
            {
                ATTR_SESSION_EVENT_TYPE: SessionEventType.STARTED.value,
                "program": session.program.value,
                "target_backward_minutes": round(session.target_backward_minutes, 1),
            },
        )

    def _require_session(self) -> Session:
        if (session := self.session) is None:
            raise _translated_error("no_active_session")
        return session

    async def async_pause(self) -> None:
        """Pause the session and the belt (the walker asked)."""
        await self._async_catch_up()
        session = self._require_session()
        try:
            session.pause(self._now())
        except SessionError as err:
            raise _translated_error("not_running") from err
        ok = await self._async_belt_halt("pause")
        self._async_start_ticking()
        self._async_publish()
        await self.history_store.async_save()
        if not ok:
            raise _translated_error("treadmill_command_failed", validation=False)

    async def async_resume(self) -> None:
        """Resume a paused or interrupted session; this restarts the belt."""
        session = self._require_session()
        if self.treadmill.has_belt and not self.treadmill.available:
            raise _translated_error("treadmill_unavailable", validation=False)
        try:
            session.resume(self._now())
        except SessionError as err:
            raise _translated_error("not_paused") from err
        if not await self._async_belt_run(session.target_speed):
            session.pause(self._now())
            await self._async_belt_halt("failed resume")
            self._async_publish()
            raise _translated_error("treadmill_command_failed", validation=False)
        await self.history_store.async_save()
        self._async_start_ticking()
        self._async_publish()

    async def async_stop(self) -> None:
        """End the session early and stop the belt."""
        await self._async_catch_up()
        session = self._require_session()
        session.stop(self._now())
        self._async_start_ticking()
        if not await self._async_finish():
            raise _translated_error("treadmill_command_failed", validation=False)

    # Direct belt controls (remote control only) --------------------------------

    async def async_set_belt_speed(self, speed: float) -> None:
        """Set the belt speed by hand, within the walker's cap."""
        speed = _finite_or_refuse(speed)
        if not self.treadmill.remote_control:
            raise _translated_error("remote_control_off")
        if speed > self.speed_cap:
            raise _translated_error(
                "speed_above_cap",
                {"speed": f"{speed:g}", "cap": f"{self.speed_cap:g}"},
            )
        if not await self._async_belt_run(speed):
            raise _translated_error("treadmill_command_failed", validation=False)

    async def async_step_speed(self, step: float) -> None:
        """Speed the belt up or slow it down by ``step`` km/h, within the cap."""
        current = self.data.telemetry.get("target_speed", self.treadmill.speed or 0.0)
        speed = round(min(max(float(current) + step, MIN_SPEED_KMH), self.speed_cap), 1)
        await self.async_set_belt_speed(speed)

    async def async_set_incline(self, incline: float) -> None:
        """Set the belt's incline (FTMS treadmills with remote control)."""
        incline = _finite_or_refuse(incline)
        treadmill = self.treadmill
        if not treadmill.remote_control or not isinstance(treadmill, FtmsTreadmill):
            raise _translated_error("remote_control_off")
        if not await self._async_belt(treadmill.async_set_incline(incline)):
            raise _translated_error("treadmill_command_failed", validation=False)

    def history_response(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` sessions, for the get_history service."""
        sessions: list[dict[str, Any]] = []
        for record in reversed(self.records[-limit:]):
            item = record.as_dict()
            item["started_at"] = dt_util.utc_from_timestamp(
                record.started_at
            ).isoformat()
            item["ended_at"] = dt_util.utc_from_timestamp(record.ended_at).isoformat()
            item["backward_minutes"] = round(record.backward_minutes, 1)
            item["station"] = self.config_entry.title
            item["config_entry_id"] = self.config_entry.entry_id
            sessions.append(item)
        return sessions
