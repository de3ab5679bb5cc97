"""What a FIT export is made from: a finished session as plain data.

Pure Python, no Home Assistant import and no FIT library: the integration
builds an :class:`Activity` from a session, and :mod:`.fit` writes it. Times
are seconds since the epoch (UTC), as everywhere in the session engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math
import re

from custom_components.retro_walk.session import PhaseKind, SessionRecord

# A pause whose reason starts with this was made by the safety loop (a
# detection, the walker off the belt, …); any other reason is the walker's.
SAFETY_REASON_PREFIX = "safety"


@dataclass(frozen=True, kw_only=True)
class Lap:
    """One phase of the session: warm-up, a backward or forward block, cool-down.

    ``start`` and ``end`` include any pause inside the phase; ``distance_m``
    and ``energy_kcal`` are what the phase measured; ``avg_speed_kmh`` is the
    belt speed while it moved (records synthesised from laps use it).
    """

    kind: PhaseKind
    start: float
    end: float
    distance_m: float
    energy_kcal: float
    avg_speed_kmh: float

    def __post_init__(self) -> None:
        """Accept the phase as its string value too ("backward")."""
        object.__setattr__(self, "kind", PhaseKind(self.kind))


@dataclass(frozen=True, kw_only=True)
class Record:
    """One sample: the belt speed and the distance walked so far, at ``t``."""

    t: float
    speed_mps: float
    distance_m: float


@dataclass(frozen=True, kw_only=True)
class Pause:
    """A time the session stood still, and why.

    ``reason`` is ``"safety:<what>"`` (for example ``"safety:pause_now"``) for
    a pause made by the safety loop, anything else for the walker's own.
    """

    start: float
    end: float
    reason: str = "user"

    @property
    def safety(self) -> bool:
        """Whether the safety loop made this pause."""
        return self.reason.startswith(SAFETY_REASON_PREFIX)


@dataclass(frozen=True, kw_only=True)
class Activity:
    """A finished session, ready to export.

    ``records`` None: per-second records are synthesised from the laps
    (constant speed within a lap, none inside a pause, distance cumulative).
    ``timer_time_s`` None: the elapsed time less the pauses.
    ``utc_offset_s``: the walker's time zone offset at ``start``, written as
    the activity's local timestamp (readers use it for the local time).
    """

    start: float
    end: float
    treadmill: bool = True
    laps: Sequence[Lap] = ()
    records: Sequence[Record] | None = None
    pauses: Sequence[Pause] = ()
    total_distance_m: float = 0.0
    total_energy_kcal: float = 0.0
    timer_time_s: float | None = None
    walker: str = ""
    session_id: str = ""
    program: str = ""
    utc_offset_s: float | None = None

    @property
    def elapsed_s(self) -> float:
        """Seconds from start to end, pauses included (0 for a bad end)."""
        elapsed = self.end - self.start
        return elapsed if math.isfinite(elapsed) and elapsed > 0 else 0.0


_UNSAFE = re.compile(r"[^\w.-]+")


def safe_name(name: str, default: str = "walker") -> str:
    """``name`` as one safe path component: no separators, no dot-only names.

    Letters of any script stay ("María" → "María"); runs of anything else
    become ``_``. Used for the per-walker export folder and the file names.
    """
    cleaned = _UNSAFE.sub("_", name.strip()).strip("._")
    return cleaned[:64] or default


def activity_from_record(
    record: SessionRecord, *, treadmill: bool, utc_offset_s: float | None = None
) -> Activity:
    """The activity of a finished session: one lap per segment it walked.

    Sessions recorded before laps were kept become one lap of their main
    phase (backwards when they walked more backwards than forwards).
    """
    laps = [
        Lap(
            kind=lap.kind,
            start=lap.start,
            end=lap.end,
            distance_m=lap.distance,
            energy_kcal=lap.energy,
            avg_speed_kmh=lap.distance / lap.time * 3.6 if lap.time > 0 else 0.0,
        )
        for lap in record.laps
    ]
    if not laps and record.active_time > 0:
        laps = [
            Lap(
                kind=PhaseKind.BACKWARD
                if record.backward_time >= record.forward_time
                else PhaseKind.FORWARD,
                start=record.started_at,
                end=record.ended_at,
                distance_m=record.distance,
                energy_kcal=record.energy,
                avg_speed_kmh=record.distance / record.active_time * 3.6,
            )
        ]
    return Activity(
        start=record.started_at,
        end=record.ended_at,
        treadmill=treadmill,
        laps=laps,
        pauses=[
            Pause(
                start=span.start,
                end=record.ended_at if span.end is None else span.end,
                reason=span.reason,
            )
            for span in record.pause_log
        ],
        total_distance_m=record.distance,
        total_energy_kcal=record.energy,
        timer_time_s=record.active_time,
        walker=record.walker or "",
        session_id=record.session_id,
        program=record.program.value,
        utc_offset_s=utc_offset_s,
    )
