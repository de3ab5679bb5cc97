"""The station: owns the session, the treadmill link and the history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import logging
from pathlib import Path
from typing import Any

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import UNDEFINED
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_SESSION_EVENT_TYPE,
    CONF_COOL_DOWN_MINUTES,
    CONF_EXPORT_FIT,
    CONF_FORWARD_SPEED,
    CONF_WARM_UP_MINUTES,
    DEFAULT_COOL_DOWN_MINUTES,
    DEFAULT_EXPORT_FIT,
    DEFAULT_FORWARD_SPEED,
    DEFAULT_WARM_UP_MINUTES,
    DOMAIN,
    SUBENTRY_WALKER,
    SessionEventType,
    StationEvent,
)
from .exporter import async_write_fit, async_write_report
from .history import HistoryStore, StationHistory
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
    cap_speed,
    finite,
    suggest_backward_minutes,
    weekly_summary,
)
from .standstill import StandstillWatch
from .status import StationStatus, WalkerProgress, finished_event_data
from .treadmill import Treadmill, TreadmillError, TreadmillEvent
from .treadmill.ftms import FtmsTreadmill
from .walker import Walker, find_walker, name_key

_LOGGER = logging.getLogger(__name__)

TICK = timedelta(seconds=1)
# An unsteady walker gets the belt this much slower (km/h).
SLOW_DOWN_STEP = 0.5

SETTING_PROGRAM = "program"
SETTING_BACKWARD_MINUTES = "backward_minutes"
SETTING_BACKWARD_SPEED = "backward_speed"
# The walker on the belt (selected), and each walker's own settings above.
SETTING_WALKER = "walker"
SETTING_WALKERS = "walkers"

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
        self._progress_cache: dict[str, tuple[tuple[Any, ...], WalkerProgress]] = {}
        self._walkers_cache: tuple[Any, list[Walker]] | None = None
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
        self._walker_listeners: list[Callable[[list[Walker]], None]] = []
        self._walker_ids = {walker.walker_id for walker in self.walkers}

    # Configuration --------------------------------------------------------

    def _option(self, key: str, default: Any) -> Any:
        entry = self.config_entry
        return entry.options.get(key, entry.data.get(key, default))

    # Walkers --------------------------------------------------------------

    @property
    def walkers(self) -> list[Walker]:
        """The station's walker profiles (its walker subentries), in order."""
        subentries = self.config_entry.subentries
        if self._walkers_cache is None or self._walkers_cache[0] is not subentries:
            walkers = [
                Walker.from_data(subentry.subentry_id, subentry.title, subentry.data)
                for subentry in subentries.values()
                if subentry.subentry_type == SUBENTRY_WALKER
            ]
            self._walkers_cache = (subentries, walkers)
        return self._walkers_cache[1]

    @property
    def selected_walker(self) -> Walker | None:
        """The walker chosen for the belt (the first one until someone chooses)."""
        walkers = self.walkers
        chosen = self._settings.get(SETTING_WALKER)
        for walker in walkers:
            if walker.walker_id == chosen:
                return walker
        return walkers[0] if walkers else None

    @property
    def walker(self) -> Walker | None:
        """The walker on the belt: the session's, else the selected one."""
        session = self.session
        if session is not None and session.walker_id is not None:
            for walker in self.walkers:
                if walker.walker_id == session.walker_id:
                    return walker
        return self.selected_walker

    def find_walker(self, name: str) -> Walker:
        """The station's walker with this name (or id); a translated error if none."""
        if (walker := find_walker(self.walkers, name)) is None:
            raise self.unknown_walker(name)
        return walker

    def unknown_walker(self, name: str) -> HomeAssistantError:
        """The error for a walker the station does not know."""
        return _translated_error(
            "unknown_walker", {"walker": name, "station": self.config_entry.title}
        )

    async def async_select_walker(self, name: str) -> None:
        """Choose who is on the belt (not while someone else's session runs)."""
        walker = self.find_walker(name)
        session = self.session
        if session is not None and session.walker_id not in (None, walker.walker_id):
            raise _translated_error(
                "walker_session_active", {"walker": session.walker or ""}
            )
        await self.async_set_setting(SETTING_WALKER, walker.walker_id)

    def walker_records(self, walker: Walker) -> list[SessionRecord]:
        """The walker's finished sessions, oldest first."""
        return [r for r in self.records if r.walker_id == walker.walker_id]

    @property
    def experience(self) -> Experience:
        """The experience level of the walker on the belt."""
        walker = self.walker
        return Experience.BEGINNER if walker is None else walker.experience

    @property
    def speed_cap(self) -> float:
        """The fastest backward belt speed allowed for the walker on the belt."""
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

    def _walker_settings(
        self, walker: Walker | None, *, writable: bool = False
    ) -> dict[str, Any]:
        """One walker's own settings (program, minutes, speed).

        Reading never changes what is stored; ``writable`` makes room for the
        walker's settings (stored data that is not a mapping is replaced).
        """
        if walker is None:
            return {}
        every = self._settings.get(SETTING_WALKERS)
        if not isinstance(every, dict):
            if not writable:
                return {}
            every = self._settings[SETTING_WALKERS] = {}
        own = every.get(walker.walker_id)
        if not isinstance(own, dict):
            if not writable:
                return {}
            own = every[walker.walker_id] = {}
        return own

    @property
    def program(self) -> ProgramKind:
        """The program the selected walker's next session follows."""
        try:
            return ProgramKind(
                str(self._walker_settings(self.selected_walker).get(SETTING_PROGRAM))
            )
        except ValueError:
            return ProgramKind.STARTER

    @property
    def backward_minutes(self) -> float:
        """Target backward minutes of a new session (the suggestion by default)."""
        walker = self.selected_walker
        value = self._walker_settings(walker).get(SETTING_BACKWARD_MINUTES)
        with contextlib.suppress(TypeError, ValueError):
            # Stored settings are checked too (a NaN once dropped the phase).
            return min(max(finite(value), MIN_BACKWARD_MINUTES), MAX_BACKWARD_MINUTES)
        if walker is None:
            return suggest_backward_minutes([], self.experience)
        return self._walker_progress(walker).next_backward_minutes

    @property
    def backward_speed(self) -> float:
        """Backward belt speed of a new session, within the walker's cap."""
        value = self._walker_settings(self.selected_walker).get(SETTING_BACKWARD_SPEED)
        try:
            return cap_speed(finite(value), self.experience)
        except TypeError, ValueError:
            return cap_speed(
                DEFAULT_BACKWARD_SPEED_KMH[self.experience], self.experience
            )

    async def async_set_setting(self, key: str, value: str | float) -> None:
        """Change what the next session does (walker; program, minutes, speed)."""
        if not isinstance(value, str):
            value = _finite_or_refuse(value)
        if key == SETTING_WALKER:
            self._settings[key] = value
        else:
            self._walker_settings(self.selected_walker, writable=True)[key] = value
        await self.history_store.async_save()
        self.async_set_updated_data(self._status())

    # Life cycle -----------------------------------------------------------

    async def async_setup(self) -> None:
        """Load the history and recover a session cut off by a restart."""
        history = await self.history_store.async_load()
        if self._adopt_unowned(history):
            await self.history_store.async_save()
        self.config_entry.async_on_unload(
            async_dispatcher_connect(
                self.hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._async_entry_changed
            )
        )
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

    def _adopt_unowned(self, history: StationHistory) -> bool:
        """Give what a station kept before walker profiles to its first walker.

        Sessions and settings from before (entry 1.2) belong to the single
        walker the station had, which the entry migration made its first
        profile. Returns whether anything changed.
        """
        if not (walkers := self.walkers):
            return False
        first = walkers[0]
        changed = False
        for index, record in enumerate(history.records):
            if record.walker_id is None:
                history.records[index] = record.for_walker(first.walker_id, first.name)
                changed = True
        if (active := history.active) is not None and active.walker_id is None:
            active.walker_id, active.walker = first.walker_id, first.name
            changed = True
        settings = history.settings
        legacy = {
            key: settings.pop(key)
            for key in (
                SETTING_PROGRAM,
                SETTING_BACKWARD_MINUTES,
                SETTING_BACKWARD_SPEED,
            )
            if key in settings
        }
        if legacy:
            self._walker_settings(first, writable=True).update(legacy)
            changed = True
        return changed

    @callback
    def _async_entry_changed(
        self, change: ConfigEntryChange, entry: ConfigEntry
    ) -> None:
        """Walkers were added, edited or removed: show it without a reload.

        (A reload would pause the belt under whoever is walking.)
        """
        if entry.entry_id != self.config_entry.entry_id or (
            change is not ConfigEntryChange.UPDATED
        ):
            return
        # (Subentries are edited in place: read the walkers again.)
        self._walkers_cache = None
        known = self._walker_ids
        self._walker_ids = {walker.walker_id for walker in self.walkers}
        if new := [w for w in self.walkers if w.walker_id not in known]:
            for listener in list(self._walker_listeners):
                listener(new)
        self._async_update_walker_devices()
        self._progress_cache.clear()
        self._async_publish()

    @callback
    def async_add_walker_listener(
        self, listener: Callable[[list[Walker]], None]
    ) -> Callable[[], None]:
        """Be told of walkers added while the station runs (platforms add entities)."""
        self._walker_listeners.append(listener)
        return lambda: self._walker_listeners.remove(listener)

    @callback
    def _async_update_walker_devices(self) -> None:
        """Rename walker devices whose profile was renamed."""
        registry = dr.async_get(self.hass)
        for walker in self.walkers:
            device = registry.async_get_device_by_identifier(
                (DOMAIN, self.walker_device_id(walker)), self.config_entry.entry_id
            )
            if device is not None and device.name != walker.name:
                registry.async_update_device(device.id, name=walker.name)

    def walker_device_id(self, walker: Walker) -> str:
        """The identifier of a walker's device."""
        return f"{self.config_entry.entry_id}_{walker.walker_id}"

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

    def _walker_progress(self, walker: Walker) -> WalkerProgress:
        """A walker's week so far and next suggestion.

        Both only change when a session is recorded, the day changes or the
        profile is edited, so they are not recomputed over the whole history
        on every tick.
        """
        now = dt_util.now()
        key = (len(self.records), now.date(), walker)
        cached = self._progress_cache.get(walker.walker_id)
        if cached is None or cached[0] != key:
            records = self.walker_records(walker)
            progress = WalkerProgress(
                name=walker.name,
                weekly=weekly_summary(
                    records, now=now, goal_minutes=walker.weekly_goal
                ),
                next_backward_minutes=suggest_backward_minutes(
                    records, walker.experience
                ),
            )
            cached = self._progress_cache[walker.walker_id] = (key, progress)
        return cached[1]

    def _status(self) -> StationStatus:
        now = self._now()
        session = self.session
        belt = self.treadmill.speed if self.treadmill.has_belt else None
        walkers = {w.walker_id: self._walker_progress(w) for w in self.walkers}
        walker = self.walker
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
                walker=None if walker is None else walker.name,
                walkers=walkers,
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
            walker=session.walker or (None if walker is None else walker.name),
            walkers=walkers,
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
        data = finished_event_data(record)
        if self._option(CONF_EXPORT_FIT, DEFAULT_EXPORT_FIT) and (
            path := await self._async_export_quietly(record)
        ):
            data["fit_path"] = str(path)
        self._async_fire_station_event(StationEvent.SESSION, data)
        return ok

    async def _async_export_quietly(self, record: SessionRecord) -> Path | None:
        """Write the session's FIT file; a failure is logged, never raised."""
        try:
            return await async_write_fit(
                self.hass, record, treadmill=self.treadmill.has_belt
            )
        except (OSError, ValueError) as err:
            _LOGGER.error(
                "%s: the session could not be exported as a FIT file: %s",
                self.name,
                err,
            )
            return None

    # Commands -------------------------------------------------------------

    def _walking_elsewhere(self, walker: Walker) -> str | None:
        """The other station whose belt this walker is on, if any."""
        for entry in self.hass.config_entries.async_loaded_entries(DOMAIN):
            if entry.entry_id == self.config_entry.entry_id:
                continue
            other: RetroWalkCoordinator = entry.runtime_data.coordinator
            if (
                (session := other.session) is not None
                and session.is_active
                and (on_belt := other.walker) is not None
                and on_belt.same_person(walker)
            ):
                return entry.title
        return None

    async def async_start_session(
        self,
        *,
        walker: str | None = None,
        program: ProgramKind | None = None,
        backward_minutes: float | None = None,
        speed: float | None = None,
    ) -> None:
        """Start a session for a walker (the selected one unless told otherwise).

        The program, minutes and speed are the walker's own unless given.
        """
        if self.session is not None:
            raise _translated_error("session_already_active")
        if walker is not None:
            await self.async_select_walker(walker)
        if (chosen := self.selected_walker) is None:
            raise _translated_error("no_walker", {"station": self.config_entry.title})
        if (station := self._walking_elsewhere(chosen)) is not None:
            raise _translated_error(
                "walker_on_other_station", {"walker": chosen.name, "station": station}
            )
        if speed is not None and speed > chosen.speed_cap:
            raise _translated_error(
                "speed_above_cap",
                {"speed": f"{speed:g}", "cap": f"{chosen.speed_cap:g}"},
            )
        if self.treadmill.has_belt and not self.treadmill.available:
            raise _translated_error("treadmill_unavailable", validation=False)
        settings = ProgramSettings(
            experience=chosen.experience,
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
            body_mass=chosen.body_mass,
            now=self._now(),
            walker_id=chosen.walker_id,
            walker=chosen.name,
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
                "walker": chosen.name,
                "walker_id": chosen.walker_id,
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

    def history_response(
        self, limit: int, walker: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` sessions (of one walker), for get_history."""
        records = self.records
        if walker is not None:
            records = self.records_of(walker)
        sessions: list[dict[str, Any]] = []
        for record in reversed(records[-limit:]):
            item = record.as_dict()
            item["started_at"] = dt_util.utc_from_timestamp(
                record.started_at
            ).isoformat()
            item["ended_at"] = dt_util.utc_from_timestamp(record.ended_at).isoformat()
            item["backward_minutes"] = round(record.backward_minutes, 1)
            item["station"] = self.config_entry.title
            item["walker"] = record.walker
            item["peak_backward_speed"] = record.peak_backward_speed
            item["config_entry_id"] = self.config_entry.entry_id
            sessions.append(item)
        return sessions

    def records_of(self, name: str) -> list[SessionRecord]:
        """The sessions of the walker with this name, removed walkers too.

        A walker's sessions keep the profile's id, so a renamed walker keeps
        them; a removed walker's are found by the name they were walked under.
        """
        if (walker := find_walker(self.walkers, name)) is not None:
            return self.walker_records(walker)
        key = name_key(name)
        return [
            record
            for record in self.records
            if record.walker is not None and name_key(record.walker) == key
        ]

    async def async_delete_walker_history(self, name: str) -> int:
        """Delete a walker's sessions (asked for explicitly); returns how many."""
        doomed = {id(record) for record in self.records_of(name)}
        if not doomed:
            return 0
        self.records[:] = [r for r in self.records if id(r) not in doomed]
        self._progress_cache.clear()
        await self.history_store.async_save()
        self._async_publish()
        return len(doomed)

    def find_record(self, session_id: str | None) -> SessionRecord:
        """A finished session by id (the last one without); a translated error."""
        if session_id is None:
            if not self.records:
                raise _translated_error(
                    "no_sessions", {"station": self.config_entry.title}
                )
            return max(self.records, key=lambda record: record.ended_at)
        for record in self.records:
            if record.session_id == session_id:
                return record
        raise _translated_error(
            "session_not_found",
            {"session_id": session_id, "station": self.config_entry.title},
        )

    async def async_export_session(self, session_id: str | None) -> Path:
        """Write a finished session as a FIT file; return its path."""
        record = self.find_record(session_id)
        try:
            return await async_write_fit(
                self.hass, record, treadmill=self.treadmill.has_belt
            )
        except (OSError, ValueError) as err:
            raise _translated_error(
                "export_failed", {"error": str(err)}, validation=False
            ) from err

    async def async_export_report(
        self, walker: str, start: date, end: date
    ) -> tuple[Path, Path]:
        """Write a walker's CSV and HTML report; return both paths."""
        profile = find_walker(self.walkers, walker)
        records = self.records_of(walker)
        if profile is None and not records:
            raise self.unknown_walker(walker)
        try:
            return await async_write_report(
                self.hass,
                records,
                walker=walker if profile is None else profile.name,
                goal_minutes=0.0 if profile is None else profile.weekly_goal,
                start=start,
                end=end,
            )
        except OSError as err:
            raise _translated_error(
                "export_failed", {"error": str(err)}, validation=False
            ) from err
