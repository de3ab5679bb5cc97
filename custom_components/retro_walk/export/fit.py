"""Write a finished session as a FIT activity file (Garmin Connect, Strava, …).

Pure Python, no Home Assistant import. The encoder is fit-tool (BSD-3-Clause,
no dependencies of its own); docs/export.md says why and lists every message
and field written. Nothing that is not a finite number reaches the file: a
missing or non-finite value is left out (readers see the field as absent).

Writing is CPU work (about 0.1 s for an hour of per-second records): call
:func:`write_fit` from an executor, not from the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import math
import os
from pathlib import Path
import tempfile
from typing import TYPE_CHECKING, Any

from fit_tool.data_message import DataMessage  # type: ignore[import-untyped]
from fit_tool.fit_file_builder import FitFileBuilder  # type: ignore[import-untyped]
from fit_tool.profile.messages.activity_message import (  # type: ignore[import-untyped]
    ActivityMessage,
)
from fit_tool.profile.messages.common_fields import (  # type: ignore[import-untyped]
    TimestampField,
)
from fit_tool.profile.messages.device_info_message import (  # type: ignore[import-untyped]
    DeviceInfoMessage,
)
from fit_tool.profile.messages.event_message import (  # type: ignore[import-untyped]
    EventMessage,
)
from fit_tool.profile.messages.file_id_message import (  # type: ignore[import-untyped]
    FileIdMessage,
)
from fit_tool.profile.messages.lap_message import (  # type: ignore[import-untyped]
    LapMessage,
)
from fit_tool.profile.messages.record_message import (  # type: ignore[import-untyped]
    RecordDistanceField,
    RecordMessage,
    RecordSpeedField,
)
from fit_tool.profile.messages.session_message import (  # type: ignore[import-untyped]
    SessionMessage,
)
from fit_tool.profile.messages.sport_message import (  # type: ignore[import-untyped]
    SportMessage,
)
from fit_tool.profile.messages.workout_message import (  # type: ignore[import-untyped]
    WorkoutMessage,
)
from fit_tool.profile.messages.workout_step_message import (  # type: ignore[import-untyped]
    WorkoutStepMessage,
)
from fit_tool.profile.profile_type import (  # type: ignore[import-untyped]
    Activity as FitActivityType,
    Event,
    EventType,
    FileType,
    Intensity,
    LapTrigger,
    Manufacturer,
    SessionTrigger,
    Sport,
    SubSport,
    TimerTrigger,
    WorkoutStepDuration,
    WorkoutStepTarget,
)

from custom_components.retro_walk.session import PhaseKind

from .activity import Activity, Lap, Pause, Record, safe_name

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

PRODUCT_NAME = "Retro Walk"
# What readers show for each phase: the lap's intensity (Garmin Connect's
# "step type") and the name of the workout step the lap points to.
INTENSITY: dict[PhaseKind, Any] = {
    PhaseKind.WARM_UP: Intensity.WARMUP,
    PhaseKind.BACKWARD: Intensity.ACTIVE,
    PhaseKind.FORWARD: Intensity.RECOVERY,
    PhaseKind.COOL_DOWN: Intensity.COOLDOWN,
}
STEP_NAME: dict[PhaseKind, str] = {
    PhaseKind.WARM_UP: "Warm-up",
    PhaseKind.BACKWARD: "Backward",
    PhaseKind.FORWARD: "Forward",
    PhaseKind.COOL_DOWN: "Cool-down",
}
STEP_NOTES: dict[PhaseKind, str] = {
    PhaseKind.WARM_UP: "Walk forwards to warm up",
    PhaseKind.BACKWARD: "Walk backwards (retro walking)",
    PhaseKind.FORWARD: "Walk forwards",
    PhaseKind.COOL_DOWN: "Walk forwards to cool down",
}
# fit-tool's own validation of the file (wire, profile and activity rules)
# before it is written; the tests turn it on, a running station need not pay.
STRICT = False
# Synthesised records are one a second up to a day; past that they thin out
# so a file never holds more than this many.
MAX_SYNTHESISED_RECORDS = 86_400
# Field ranges (FIT base types less their invalid value).
_UINT16_MAX = 0xFFFE
_SPEED_MAX_MPS = _UINT16_MAX / 1000  # speed: uint16, scale 1000
_DISTANCE_MAX_M = 0xFFFFFFFE / 100  # distance: uint32, scale 100
_TIME_MAX_S = 0xFFFFFFFE / 1000  # total_*_time: uint32, scale 1000
_KMH_PER_MPS = 3.6
# 1989-12-31T00:00:00Z, where FIT's times count from.
FIT_EPOCH = 631_065_600
# Sorting messages that share a second: timer start, records, laps, stop.
_ORDER_START, _ORDER_RECORD, _ORDER_STOP, _ORDER_LAP = 0, 1, 2, 3


def _finite(value: float | None, maximum: float) -> float | None:
    """``value`` when it is a finite number, clamped to [0, maximum]."""
    if value is None or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return min(max(number, 0.0), maximum)


def _ms(t: float) -> int:
    """FIT keeps whole seconds; fit-tool takes milliseconds since the epoch."""
    return round(t) * 1000


@dataclass(frozen=True, kw_only=True)
class _Interval:
    start: float
    end: float

    def overlap(self, start: float, end: float) -> float:
        return max(0.0, min(self.end, end) - max(self.start, start))


def _clean_pauses(pauses: Sequence[Pause], start: float, end: float) -> list[Pause]:
    """Pauses inside the session, in order, overlapping ones merged."""
    clipped = sorted(
        (
            Pause(start=max(p.start, start), end=min(p.end, end), reason=p.reason)
            for p in pauses
            if math.isfinite(p.start) and math.isfinite(p.end)
        ),
        key=lambda p: p.start,
    )
    merged: list[Pause] = []
    for pause in clipped:
        if pause.end < pause.start:
            continue
        if merged and pause.start <= merged[-1].end:
            last = merged[-1]
            # A safety pause that overlaps the walker's keeps the safety reason.
            reason = last.reason if last.safety or not pause.safety else pause.reason
            merged[-1] = Pause(
                start=last.start, end=max(last.end, pause.end), reason=reason
            )
        else:
            merged.append(pause)
    return merged


def _paused(pauses: Sequence[Pause], start: float, end: float) -> float:
    return sum(_Interval(start=p.start, end=p.end).overlap(start, end) for p in pauses)


def _in_pause(pauses: Sequence[Pause], t: float) -> bool:
    """Strictly inside a pause: no record there (its edges may have one)."""
    return any(p.start < t < p.end for p in pauses)


@dataclass(frozen=True, kw_only=True)
class _LapOut:
    """A lap as written: clipped to the session, with its timer time."""

    lap: Lap | None
    start: float
    end: float
    timer: float
    distance: float | None
    energy: float | None
    speed_mps: float | None


def _clean_laps(activity: Activity, pauses: list[Pause]) -> list[_LapOut]:
    start, end = activity.start, activity.start + activity.elapsed_s
    laps: list[_LapOut] = []
    for lap in sorted(
        (
            lap
            for lap in activity.laps
            if math.isfinite(lap.start) and math.isfinite(lap.end)
        ),
        key=lambda lap: lap.start,
    ):
        lap_start = min(max(lap.start, start), end)
        lap_end = min(max(lap.end, lap_start), end)
        speed = _finite(lap.avg_speed_kmh, _SPEED_MAX_MPS * _KMH_PER_MPS)
        laps.append(
            _LapOut(
                lap=lap,
                start=lap_start,
                end=lap_end,
                timer=lap_end - lap_start - _paused(pauses, lap_start, lap_end),
                distance=_finite(lap.distance_m, _DISTANCE_MAX_M),
                energy=_finite(lap.energy_kcal, _UINT16_MAX),
                speed_mps=None if speed is None else speed / _KMH_PER_MPS,
            )
        )
    if not laps:
        # No phases known: one lap for the whole session.
        distance = _finite(activity.total_distance_m, _DISTANCE_MAX_M)
        timer = end - start - _paused(pauses, start, end)
        laps.append(
            _LapOut(
                lap=None,
                start=start,
                end=end,
                timer=timer,
                distance=distance,
                energy=_finite(activity.total_energy_kcal, _UINT16_MAX),
                speed_mps=(distance / timer) if distance and timer > 0 else None,
            )
        )
    return laps


def _lap_at(laps: list[_LapOut], t: float) -> _LapOut | None:
    """The lap under way at ``t`` (the last one at the session's end)."""
    for lap in laps:
        if lap.start <= t < lap.end:
            return lap
    return laps[-1] if laps and t >= laps[-1].end else None


def _distance_at(laps: list[_LapOut], pauses: list[Pause], t: float) -> float:
    """Distance walked by ``t``: each lap's distance spread over its moving time."""
    total = 0.0
    for lap in laps:
        if lap.distance is None or t <= lap.start:
            continue
        if t >= lap.end or lap.timer <= 0:
            total += lap.distance
            continue
        moving = t - lap.start - _paused(pauses, lap.start, t)
        total += lap.distance * min(max(moving / lap.timer, 0.0), 1.0)
    return total


def _synthesise(
    start: float, end: float, laps: list[_LapOut], pauses: list[Pause]
) -> list[Record]:
    """One record a second (none inside a pause), speed constant within a lap."""
    elapsed = end - start
    step = max(1, math.ceil(elapsed / MAX_SYNTHESISED_RECORDS))
    times = [start + k for k in range(0, int(elapsed) + 1, step)]
    if round(end) > round(times[-1]):
        times.append(end)
    records: list[Record] = []
    for t in times:
        if _in_pause(pauses, t):
            continue
        lap = _lap_at(laps, t)
        stopped = any(p.start <= t < p.end for p in pauses) or t >= end
        speed = 0.0 if lap is None or stopped else (lap.speed_mps or 0.0)
        records.append(
            Record(t=t, speed_mps=speed, distance_m=_distance_at(laps, pauses, t))
        )
    return records


def _clean_records(records: Sequence[Record], start: float, end: float) -> list[Record]:
    """Given records inside the session, in order, one per second."""
    by_second: dict[int, Record] = {}
    for record in records:
        if not math.isfinite(record.t) or not start - 0.5 <= record.t <= end + 0.5:
            continue
        by_second[round(record.t)] = record
    return [by_second[second] for second in sorted(by_second)]


def _record_message(record: Record, distance: float | None) -> Any:
    """A record with timestamp, distance and speed only.

    fit-tool's ``RecordMessage()`` allocates all ~80 fields of the profile's
    record; one with the three fields written encodes ten times faster.
    """
    fields = [TimestampField(size=0, growable=True)]
    fields[0].set_value(0, _ms(record.t), None)
    speed = _finite(record.speed_mps, _SPEED_MAX_MPS)
    for value, field_type in (
        (distance, RecordDistanceField),
        (speed, RecordSpeedField),
    ):
        if value is not None:
            fit_field = field_type(size=0, growable=True)
            fit_field.set_value(0, value, None)
            fields.append(fit_field)
    # A RecordMessage with only these fields, made as fit-tool's own
    # RecordMessage.from_definition makes one (its properties still work).
    message = RecordMessage.__new__(RecordMessage)
    DataMessage.__init__(
        message,
        name=RecordMessage.NAME,
        global_id=RecordMessage.ID,
        local_id=0,
        fields=fields,
    )
    return message


def _timer_event(t: float, event_type: Any, *, safety: bool) -> Any:
    message = EventMessage()
    message.timestamp = _ms(t)
    message.event = Event.TIMER
    message.event_type = event_type
    message.event_group = 0
    message.timer_trigger = (
        TimerTrigger.FITNESS_EQUIPMENT if safety else TimerTrigger.MANUAL
    )
    return message


def _timer_events(
    start: float, end: float, pauses: list[Pause]
) -> Iterator[tuple[float, int, Any]]:
    """Start, a stop and a start around each pause, the final stop."""
    yield start, _ORDER_START, _timer_event(start, EventType.START, safety=False)
    running = True
    for pause in pauses:
        if running:
            yield (
                pause.start,
                _ORDER_STOP,
                _timer_event(pause.start, EventType.STOP_ALL, safety=pause.safety),
            )
            running = False
        if pause.end < end:
            yield (
                pause.end,
                _ORDER_START,
                _timer_event(pause.end, EventType.START, safety=pause.safety),
            )
            running = True
    if running:
        yield end, _ORDER_STOP, _timer_event(end, EventType.STOP_ALL, safety=False)


def _sport(*, treadmill: bool) -> tuple[Any, Any]:
    return Sport.WALKING, SubSport.TREADMILL if treadmill else SubSport.GENERIC


def _serial_number(activity: Activity) -> int:
    """A stable per-session serial: Garmin Connect spots a re-upload by it."""
    seed = activity.session_id or f"{activity.start}"
    value = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    return value % 0xFFFFFFFE or 1


def _header(activity: Activity, laps: list[_LapOut]) -> list[Any]:
    """file_id, the creator's device_info, sport, workout and its steps."""
    sport, sub_sport = _sport(treadmill=activity.treadmill)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 0
    file_id.serial_number = _serial_number(activity)
    file_id.time_created = _ms(activity.start)
    file_id.product_name = PRODUCT_NAME

    device = DeviceInfoMessage()
    device.timestamp = _ms(activity.start)
    device.device_index = 0  # the creator
    device.manufacturer = Manufacturer.DEVELOPMENT.value
    device.product = 0
    device.serial_number = file_id.serial_number
    device.product_name = PRODUCT_NAME

    sport_message = SportMessage()
    sport_message.sport = sport
    sport_message.sub_sport = sub_sport
    sport_message.sport_name = "Retro walk"
    messages: list[Any] = [file_id, device, sport_message]

    steps = [lap.lap for lap in laps if lap.lap is not None]
    if steps:
        workout = WorkoutMessage()
        workout.sport = sport
        workout.sub_sport = sub_sport
        workout.num_valid_steps = len(steps)
        workout.workout_name = (
            f"Retro walk: {activity.program}" if activity.program else "Retro walk"
        )
        messages.append(workout)
        for index, lap in enumerate(steps):
            step = WorkoutStepMessage()
            step.message_index = index
            step.workout_step_name = STEP_NAME[lap.kind]
            step.intensity = INTENSITY[lap.kind]
            step.duration_type = WorkoutStepDuration.TIME
            step.duration_time = _finite(lap.end - lap.start, _TIME_MAX_S) or 0.0
            step.target_type = WorkoutStepTarget.OPEN
            step.notes = STEP_NOTES[lap.kind]
            messages.append(step)
    return messages


def _lap_message(
    index: int, lap: _LapOut, activity: Activity, records: list[Record], *, last: bool
) -> Any:
    sport, sub_sport = _sport(treadmill=activity.treadmill)
    message = LapMessage()
    message.message_index = index
    message.timestamp = _ms(lap.end)
    message.start_time = _ms(lap.start)
    message.event = Event.LAP
    message.event_type = EventType.STOP
    message.lap_trigger = LapTrigger.SESSION_END if last else LapTrigger.TIME
    message.sport = sport
    message.sub_sport = sub_sport
    message.total_elapsed_time = _finite(lap.end - lap.start, _TIME_MAX_S)
    message.total_timer_time = _finite(lap.timer, _TIME_MAX_S)
    if lap.distance is not None:
        message.total_distance = lap.distance
    if lap.energy is not None:
        message.total_calories = round(lap.energy)
    if lap.speed_mps is not None:
        message.avg_speed = _finite(lap.speed_mps, _SPEED_MAX_MPS)
    # A record on the boundary of two laps belongs to the one that begins.
    speeds = [
        r.speed_mps
        for r in records
        if (lap.start <= r.t < lap.end or (last and r.t == lap.end))
        and math.isfinite(r.speed_mps)
    ]
    top = max(speeds, default=lap.speed_mps)
    if top is not None:
        message.max_speed = _finite(top, _SPEED_MAX_MPS)
    if lap.lap is not None:
        message.intensity = INTENSITY[lap.lap.kind]
        message.workout_step_index = index
    return message


def _summary(
    activity: Activity, laps: list[_LapOut], records: list[Record], pauses: list[Pause]
) -> list[Any]:
    """The session and activity messages."""
    sport, sub_sport = _sport(treadmill=activity.treadmill)
    start, elapsed = activity.start, activity.elapsed_s
    end = start + elapsed
    timer = _finite(activity.timer_time_s, elapsed)
    if timer is None:
        timer = elapsed - _paused(pauses, start, end)
    distance = _finite(activity.total_distance_m, _DISTANCE_MAX_M)
    energy = _finite(activity.total_energy_kcal, _UINT16_MAX)

    session = SessionMessage()
    session.message_index = 0
    session.timestamp = _ms(end)
    session.start_time = _ms(start)
    session.event = Event.SESSION
    session.event_type = EventType.STOP
    session.trigger = SessionTrigger.ACTIVITY_END
    session.sport = sport
    session.sub_sport = sub_sport
    session.total_elapsed_time = _finite(elapsed, _TIME_MAX_S)
    session.total_timer_time = _finite(timer, _TIME_MAX_S)
    if distance is not None:
        session.total_distance = distance
        if timer > 0:
            session.avg_speed = _finite(distance / timer, _SPEED_MAX_MPS)
    if energy is not None:
        session.total_calories = round(energy)
    top = max(
        (r.speed_mps for r in records if math.isfinite(r.speed_mps)), default=None
    )
    if top is not None:
        session.max_speed = _finite(top, _SPEED_MAX_MPS)
    session.first_lap_index = 0
    session.num_laps = len(laps)

    summary = ActivityMessage()
    summary.timestamp = _ms(end)
    summary.total_timer_time = _finite(timer, _TIME_MAX_S)
    summary.num_sessions = 1
    summary.type = FitActivityType.MANUAL
    summary.event = Event.ACTIVITY
    summary.event_type = EventType.STOP
    offset = _finite_offset(activity.utc_offset_s)
    if offset is not None:
        # local_date_time: seconds since the FIT epoch, not converted by fit-tool.
        summary.local_timestamp = round(end + offset) - FIT_EPOCH
    return [session, summary]


def _finite_offset(offset: float | None) -> float | None:
    """A time zone offset within ±18 h, or None."""
    if offset is None or not math.isfinite(offset) or abs(offset) > 18 * 3600:
        return None
    return offset


def fit_bytes(activity: Activity) -> bytes:
    """The FIT activity file of ``activity``.

    Raises ValueError when ``start`` is not a finite time in or after 1998
    (FIT counts from 1989-12-31 and reads smaller times as relative ones).
    """
    start = activity.start
    if not math.isfinite(start) or start < FIT_EPOCH + 0x10000000:
        msg = f"not a session start time: {start!r}"
        raise ValueError(msg)
    end = start + activity.elapsed_s
    pauses = _clean_pauses(activity.pauses, start, end)
    laps = _clean_laps(activity, pauses)
    if activity.records is None:
        records = _synthesise(start, end, laps, pauses)
    else:
        records = _clean_records(activity.records, start, end)
    if not records:
        records = [Record(t=start, speed_mps=0.0, distance_m=0.0)]

    timed: list[tuple[float, int, Any]] = list(_timer_events(start, end, pauses))
    farthest = 0.0
    for record in records:
        distance = _finite(record.distance_m, _DISTANCE_MAX_M)
        if distance is not None:
            # Cumulative: never less than a distance already written.
            distance = farthest = max(distance, farthest)
        timed.append((record.t, _ORDER_RECORD, _record_message(record, distance)))
    for index, lap in enumerate(laps):
        timed.append(
            (
                lap.end,
                _ORDER_LAP,
                _lap_message(
                    index, lap, activity, records, last=index == len(laps) - 1
                ),
            )
        )
    timed.sort(key=lambda item: (round(item[0]), item[1]))

    builder = FitFileBuilder(auto_define=True, min_string_size=0, strict=STRICT)
    builder.add_all(_header(activity, laps))
    builder.add_all([message for _, _, message in timed])
    builder.add_all(_summary(activity, laps, records, pauses))
    data: bytes = builder.build_bytes()
    return data


def fit_filename(activity: Activity) -> str:
    """``20261129T140305Z-<session>.fit``: sorts by time, unique per session."""
    when = datetime.fromtimestamp(activity.start, UTC).strftime("%Y%m%dT%H%M%SZ")
    session = safe_name(activity.session_id, "session")[:12]
    return f"{when}-{session}.fit"


def write_fit(activity: Activity, path: Path) -> Path:
    """Write ``activity`` to ``path`` (a file, or a folder to name it in).

    The file appears whole or not at all (written beside it, then renamed);
    missing folders are made. Returns the file's path.
    """
    data = fit_bytes(activity)
    if path.is_dir():
        path /= fit_filename(activity)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
