"""Retro walking session engine: programs, state machine, metrics and progress.

Pure Python, no Home Assistant import: the integration, the replay tool and
the benchmarks share this one implementation. Time is always passed in as
seconds since the epoch (``now``), so the engine is deterministic and testable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
import itertools
import math
from typing import TYPE_CHECKING, Any, Self
import uuid

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

KMH_PER_MPH = 1.609344
SECONDS_PER_MINUTE = 60.0


class Experience(StrEnum):
    """How experienced the walker is at walking backwards."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


# Backward belt speed caps (km/h). Beginners stay at or under 2 mph; 2-3 mph
# is a challenge for conditioned walkers; the backward walk-to-run transition
# is about 1.63 m/s (5.9 km/h), which nobody should be pushed past.
SPEED_CAP_KMH: dict[Experience, float] = {
    Experience.BEGINNER: 3.2,
    Experience.INTERMEDIATE: 4.8,
    Experience.ADVANCED: 5.8,
}
MIN_SPEED_KMH = 0.5
# Default backward speed when the walker has not chosen one.
DEFAULT_BACKWARD_SPEED_KMH: dict[Experience, float] = {
    Experience.BEGINNER: 2.0,
    Experience.INTERMEDIATE: 3.2,
    Experience.ADVANCED: 4.0,
}
# Backward minutes suggested for a first session.
FIRST_SESSION_MINUTES: dict[Experience, float] = {
    Experience.BEGINNER: 2.0,
    Experience.INTERMEDIATE: 3.0,
    Experience.ADVANCED: 5.0,
}
MIN_BACKWARD_MINUTES = 1.0
MAX_BACKWARD_MINUTES = 30.0
# 10-15 minutes of retro walking per session gives the benefit; suggestions
# never grow past the top of that range.
MAX_SUGGESTED_MINUTES = 15.0
# The starter program: 2-3 minutes backwards, slowly ("start under 2 mph").
STARTER_MIN_MINUTES = 2.0
STARTER_MAX_MINUTES = 3.0
STARTER_MAX_SPEED_KMH = 2.4
# The intervals program alternates these blocks.
INTERVAL_FORWARD_MINUTES = 2.0
INTERVAL_BACKWARD_MINUTES = 1.0
# The ratio program: one minute backwards for every ten forwards.
RATIO_FORWARD_MINUTES = 10.0
RATIO_BACKWARD_MINUTES = 1.0


class ProgramKind(StrEnum):
    """The training programs a session can follow."""

    STARTER = "starter"
    INTERVALS = "intervals"
    RATIO = "ratio"
    CUSTOM = "custom"


class PhaseKind(StrEnum):
    """What the walker does during one segment of a program."""

    WARM_UP = "warm_up"
    FORWARD = "forward"
    BACKWARD = "backward"
    COOL_DOWN = "cool_down"


class SessionState(StrEnum):
    """Where a session stands."""

    IDLE = "idle"
    WARM_UP = "warm_up"
    FORWARD = "forward"
    BACKWARD = "backward"
    COOL_DOWN = "cool_down"
    PAUSED = "paused"
    PAUSED_BY_SAFETY = "paused_by_safety"
    INTERRUPTED = "interrupted"
    FINISHED = "finished"


class EndReason(StrEnum):
    """Why a session ended."""

    COMPLETED = "completed"
    STOPPED = "stopped"


MOVING_STATES = frozenset(
    {
        SessionState.WARM_UP,
        SessionState.FORWARD,
        SessionState.BACKWARD,
        SessionState.COOL_DOWN,
    }
)
HALTED_STATES = frozenset(
    {SessionState.PAUSED, SessionState.PAUSED_BY_SAFETY, SessionState.INTERRUPTED}
)


class SessionError(Exception):
    """An operation that the session's current state does not allow."""


def cap_speed(speed: float, experience: Experience) -> float:
    """Clamp a belt speed (km/h) to what the walker's experience allows.

    NaN passes every comparison, so it is refused rather than clamped (it once
    drove a simulated belt to -7 km/h).
    """
    return round(min(max(finite(speed), MIN_SPEED_KMH), SPEED_CAP_KMH[experience]), 2)


def finite(value: object) -> float:
    """``value`` as a finite float, or an error as ``float()`` would raise.

    TypeError when it is not a number or a string; ValueError when it is NaN,
    infinite or an unreadable string.

    Every number that comes from outside (a service call, stored data) goes
    through this before it can reach a belt or a metric.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        msg = f"not a number: {value!r}"
        raise TypeError(msg)
    number = float(value)
    if not math.isfinite(number):
        msg = f"not a finite number: {value!r}"
        raise ValueError(msg)
    return number


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One block of a program: a phase at a belt speed for a time."""

    kind: PhaseKind
    duration: float
    speed: float


@dataclass(frozen=True, kw_only=True)
class ProgramSettings:
    """Everything a program is built from."""

    experience: Experience
    backward_minutes: float
    backward_speed: float
    forward_speed: float
    warm_up_minutes: float
    cool_down_minutes: float


_MIN_BLOCK_SECONDS = 0.001


def _backward_blocks(total_minutes: float, block_minutes: float) -> list[float]:
    """Split backward minutes into blocks; the last may be shorter."""
    blocks: list[float] = []
    remaining = total_minutes
    # Stop at slivers of float error: under a millisecond is no block at all.
    while remaining * SECONDS_PER_MINUTE >= _MIN_BLOCK_SECONDS:
        blocks.append(min(block_minutes, remaining))
        remaining -= block_minutes
    return blocks


def build_program(kind: ProgramKind, settings: ProgramSettings) -> tuple[Segment, ...]:
    """Build a program's segments; every speed is capped by experience."""
    cap = SPEED_CAP_KMH[settings.experience]
    forward = cap_speed(settings.forward_speed, settings.experience)
    backward = cap_speed(settings.backward_speed, settings.experience)
    minutes = min(
        max(settings.backward_minutes, MIN_BACKWARD_MINUTES), MAX_BACKWARD_MINUTES
    )

    plan: list[tuple[PhaseKind, float, float]] = [
        (PhaseKind.WARM_UP, settings.warm_up_minutes, forward)
    ]
    if kind is ProgramKind.STARTER:
        minutes = min(max(minutes, STARTER_MIN_MINUTES), STARTER_MAX_MINUTES)
        plan.append(
            (PhaseKind.BACKWARD, minutes, min(backward, STARTER_MAX_SPEED_KMH, cap))
        )
    elif kind is ProgramKind.INTERVALS:
        for index, block in enumerate(
            _backward_blocks(minutes, INTERVAL_BACKWARD_MINUTES)
        ):
            if index:
                plan.append((PhaseKind.FORWARD, INTERVAL_FORWARD_MINUTES, forward))
            plan.append((PhaseKind.BACKWARD, block, backward))
    elif kind is ProgramKind.RATIO:
        for block in _backward_blocks(minutes, RATIO_BACKWARD_MINUTES):
            plan.append((PhaseKind.FORWARD, RATIO_FORWARD_MINUTES * block, forward))
            plan.append((PhaseKind.BACKWARD, block, backward))
    else:
        plan.append((PhaseKind.BACKWARD, minutes, backward))
    plan.append((PhaseKind.COOL_DOWN, settings.cool_down_minutes, forward))

    # Drop empty blocks, including slivers of float error that round to 0 s.
    timed = [
        (phase, round(mins * SECONDS_PER_MINUTE, 3), speed)
        for phase, mins, speed in plan
    ]
    return tuple(
        Segment(kind=phase, duration=duration, speed=speed)
        for phase, duration, speed in timed
        if duration > 0
    )


# Compendium of Physical Activities 2011, walking on a level surface:
# (speed mph, MET). 17151 <2 mph 2.0; 17152 2.0 mph 2.8; 17170 2.5 mph 3.0;
# 17190 2.8-3.2 mph 3.5; 17200 3.5 mph 4.3; 17220 4.0 mph 5.0.
FORWARD_MET_TABLE: tuple[tuple[float, float], ...] = (
    (1.0, 2.0),
    (2.0, 2.8),
    (2.5, 3.0),
    (3.0, 3.5),
    (3.5, 4.3),
    (4.0, 5.0),
)
# 17320 walking backwards, 3.5 mph, level: 6.0 MET against 4.3 forward at the
# same speed; backward walking is scaled from forward walking by that ratio.
BACKWARD_MET_AT_3_5_MPH = 6.0
BACKWARD_FACTOR = BACKWARD_MET_AT_3_5_MPH / 4.3


def forward_met(speed_kmh: float) -> float:
    """MET of level forward walking at a belt speed, interpolated."""
    mph = speed_kmh / KMH_PER_MPH
    table = FORWARD_MET_TABLE
    if mph <= table[0][0]:
        return table[0][1]
    for (low_mph, low_met), (high_mph, high_met) in itertools.pairwise(table):
        if mph <= high_mph:
            return low_met + (high_met - low_met) * (mph - low_mph) / (
                high_mph - low_mph
            )
    return table[-1][1]


def met_for(phase: PhaseKind, speed_kmh: float) -> float:
    """MET of a phase at a belt speed."""
    met = forward_met(speed_kmh)
    return met * BACKWARD_FACTOR if phase is PhaseKind.BACKWARD else met


def kcal_per_minute(met: float, body_mass_kg: float) -> float:
    """Energy from MET and body mass: kcal/min = MET x 3.5 x kg / 200."""
    return met * 3.5 * body_mass_kg / 200.0


@dataclass(kw_only=True)
class SessionMetrics:
    """What a session has measured so far."""

    active_time: float = 0.0
    backward_time: float = 0.0
    forward_time: float = 0.0
    backward_distance: float = 0.0
    forward_distance: float = 0.0
    energy: float = 0.0
    pauses: int = 0
    safety_pauses: int = 0
    paused_time: float = 0.0

    @property
    def distance(self) -> float:
        """Total distance walked, metres."""
        return self.backward_distance + self.forward_distance

    @property
    def backward_pace(self) -> float | None:
        """Backward pace in minutes per kilometre, once there is distance."""
        if self.backward_distance < 1.0:
            return None
        return (self.backward_time / SECONDS_PER_MINUTE) / (
            self.backward_distance / 1000.0
        )


_FLOAT_METRICS = (
    "active_time",
    "backward_time",
    "forward_time",
    "backward_distance",
    "forward_distance",
    "energy",
    "paused_time",
)


@dataclass(frozen=True, kw_only=True)
class PhaseChange:
    """The session moved to another phase (or finished: ``segment`` is None)."""

    previous: PhaseKind | None
    segment: Segment | None


@dataclass(frozen=True, kw_only=True)
class SafetyEvent:
    """A safety event kept with the session: what happened, when, how serious.

    ``tier`` follows the detector: 1 pause now, 2 confirmed fall, 3 unsteady.
    """

    at: float
    kind: str
    tier: int = 1

    def as_dict(self) -> dict[str, Any]:
        """Serialise (JSON types only)."""
        return {"at": self.at, "kind": self.kind, "tier": self.tier}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Restore; raises KeyError/ValueError/TypeError on bad data."""
        return cls(
            at=finite(data["at"]), kind=str(data["kind"]), tier=int(data.get("tier", 1))
        )


@dataclass(kw_only=True)
class PhaseLap:
    """What one segment of the program measured: one lap of an exported workout.

    ``start``/``end`` are when its walking began and last ended (pauses in
    between included); ``time`` is the walking in it.
    """

    index: int
    kind: PhaseKind
    start: float
    end: float
    time: float = 0.0
    distance: float = 0.0
    energy: float = 0.0
    peak_speed: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Serialise (JSON types only)."""
        return {**asdict(self), "kind": self.kind.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Restore; raises KeyError/ValueError/TypeError on bad data."""
        return cls(
            index=int(data["index"]),
            kind=PhaseKind(data["kind"]),
            start=finite(data["start"]),
            end=finite(data["end"]),
            time=finite(data.get("time", 0.0)),
            distance=finite(data.get("distance", 0.0)),
            energy=finite(data.get("energy", 0.0)),
            peak_speed=finite(data.get("peak_speed", 0.0)),
        )


@dataclass(kw_only=True)
class PauseSpan:
    """A time the session stood still, and why.

    ``reason`` is "user", "interrupted" or "safety:<what>"; ``end`` is None
    while it lasts.
    """

    start: float
    reason: str
    end: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise (JSON types only)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Restore; raises KeyError/ValueError/TypeError on bad data."""
        end = data.get("end")
        return cls(
            start=finite(data["start"]),
            reason=str(data["reason"]),
            end=None if end is None else finite(end),
        )


@dataclass(kw_only=True)
class Session:
    """A retro walking session following a program.

    The session knows what the belt *should* do (``target_speed``); the caller
    drives the belt and reports what it measured to ``advance``.
    """

    program: ProgramKind
    segments: tuple[Segment, ...]
    body_mass: float
    started_at: float
    target_backward_minutes: float
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: SessionState = SessionState.IDLE
    segment_index: int = 0
    segment_elapsed: float = 0.0
    metrics: SessionMetrics = field(default_factory=SessionMetrics)
    last_update: float = 0.0
    ended_at: float | None = None
    end_reason: EndReason | None = None
    paused_since: float | None = None
    safety_events: list[SafetyEvent] = field(default_factory=list)
    # Whose session it is: the walker profile's id and name.
    walker_id: str | None = None
    walker: str | None = None
    # What each segment measured, and when the session stood still.
    laps: list[PhaseLap] = field(default_factory=list)
    pause_log: list[PauseSpan] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        *,
        program: ProgramKind,
        settings: ProgramSettings,
        body_mass: float,
        now: float,
        walker_id: str | None = None,
        walker: str | None = None,
    ) -> Self:
        """Create a session and begin its first segment."""
        segments = build_program(program, settings)
        session = cls(
            program=program,
            segments=segments,
            body_mass=body_mass,
            started_at=now,
            last_update=now,
            walker_id=walker_id,
            walker=walker,
            target_backward_minutes=sum(
                s.duration for s in segments if s.kind is PhaseKind.BACKWARD
            )
            / SECONDS_PER_MINUTE,
        )
        session.state = _state_for(segments[0].kind)
        return session

    @property
    def segment(self) -> Segment | None:
        """The current segment, None once finished."""
        if self.segment_index >= len(self.segments):
            return None
        return self.segments[self.segment_index]

    @property
    def phase(self) -> PhaseKind | None:
        """The current phase (kept while paused), None once finished."""
        segment = self.segment
        return None if segment is None else segment.kind

    @property
    def is_moving(self) -> bool:
        """Whether the walker should be walking now."""
        return self.state in MOVING_STATES

    @property
    def is_active(self) -> bool:
        """Whether the session is under way (moving or halted, not ended)."""
        return self.state in MOVING_STATES or self.state in HALTED_STATES

    @property
    def target_speed(self) -> float:
        """The belt speed the session asks for now (0 when halted)."""
        segment = self.segment
        if not self.is_moving or segment is None:
            return 0.0
        return segment.speed

    @property
    def segment_remaining(self) -> float:
        """Seconds left in the current segment."""
        segment = self.segment
        return (
            0.0
            if segment is None
            else max(segment.duration - self.segment_elapsed, 0.0)
        )

    @property
    def remaining(self) -> float:
        """Seconds of walking left in the program."""
        later = sum(s.duration for s in self.segments[self.segment_index + 1 :])
        return self.segment_remaining + later

    def elapsed(self, now: float) -> float:
        """Wall time since the start, pauses included."""
        end = self.ended_at if self.ended_at is not None else now
        return max(end - self.started_at, 0.0)

    def advance(self, now: float, belt_speed: float | None = None) -> list[PhaseChange]:
        """Account for the time since the last call and move through segments.

        ``belt_speed`` is the measured belt speed (km/h); without a
        measurement the segment's target speed is assumed.
        """
        changes: list[PhaseChange] = []
        dt = max(now - self.last_update, 0.0)
        self.last_update = max(now, self.last_update)
        if not self.is_moving:
            return changes
        while dt > 0 and (segment := self.segment) is not None:
            step = min(dt, segment.duration - self.segment_elapsed)
            self._account(
                segment,
                step,
                segment.speed if belt_speed is None else belt_speed,
                now - dt,
            )
            self.segment_elapsed += step
            dt -= step
            if self.segment_elapsed >= segment.duration - 1e-9:
                changes.append(self._next_segment(now - dt))
        return changes

    def _account(
        self, segment: Segment, seconds: float, speed: float, start: float
    ) -> None:
        metrics = self.metrics
        distance = max(speed, 0.0) / 3.6 * seconds
        energy = 0.0
        if speed > 0:
            met = met_for(segment.kind, speed)
            energy = kcal_per_minute(met, self.body_mass) * seconds / 60.0
        if not self.laps or self.laps[-1].index != self.segment_index:
            self.laps.append(
                PhaseLap(
                    index=self.segment_index, kind=segment.kind, start=start, end=start
                )
            )
        lap = self.laps[-1]
        lap.end = start + seconds
        lap.time += seconds
        lap.distance += distance
        lap.energy += energy
        lap.peak_speed = max(lap.peak_speed, speed)
        metrics.active_time += seconds
        if segment.kind is PhaseKind.BACKWARD:
            metrics.backward_time += seconds
            metrics.backward_distance += distance
        else:
            metrics.forward_time += seconds
            metrics.forward_distance += distance
        metrics.energy += energy

    def _pause_log_open(self, start: float, reason: str) -> None:
        if not self.pause_log or self.pause_log[-1].end is not None:
            self.pause_log.append(PauseSpan(start=start, reason=reason))
        elif reason.startswith("safety"):
            # A safety halt during the walker's own pause: it counts as safety.
            self.pause_log[-1].reason = reason

    def _pause_log_close(self, end: float) -> None:
        if self.pause_log and self.pause_log[-1].end is None:
            self.pause_log[-1].end = max(end, self.pause_log[-1].start)

    def _next_segment(self, when: float) -> PhaseChange:
        previous = self.phase
        self.segment_index += 1
        self.segment_elapsed = 0.0
        segment = self.segment
        if segment is None:
            self._end(when, EndReason.COMPLETED)
        else:
            self.state = _state_for(segment.kind)
        return PhaseChange(previous=previous, segment=segment)

    def note(self, now: float, kind: str, tier: int) -> None:
        """Record a safety event that does not halt the session (unsteadiness)."""
        self.safety_events.append(SafetyEvent(at=now, kind=kind, tier=tier))

    def tier_counts(self) -> dict[int, int]:
        """How many safety events of each tier the session had."""
        counts = {1: 0, 2: 0, 3: 0}
        for event in self.safety_events:
            counts[event.tier] = counts.get(event.tier, 0) + 1
        return counts

    def pause(self, now: float, *, safety: str | None = None, tier: int = 1) -> None:
        """Halt the session.

        ``safety`` names why the belt was halted for safety (a safety key, an
        instability, a lost treadmill...): it is recorded and overrides a user
        pause. A safety event on a session that is already halted is recorded
        too, without counting another pause.
        """
        if self.is_moving:
            self.advance(now)
            if self.state is SessionState.FINISHED:
                # Catching up finished the program: there is nothing to pause.
                msg = f"cannot pause a session that is {self.state}"
                raise SessionError(msg)
            self.paused_since = now
            self.metrics.pauses += 1
        elif safety is None or not self.is_active:
            msg = f"cannot pause a session that is {self.state}"
            raise SessionError(msg)
        self._pause_log_open(now, "user" if safety is None else f"safety:{safety}")
        if safety is None:
            self.state = SessionState.PAUSED
            return
        self.safety_events.append(SafetyEvent(at=now, kind=safety, tier=tier))
        if self.state not in (SessionState.PAUSED_BY_SAFETY, SessionState.INTERRUPTED):
            self.metrics.safety_pauses += 1
            self.state = SessionState.PAUSED_BY_SAFETY

    def interrupt(self, now: float) -> None:
        """Mark the session interrupted (Home Assistant stopped under it).

        The time since the last update is not counted: nobody knows whether
        the walker kept walking.
        """
        if not self.is_active:
            msg = f"cannot interrupt a session that is {self.state}"
            raise SessionError(msg)
        if self.paused_since is None:
            self.paused_since = self.last_update
        self._pause_log_open(self.paused_since, "interrupted")
        self.last_update = now
        self.state = SessionState.INTERRUPTED

    def resume(self, now: float) -> None:
        """Carry on walking after a pause or an interruption."""
        segment = self.segment
        if self.state not in HALTED_STATES or segment is None:
            msg = f"cannot resume a session that is {self.state}"
            raise SessionError(msg)
        if self.paused_since is not None:
            self.metrics.paused_time += max(now - self.paused_since, 0.0)
        self.paused_since = None
        self._pause_log_close(now)
        self.last_update = now
        self.state = _state_for(segment.kind)

    def stop(self, now: float) -> None:
        """End the session early (or record the end of a completed one)."""
        if not self.is_active:
            msg = f"cannot stop a session that is {self.state}"
            raise SessionError(msg)
        self.advance(now)
        if self.state is not SessionState.FINISHED:
            if self.paused_since is not None:
                self.metrics.paused_time += max(now - self.paused_since, 0.0)
                self.paused_since = None
            self._pause_log_close(now)
            self._end(now, EndReason.STOPPED)

    def _end(self, now: float, reason: EndReason) -> None:
        self.state = SessionState.FINISHED
        self.ended_at = now
        self.end_reason = reason

    def record(self) -> SessionRecord:
        """Return the history record of an ended session."""
        if self.ended_at is None or self.end_reason is None:
            msg = "the session has not ended"
            raise SessionError(msg)
        metrics = self.metrics
        return SessionRecord(
            session_id=self.session_id,
            program=self.program,
            started_at=self.started_at,
            ended_at=self.ended_at,
            end_reason=self.end_reason,
            target_backward_minutes=round(self.target_backward_minutes, 2),
            active_time=round(metrics.active_time, 1),
            backward_time=round(metrics.backward_time, 1),
            forward_time=round(metrics.forward_time, 1),
            backward_distance=round(metrics.backward_distance, 1),
            distance=round(metrics.distance, 1),
            energy=round(metrics.energy, 1),
            pauses=metrics.pauses,
            safety_pauses=metrics.safety_pauses,
            safety_events=tuple(self.safety_events),
            walker_id=self.walker_id,
            walker=self.walker,
            laps=tuple(self.laps),
            pause_log=tuple(self.pause_log),
        )

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage (JSON types only)."""
        data = asdict(self)
        data["safety_events"] = [event.as_dict() for event in self.safety_events]
        data["laps"] = [lap.as_dict() for lap in self.laps]
        data["pause_log"] = [span.as_dict() for span in self.pause_log]
        data["segments"] = [{**asdict(s), "kind": s.kind.value} for s in self.segments]
        data["program"] = self.program.value
        data["state"] = self.state.value
        data["end_reason"] = None if self.end_reason is None else self.end_reason.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Restore a session stored with ``as_dict``; raises on bad data."""
        segments = tuple(
            Segment(
                kind=PhaseKind(s["kind"]),
                duration=finite(s["duration"]),
                speed=finite(s["speed"]),
            )
            for s in data["segments"]
        )
        if not segments:
            msg = "a session needs segments"
            raise ValueError(msg)
        metrics = SessionMetrics(**data["metrics"])
        for name in _FLOAT_METRICS:
            setattr(metrics, name, finite(getattr(metrics, name)))
        metrics.pauses = int(metrics.pauses)
        metrics.safety_pauses = int(metrics.safety_pauses)
        state = SessionState(data["state"])
        segment_index = int(data["segment_index"])
        if not 0 <= segment_index <= len(segments):
            msg = f"segment index {segment_index} out of range"
            raise ValueError(msg)
        if segment_index == len(segments) and state is not SessionState.FINISHED:
            msg = f"a session that is {state} needs a current segment"
            raise ValueError(msg)
        end_reason = data.get("end_reason")
        ended_at = data.get("ended_at")
        paused_since = data.get("paused_since")
        return cls(
            program=ProgramKind(data["program"]),
            segments=segments,
            body_mass=finite(data["body_mass"]),
            started_at=finite(data["started_at"]),
            target_backward_minutes=finite(data["target_backward_minutes"]),
            session_id=str(data["session_id"]),
            state=state,
            segment_index=segment_index,
            segment_elapsed=finite(data["segment_elapsed"]),
            metrics=metrics,
            last_update=finite(data["last_update"]),
            ended_at=None if ended_at is None else finite(ended_at),
            end_reason=None if end_reason is None else EndReason(end_reason),
            paused_since=None if paused_since is None else finite(paused_since),
            safety_events=[
                SafetyEvent.from_dict(event) for event in data.get("safety_events", [])
            ],
            walker_id=_optional_str(data.get("walker_id")),
            walker=_optional_str(data.get("walker")),
            laps=[PhaseLap.from_dict(lap) for lap in data.get("laps", [])],
            pause_log=[PauseSpan.from_dict(span) for span in data.get("pause_log", [])],
        )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _state_for(phase: PhaseKind) -> SessionState:
    return SessionState(phase.value)


@dataclass(frozen=True, kw_only=True)
class SessionRecord:
    """One finished session in the history."""

    session_id: str
    program: ProgramKind
    started_at: float
    ended_at: float
    end_reason: EndReason
    target_backward_minutes: float
    active_time: float
    backward_time: float
    forward_time: float
    backward_distance: float
    distance: float
    energy: float
    pauses: int
    safety_pauses: int
    safety_events: tuple[SafetyEvent, ...] = ()
    # Whose session it was (None: recorded before walker profiles).
    walker_id: str | None = None
    walker: str | None = None
    # Its phases and pauses (empty for sessions recorded before they were kept).
    laps: tuple[PhaseLap, ...] = ()
    pause_log: tuple[PauseSpan, ...] = ()

    @property
    def peak_backward_speed(self) -> float | None:
        """The fastest backward belt speed (km/h), if laps were kept."""
        speeds = [lap.peak_speed for lap in self.laps if lap.kind is PhaseKind.BACKWARD]
        return max(speeds) if speeds else None

    def for_walker(self, walker_id: str, walker: str) -> SessionRecord:
        """The same record, as one walker's."""
        return replace(self, walker_id=walker_id, walker=walker)

    @property
    def completed(self) -> bool:
        """Whether the whole program was walked."""
        return self.end_reason is EndReason.COMPLETED

    @property
    def backward_minutes(self) -> float:
        """Minutes walked backwards."""
        return self.backward_time / SECONDS_PER_MINUTE

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and service responses (JSON types only)."""
        return {
            **asdict(self),
            "program": self.program.value,
            "end_reason": self.end_reason.value,
            "safety_events": [event.as_dict() for event in self.safety_events],
            "laps": [lap.as_dict() for lap in self.laps],
            "pause_log": [span.as_dict() for span in self.pause_log],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Restore a record; raises KeyError/ValueError/TypeError on bad data."""
        return cls(
            session_id=str(data["session_id"]),
            program=ProgramKind(data["program"]),
            started_at=finite(data["started_at"]),
            ended_at=finite(data["ended_at"]),
            end_reason=EndReason(data["end_reason"]),
            target_backward_minutes=finite(data["target_backward_minutes"]),
            active_time=finite(data["active_time"]),
            backward_time=finite(data["backward_time"]),
            forward_time=finite(data["forward_time"]),
            backward_distance=finite(data["backward_distance"]),
            distance=finite(data["distance"]),
            energy=finite(data["energy"]),
            pauses=int(data["pauses"]),
            safety_pauses=int(data["safety_pauses"]),
            safety_events=tuple(
                SafetyEvent.from_dict(event) for event in data.get("safety_events", [])
            ),
            walker_id=_optional_str(data.get("walker_id")),
            walker=_optional_str(data.get("walker")),
            laps=tuple(PhaseLap.from_dict(lap) for lap in data.get("laps", [])),
            pause_log=tuple(
                PauseSpan.from_dict(span) for span in data.get("pause_log", [])
            ),
        )


@dataclass(frozen=True, kw_only=True)
class WeeklySummary:
    """Progress through the current week (Monday to Sunday, local time)."""

    week_start: datetime
    backward_minutes: float
    sessions: int
    goal_minutes: float
    streak_days: int

    @property
    def goal_progress(self) -> float:
        """Percentage of the weekly goal walked backwards (may exceed 100)."""
        if self.goal_minutes <= 0:
            return 100.0
        return round(100.0 * self.backward_minutes / self.goal_minutes, 1)


def week_start(now: datetime) -> datetime:
    """Midnight on the Monday of ``now``'s week, in ``now``'s time zone."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=now.weekday())


def weekly_summary(
    records: Iterable[SessionRecord], *, now: datetime, goal_minutes: float
) -> WeeklySummary:
    """Summarise the current week's sessions and the day streak."""
    start = week_start(now)
    start_ts = start.timestamp()
    minutes = 0.0
    sessions = 0
    days: set[date] = set()
    for record in records:
        if record.backward_time > 0:
            days.add(datetime.fromtimestamp(record.started_at, now.tzinfo).date())
        if record.started_at >= start_ts:
            minutes += record.backward_minutes
            sessions += 1
    return WeeklySummary(
        week_start=start,
        backward_minutes=round(minutes, 1),
        sessions=sessions,
        goal_minutes=goal_minutes,
        streak_days=_streak(days, now.date()),
    )


def _streak(days: set[date], today: date) -> int:
    """Consecutive days with a session, up to today (or yesterday)."""
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def _round_half(value: float, rounding: Callable[[float], int]) -> float:
    """Round to a half minute with the given rounding function."""
    return rounding(value * 2) / 2


def suggest_backward_minutes(
    records: Sequence[SessionRecord], experience: Experience
) -> float:
    """Suggest the next session's backward minutes from the last one.

    Grow gradually (about 10 %, at least half a minute) after a completed,
    steady session; hold at what was walked after a session stopped early;
    step back a minute after a session with safety pauses.
    """
    if not records:
        return FIRST_SESSION_MINUTES[experience]
    last = max(records, key=lambda r: r.started_at)
    walked = last.backward_minutes
    if last.safety_pauses:
        suggestion = _round_half(
            min(walked, last.target_backward_minutes) - 1.0, math.floor
        )
    elif last.completed:
        target = last.target_backward_minutes
        suggestion = max(_round_half(target * 1.1, math.ceil), target + 0.5)
    else:
        suggestion = _round_half(walked, math.floor)
    return min(max(suggestion, MIN_BACKWARD_MINUTES), MAX_SUGGESTED_MINUTES)
