"""What a station shows: its status snapshot and the summary of an ended session.

Plain data (no Home Assistant import): the coordinator builds these, the
entities, intents and services read them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .const import ATTR_SESSION_EVENT_TYPE, TIER_EVENT_TYPES, SessionEventType
from .session import (
    SECONDS_PER_MINUTE,
    PhaseKind,
    ProgramKind,
    SessionRecord,
    SessionState,
    WeeklySummary,
)


@dataclass(frozen=True, kw_only=True)
class WalkerProgress:
    """One walker's week so far and what to walk next."""

    name: str
    weekly: WeeklySummary
    next_backward_minutes: float


@dataclass(frozen=True, kw_only=True)
class StationStatus:
    """A snapshot of the station that the entities show."""

    state: SessionState
    phase: PhaseKind | None
    program: ProgramKind | None
    elapsed: float
    remaining: float
    backward_time: float
    forward_time: float
    backward_distance: float
    energy: float
    backward_pace: float | None
    pauses: int
    safety_pauses: int
    belt_speed: float | None
    target_speed: float
    # The walker on the belt (the session's, else the selected one).
    walker: str | None
    # Every walker's progress, by profile id.
    walkers: dict[str, WalkerProgress]
    telemetry: dict[str, Any]
    tier_counts: dict[int, int]
    # When the session started, and when it will end if it keeps moving
    # (None while halted, or without a session).
    started_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether a session is under way (moving or halted)."""
        return self.state not in (SessionState.IDLE, SessionState.FINISHED)


def finished_event_data(record: SessionRecord) -> dict[str, Any]:
    """The summary of an ended session that the session event entity shows."""
    tiers = Counter(event.tier for event in record.safety_events)
    return {
        ATTR_SESSION_EVENT_TYPE: SessionEventType.FINISHED.value,
        "walker": record.walker,
        "walker_id": record.walker_id,
        "program": record.program.value,
        "duration_minutes": round(
            (record.ended_at - record.started_at) / SECONDS_PER_MINUTE, 1
        ),
        "backward_minutes": round(record.backward_minutes, 1),
        "backward_distance_m": round(record.backward_distance, 1),
        "energy_kcal": round(record.energy, 1),
        "end_reason": record.end_reason.value,
        "instability_events": len(record.safety_events),
        "instability_tiers": {
            name: tiers[tier] for tier, name in TIER_EVENT_TYPES.items()
        },
    }
