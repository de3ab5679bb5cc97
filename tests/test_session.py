"""Tests for the pure-Python retro walking session engine."""

from __future__ import annotations

from datetime import datetime, timedelta
import itertools
import json
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.retro_walk.session import (
    BACKWARD_FACTOR,
    FIRST_SESSION_MINUTES,
    KMH_PER_MPH,
    MAX_SUGGESTED_MINUTES,
    EndReason,
    Experience,
    PhaseChange,
    PhaseKind,
    ProgramKind,
    ProgramSettings,
    Segment,
    Session,
    SessionError,
    SessionMetrics,
    SessionRecord,
    SessionState,
    WeeklySummary,
    build_program,
    cap_speed,
    forward_met,
    kcal_per_minute,
    met_for,
    suggest_backward_minutes,
    week_start,
    weekly_summary,
)

if TYPE_CHECKING:
    from collections.abc import Callable

T0 = 1_700_000_000.0
MADRID = ZoneInfo("Europe/Madrid")


def mph(value: float) -> float:
    """Km/h of a speed given in miles per hour."""
    return value * KMH_PER_MPH


def make_settings(
    *,
    experience: Experience = Experience.BEGINNER,
    backward_minutes: float = 3.0,
    backward_speed: float = 2.0,
    forward_speed: float = 3.0,
    warm_up_minutes: float = 0.0,
    cool_down_minutes: float = 0.0,
) -> ProgramSettings:
    return ProgramSettings(
        experience=experience,
        backward_minutes=backward_minutes,
        backward_speed=backward_speed,
        forward_speed=forward_speed,
        warm_up_minutes=warm_up_minutes,
        cool_down_minutes=cool_down_minutes,
    )


def start(
    program: ProgramKind = ProgramKind.CUSTOM,
    *,
    body_mass: float = 70.0,
    now: float = T0,
    **settings: Any,
) -> Session:
    return Session.start(
        program=program,
        settings=make_settings(**settings),
        body_mass=body_mass,
        now=now,
    )


def layout(segments: tuple[Segment, ...]) -> list[tuple[PhaseKind, float]]:
    return [(s.kind, s.duration) for s in segments]


WU = PhaseKind.WARM_UP
FW = PhaseKind.FORWARD
BW = PhaseKind.BACKWARD
CD = PhaseKind.COOL_DOWN


# ---------------------------------------------------------------------------
# Speed caps
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("speed", "experience", "expected"),
    [
        (10.0, Experience.BEGINNER, 3.2),
        (10.0, Experience.INTERMEDIATE, 4.8),
        (10.0, Experience.ADVANCED, 5.8),
        (3.2, Experience.BEGINNER, 3.2),
        (3.3, Experience.BEGINNER, 3.2),
        (4.0, Experience.INTERMEDIATE, 4.0),
        (5.0, Experience.INTERMEDIATE, 4.8),
        (5.7, Experience.ADVANCED, 5.7),
        (0.1, Experience.BEGINNER, 0.5),
        (0.0, Experience.INTERMEDIATE, 0.5),
        (-3.0, Experience.ADVANCED, 0.5),
        (2.123, Experience.BEGINNER, 2.12),
    ],
)
def test_cap_speed(speed: float, experience: Experience, expected: float) -> None:
    assert cap_speed(speed, experience) == expected


def test_beginner_cap_is_two_mph() -> None:
    """Beginners stay at or under 2 mph (3.2 km/h, rounded)."""
    assert cap_speed(100.0, Experience.BEGINNER) <= round(mph(2.0), 1)


@pytest.mark.parametrize(
    ("experience", "cap"),
    [
        (Experience.BEGINNER, 3.2),
        (Experience.INTERMEDIATE, 4.8),
        (Experience.ADVANCED, 5.8),
    ],
)
@pytest.mark.parametrize("program", list(ProgramKind))
def test_every_program_speed_is_capped(
    program: ProgramKind, experience: Experience, cap: float
) -> None:
    segments = build_program(
        program,
        make_settings(
            experience=experience,
            backward_minutes=2.5,
            backward_speed=20.0,
            forward_speed=20.0,
            warm_up_minutes=1.0,
            cool_down_minutes=1.0,
        ),
    )
    assert segments
    assert all(0.5 <= s.speed <= cap for s in segments)


@pytest.mark.parametrize("program", list(ProgramKind))
def test_every_program_speed_has_a_floor(program: ProgramKind) -> None:
    segments = build_program(
        program,
        make_settings(
            backward_speed=0.0,
            forward_speed=-1.0,
            warm_up_minutes=1.0,
            cool_down_minutes=1.0,
        ),
    )
    assert {s.speed for s in segments} == {0.5}


# ---------------------------------------------------------------------------
# Program builders
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected_seconds"),
    [
        (0.0, 120.0),
        (1.0, 120.0),
        (1.5, 120.0),
        (2.0, 120.0),
        (2.5, 150.0),
        (3.0, 180.0),
        (5.0, 180.0),
        (45.0, 180.0),
    ],
)
def test_starter_clamps_to_two_to_three_minutes(
    minutes: float, expected_seconds: float
) -> None:
    segments = build_program(
        ProgramKind.STARTER,
        make_settings(
            backward_minutes=minutes, warm_up_minutes=3.0, cool_down_minutes=2.0
        ),
    )
    assert layout(segments) == [(WU, 180.0), (BW, expected_seconds), (CD, 120.0)]


@pytest.mark.parametrize(
    ("experience", "backward_speed", "expected"),
    [
        (Experience.BEGINNER, 1.8, 1.8),
        (Experience.BEGINNER, 3.0, 2.4),
        (Experience.INTERMEDIATE, 4.5, 2.4),
        (Experience.ADVANCED, 5.5, 2.4),
        (Experience.ADVANCED, 0.2, 0.5),
    ],
)
def test_starter_backward_speed_at_most_2_4(
    experience: Experience, backward_speed: float, expected: float
) -> None:
    segments = build_program(
        ProgramKind.STARTER,
        make_settings(
            experience=experience,
            backward_speed=backward_speed,
            forward_speed=4.0,
            warm_up_minutes=1.0,
            cool_down_minutes=1.0,
        ),
    )
    backward = [s for s in segments if s.kind is BW]
    assert len(backward) == 1
    assert backward[0].speed == expected
    assert backward[0].speed <= 2.4
    # Warm-up and cool-down walk forwards at the (capped) forward speed.
    forward_speed = cap_speed(4.0, experience)
    assert segments[0].speed == forward_speed
    assert segments[-1].speed == forward_speed


def test_intervals_alternate_with_shorter_last_block() -> None:
    segments = build_program(
        ProgramKind.INTERVALS,
        make_settings(
            backward_minutes=2.5,
            backward_speed=2.0,
            forward_speed=3.0,
            warm_up_minutes=1.0,
            cool_down_minutes=1.0,
        ),
    )
    assert layout(segments) == [
        (WU, 60.0),
        (BW, 60.0),
        (FW, 120.0),
        (BW, 60.0),
        (FW, 120.0),
        (BW, 30.0),
        (CD, 60.0),
    ]
    assert [s.speed for s in segments] == [3.0, 2.0, 3.0, 2.0, 3.0, 2.0, 3.0]
    # Forward and backward alternate between warm-up and cool-down.
    middle = [s.kind for s in segments[1:-1]]
    assert all(a is not b for a, b in itertools.pairwise(middle))


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1.0, [(BW, 60.0)]),
        (0.25, [(BW, 60.0)]),
        (2.0, [(BW, 60.0), (FW, 120.0), (BW, 60.0)]),
        (1.3, [(BW, 60.0), (FW, 120.0), (BW, 18.0)]),
        (2.3, [(BW, 60.0), (FW, 120.0), (BW, 60.0), (FW, 120.0), (BW, 18.0)]),
    ],
)
def test_intervals_blocks(
    minutes: float, expected: list[tuple[PhaseKind, float]]
) -> None:
    segments = build_program(
        ProgramKind.INTERVALS, make_settings(backward_minutes=minutes)
    )
    assert layout(segments) == expected


def test_intervals_backward_total_matches_request() -> None:
    segments = build_program(
        ProgramKind.INTERVALS, make_settings(backward_minutes=7.75)
    )
    backward = [s.duration for s in segments if s.kind is BW]
    assert len(backward) == 8
    assert backward[-1] == 45.0
    assert sum(backward) == pytest.approx(7.75 * 60)
    assert segments[0].kind is BW
    assert segments[-1].kind is BW


def test_ratio_ten_forward_per_backward_with_partial_last_block() -> None:
    segments = build_program(
        ProgramKind.RATIO,
        make_settings(
            backward_minutes=2.5,
            backward_speed=2.0,
            forward_speed=3.0,
            warm_up_minutes=2.0,
            cool_down_minutes=3.0,
        ),
    )
    assert layout(segments) == [
        (WU, 120.0),
        (FW, 600.0),
        (BW, 60.0),
        (FW, 600.0),
        (BW, 60.0),
        (FW, 300.0),
        (BW, 30.0),
        (CD, 180.0),
    ]
    forward = sum(s.duration for s in segments if s.kind is FW)
    backward = sum(s.duration for s in segments if s.kind is BW)
    assert forward == pytest.approx(10 * backward)


def test_ratio_without_warm_up_starts_forward() -> None:
    segments = build_program(ProgramKind.RATIO, make_settings(backward_minutes=1.0))
    assert layout(segments) == [(FW, 600.0), (BW, 60.0)]


@pytest.mark.parametrize(
    ("minutes", "expected_seconds"),
    [
        (-5.0, 60.0),
        (0.0, 60.0),
        (0.2, 60.0),
        (1.0, 60.0),
        (7.5, 450.0),
        (30.0, 1800.0),
        (45.0, 1800.0),
    ],
)
def test_custom_backward_minutes_clamped(
    minutes: float, expected_seconds: float
) -> None:
    segments = build_program(
        ProgramKind.CUSTOM,
        make_settings(
            backward_minutes=minutes, warm_up_minutes=1.0, cool_down_minutes=1.0
        ),
    )
    assert layout(segments) == [(WU, 60.0), (BW, expected_seconds), (CD, 60.0)]


@pytest.mark.parametrize(
    ("program", "backward_blocks"),
    [
        (ProgramKind.INTERVALS, 30),
        (ProgramKind.RATIO, 30),
        (ProgramKind.CUSTOM, 1),
    ],
)
def test_backward_minutes_clamped_to_thirty(
    program: ProgramKind, backward_blocks: int
) -> None:
    segments = build_program(program, make_settings(backward_minutes=100.0))
    backward = [s for s in segments if s.kind is BW]
    assert len(backward) == backward_blocks
    assert sum(s.duration for s in backward) == pytest.approx(1800.0)


@pytest.mark.parametrize("program", list(ProgramKind))
@pytest.mark.parametrize(
    ("warm_up", "cool_down"), [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (-1.0, -1.0)]
)
def test_zero_minute_warm_up_and_cool_down_dropped(
    program: ProgramKind, warm_up: float, cool_down: float
) -> None:
    segments = build_program(
        program, make_settings(warm_up_minutes=warm_up, cool_down_minutes=cool_down)
    )
    kinds = [s.kind for s in segments]
    assert (WU in kinds) is (warm_up > 0)
    assert (CD in kinds) is (cool_down > 0)
    assert all(s.duration > 0 for s in segments)


@pytest.mark.parametrize("program", list(ProgramKind))
@pytest.mark.parametrize("minutes", [1.000001, 2.0000001, 3.00000001, 1.0 + 1e-12])
def test_float_slivers_make_no_empty_segments(
    program: ProgramKind, minutes: float
) -> None:
    """A remainder of float error is no block (and no lone forward block)."""
    segments = build_program(
        program,
        make_settings(
            backward_minutes=minutes, warm_up_minutes=1e-7, cool_down_minutes=1.0
        ),
    )
    assert all(s.duration > 0 for s in segments)
    assert segments[-2].kind is BW
    assert segments[-1].kind is CD
    assert WU not in [s.kind for s in segments]


# ---------------------------------------------------------------------------
# Energy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("speed_mph", "expected"),
    [
        (0.0, 2.0),
        (0.5, 2.0),
        (1.0, 2.0),
        (1.5, 2.4),
        (2.0, 2.8),
        (2.25, 2.9),
        (2.5, 3.0),
        (2.75, 3.25),
        (3.0, 3.5),
        (3.25, 3.9),
        (3.5, 4.3),
        (3.75, 4.65),
        (4.0, 5.0),
        (4.5, 5.0),
        (6.0, 5.0),
    ],
)
def test_forward_met_interpolates_compendium(speed_mph: float, expected: float) -> None:
    assert forward_met(mph(speed_mph)) == pytest.approx(expected)


def test_backward_factor_is_compendium_ratio() -> None:
    assert pytest.approx(6.0 / 4.3) == BACKWARD_FACTOR
    assert met_for(BW, mph(3.5)) == pytest.approx(6.0)
    assert met_for(BW, mph(3.5)) / met_for(FW, mph(3.5)) == pytest.approx(6.0 / 4.3)


@pytest.mark.parametrize("phase", [WU, FW, CD])
def test_non_backward_phases_use_forward_met(phase: PhaseKind) -> None:
    assert met_for(phase, mph(3.5)) == pytest.approx(4.3)
    assert met_for(phase, mph(2.25)) == pytest.approx(2.9)


def test_backward_met_interpolated_and_scaled() -> None:
    assert met_for(BW, mph(2.25)) == pytest.approx(2.9 * 6.0 / 4.3)
    assert met_for(BW, 2.0) == pytest.approx(
        (2.0 + 0.8 * (2.0 / 1.609344 - 1.0)) * 6.0 / 4.3
    )


@pytest.mark.parametrize(
    ("met", "mass", "expected"),
    [(6.0, 70.0, 7.35), (4.3, 80.0, 6.02), (1.0, 200.0 / 3.5, 1.0), (6.0, 0.0, 0.0)],
)
def test_kcal_per_minute(met: float, mass: float, expected: float) -> None:
    assert kcal_per_minute(met, mass) == pytest.approx(expected)


# ---------------------------------------------------------------------------
# Starting and the state machine
# ---------------------------------------------------------------------------


def test_constructed_session_is_idle_and_inert() -> None:
    segments = build_program(ProgramKind.CUSTOM, make_settings())
    session = Session(
        program=ProgramKind.CUSTOM,
        segments=segments,
        body_mass=70.0,
        started_at=T0,
        target_backward_minutes=3.0,
        last_update=T0,
    )
    assert session.state is SessionState.IDLE
    assert not session.is_moving
    assert not session.is_active
    assert session.target_speed == 0.0
    assert session.advance(T0 + 60) == []
    assert session.metrics == SessionMetrics()
    for action in (session.pause, session.resume, session.stop, session.interrupt):
        with pytest.raises(SessionError):
            action(T0 + 60)
    with pytest.raises(SessionError):
        session.pause(T0 + 60, safety="instability")
    with pytest.raises(SessionError, match="not ended"):
        session.record()


@pytest.mark.parametrize(
    ("program", "warm_up", "state"),
    [
        (ProgramKind.CUSTOM, 1.0, SessionState.WARM_UP),
        (ProgramKind.CUSTOM, 0.0, SessionState.BACKWARD),
        (ProgramKind.STARTER, 0.0, SessionState.BACKWARD),
        (ProgramKind.INTERVALS, 0.0, SessionState.BACKWARD),
        (ProgramKind.RATIO, 0.0, SessionState.FORWARD),
        (ProgramKind.RATIO, 2.0, SessionState.WARM_UP),
    ],
)
def test_start_enters_first_segment(
    program: ProgramKind, warm_up: float, state: SessionState
) -> None:
    session = start(program, warm_up_minutes=warm_up)
    assert session.state is state
    assert session.is_moving
    assert session.is_active
    assert session.segment_index == 0
    assert session.segment is session.segments[0]
    assert session.phase is session.segments[0].kind
    assert session.started_at == T0
    assert session.last_update == T0
    assert session.ended_at is None
    assert session.end_reason is None
    assert session.elapsed(T0) == 0.0


def test_start_records_target_backward_minutes_and_unique_ids() -> None:
    first = start(ProgramKind.INTERVALS, backward_minutes=2.5, warm_up_minutes=1.0)
    second = start(ProgramKind.STARTER, backward_minutes=10.0)
    assert first.target_backward_minutes == pytest.approx(2.5)
    assert second.target_backward_minutes == pytest.approx(3.0)
    assert len(first.session_id) == 32
    assert first.session_id != second.session_id


def test_walks_through_every_phase_step_by_step() -> None:
    session = start(
        backward_minutes=2.0,
        backward_speed=2.0,
        forward_speed=3.0,
        warm_up_minutes=1.0,
        cool_down_minutes=1.0,
    )
    assert session.state is SessionState.WARM_UP
    assert session.target_speed == 3.0
    assert session.remaining == 240.0

    assert session.advance(T0 + 30) == []
    assert session.state is SessionState.WARM_UP
    assert session.segment_elapsed == 30.0
    assert session.segment_remaining == 30.0
    assert session.remaining == 210.0

    changes = session.advance(T0 + 60)
    assert changes == [PhaseChange(previous=WU, segment=session.segments[1])]
    assert session.state is SessionState.BACKWARD
    assert session.phase is BW
    assert session.target_speed == 2.0
    assert session.segment_remaining == 120.0
    assert session.remaining == 180.0

    changes = session.advance(T0 + 180)
    assert changes == [PhaseChange(previous=BW, segment=session.segments[2])]
    assert session.state is SessionState.COOL_DOWN
    assert session.target_speed == 3.0

    changes = session.advance(T0 + 240)
    assert changes == [PhaseChange(previous=CD, segment=None)]
    assert session.state is SessionState.FINISHED
    assert session.end_reason is EndReason.COMPLETED
    assert session.ended_at == T0 + 240
    assert session.segment is None
    assert session.phase is None
    assert not session.is_moving
    assert not session.is_active
    assert session.target_speed == 0.0
    assert session.remaining == 0.0
    assert session.segment_remaining == 0.0

    # Nothing more happens once finished.
    assert session.advance(T0 + 600) == []
    assert session.metrics.active_time == 240.0
    assert session.elapsed(T0 + 600) == 240.0


def test_one_big_advance_crosses_every_boundary() -> None:
    session = start(
        ProgramKind.INTERVALS,
        backward_minutes=2.5,
        backward_speed=2.0,
        forward_speed=3.0,
        warm_up_minutes=1.0,
        cool_down_minutes=1.0,
    )
    segs = session.segments
    changes = session.advance(T0 + 1000)
    assert changes == [
        PhaseChange(previous=WU, segment=segs[1]),
        PhaseChange(previous=BW, segment=segs[2]),
        PhaseChange(previous=FW, segment=segs[3]),
        PhaseChange(previous=BW, segment=segs[4]),
        PhaseChange(previous=FW, segment=segs[5]),
        PhaseChange(previous=BW, segment=segs[6]),
        PhaseChange(previous=CD, segment=None),
    ]
    assert session.state is SessionState.FINISHED
    assert session.end_reason is EndReason.COMPLETED
    # The session ended when the program did, not when it was noticed.
    assert session.ended_at == T0 + 510
    assert session.elapsed(T0 + 2000) == 510.0
    metrics = session.metrics
    assert metrics.active_time == pytest.approx(510.0)
    assert metrics.backward_time == pytest.approx(150.0)
    assert metrics.forward_time == pytest.approx(360.0)
    assert metrics.backward_distance == pytest.approx(150 * 2.0 / 3.6)
    assert metrics.forward_distance == pytest.approx(360 * 3.0 / 3.6)


def test_big_advance_stopping_mid_segment() -> None:
    session = start(
        ProgramKind.INTERVALS,
        backward_minutes=2.5,
        warm_up_minutes=1.0,
        cool_down_minutes=1.0,
    )
    changes = session.advance(T0 + 200)
    assert [c.previous for c in changes] == [WU, BW]
    assert [c.segment for c in changes] == [session.segments[1], session.segments[2]]
    assert session.state is SessionState.FORWARD
    assert session.segment_index == 2
    assert session.segment_elapsed == pytest.approx(80.0)
    assert session.segment_remaining == pytest.approx(40.0)
    assert session.remaining == pytest.approx(310.0)


def test_advance_with_measured_speed_over_boundaries() -> None:
    session = start(backward_minutes=1.0, warm_up_minutes=1.0, cool_down_minutes=1.0)
    session.advance(T0 + 180, belt_speed=1.8)
    assert session.state is SessionState.FINISHED
    assert session.metrics.backward_distance == pytest.approx(30.0)
    assert session.metrics.forward_distance == pytest.approx(60.0)
    assert session.metrics.distance == pytest.approx(90.0)


def test_advance_ignores_time_going_backwards() -> None:
    session = start()
    session.advance(T0 + 60)
    assert session.advance(T0 + 30) == []
    assert session.metrics.backward_time == 60.0
    assert session.segment_elapsed == 60.0


# ---------------------------------------------------------------------------
# Pause, resume, safety pause, interrupt, stop
# ---------------------------------------------------------------------------


def test_pause_and_resume_account_paused_time_only() -> None:
    session = start(backward_minutes=3.0, backward_speed=2.0)
    session.advance(T0 + 50)
    session.pause(T0 + 60)
    # Pausing catches up with the time walked since the last update.
    assert session.metrics.backward_time == 60.0
    assert session.state is SessionState.PAUSED
    assert session.is_active
    assert not session.is_moving
    assert session.target_speed == 0.0
    assert session.phase is BW
    assert session.paused_since == T0 + 60
    assert session.metrics.pauses == 1
    assert session.metrics.safety_pauses == 0

    # No accounting while paused, whatever the belt reports.
    before = SessionMetrics(**vars(session.metrics))
    assert session.advance(T0 + 300, belt_speed=2.0) == []
    assert session.advance(T0 + 600) == []
    assert session.metrics == before
    assert session.segment_elapsed == 60.0
    assert session.remaining == 120.0

    session.resume(T0 + 660)
    assert session.state is SessionState.BACKWARD
    assert session.target_speed == 2.0
    assert session.paused_since is None
    assert session.metrics.paused_time == 600.0

    session.advance(T0 + 720)
    assert session.metrics.backward_time == 120.0
    assert session.metrics.active_time == 120.0
    assert session.elapsed(T0 + 720) == 720.0

    # A second pause counts again and accumulates paused time.
    session.pause(T0 + 730)
    session.resume(T0 + 760)
    assert session.metrics.pauses == 2
    assert session.metrics.paused_time == 630.0

    changes = session.advance(T0 + 850)
    # 130 s walked at the second pause: 50 s left after resuming at +760.
    assert changes == [PhaseChange(previous=BW, segment=None)]
    assert session.ended_at == T0 + 810
    assert session.metrics.backward_time == pytest.approx(180.0)


def test_pausing_a_paused_session_raises() -> None:
    session = start()
    session.pause(T0 + 10)
    with pytest.raises(SessionError, match="paused"):
        session.pause(T0 + 20)
    assert session.metrics.pauses == 1


def test_resuming_a_moving_session_raises() -> None:
    session = start()
    with pytest.raises(SessionError, match="backward"):
        session.resume(T0 + 10)
    assert session.state is SessionState.BACKWARD


def test_safety_pause_from_moving() -> None:
    session = start(warm_up_minutes=1.0)
    session.pause(T0 + 30, safety="instability")
    assert session.state is SessionState.PAUSED_BY_SAFETY
    assert session.metrics.pauses == 1
    assert session.metrics.safety_pauses == 1
    assert session.target_speed == 0.0
    assert session.phase is WU
    session.resume(T0 + 90)
    assert session.state is SessionState.WARM_UP
    assert session.metrics.paused_time == 60.0


def test_safety_pause_overrides_user_pause() -> None:
    session = start()
    session.pause(T0 + 60)
    session.pause(T0 + 100, safety="instability")
    assert session.state is SessionState.PAUSED_BY_SAFETY
    # One halt, one of them for safety; paused time runs from the user pause.
    assert session.metrics.pauses == 1
    assert session.metrics.safety_pauses == 1
    assert session.paused_since == T0 + 60
    # A user pause cannot downgrade a safety pause; another safety event is
    # recorded without counting another pause.
    with pytest.raises(SessionError):
        session.pause(T0 + 110)
    session.pause(T0 + 110, safety="safety_key")
    assert session.state is SessionState.PAUSED_BY_SAFETY
    assert session.metrics.safety_pauses == 1
    assert [(e.at, e.kind) for e in session.safety_events] == [
        (T0 + 100, "instability"),
        (T0 + 110, "safety_key"),
    ]
    session.resume(T0 + 160)
    assert session.metrics.paused_time == 100.0
    assert session.state is SessionState.BACKWARD


def test_pause_after_program_end_raises_and_keeps_completion() -> None:
    session = start(backward_minutes=1.0)
    with pytest.raises(SessionError, match="finished"):
        session.pause(T0 + 90)
    assert session.state is SessionState.FINISHED
    assert session.end_reason is EndReason.COMPLETED
    assert session.ended_at == T0 + 60
    assert session.paused_since is None
    assert session.metrics.pauses == 0
    with pytest.raises(SessionError):
        session.pause(T0 + 95, safety="instability")
    with pytest.raises(SessionError):
        session.resume(T0 + 100)


def test_interrupt_does_not_count_time_since_last_update() -> None:
    session = start(backward_minutes=3.0)
    session.advance(T0 + 60)
    session.interrupt(T0 + 90)
    assert session.state is SessionState.INTERRUPTED
    assert session.is_active
    assert not session.is_moving
    assert session.target_speed == 0.0
    assert session.metrics.backward_time == 60.0
    assert session.paused_since == T0 + 60
    assert session.metrics.pauses == 0
    # Halted: advancing (e.g. a stale tick) counts nothing.
    assert session.advance(T0 + 120) == []
    assert session.metrics.backward_time == 60.0

    session.resume(T0 + 150)
    assert session.state is SessionState.BACKWARD
    assert session.metrics.paused_time == 90.0
    session.advance(T0 + 160)
    assert session.metrics.backward_time == 70.0
    assert session.segment_elapsed == 70.0


def test_interrupt_while_paused_keeps_pause_start() -> None:
    session = start(warm_up_minutes=1.0)
    session.pause(T0 + 30, safety="instability")
    session.interrupt(T0 + 100)
    session.interrupt(T0 + 120)  # Home Assistant restarted again
    assert session.state is SessionState.INTERRUPTED
    assert session.paused_since == T0 + 30
    with pytest.raises(SessionError):
        session.pause(T0 + 130)
    # A safety event while interrupted is recorded; the session stays
    # interrupted (the walker decides when to resume).
    session.pause(T0 + 130, safety="safety_key")
    assert session.state is SessionState.INTERRUPTED
    assert len(session.safety_events) == 2
    session.resume(T0 + 200)
    assert session.state is SessionState.WARM_UP
    assert session.metrics.paused_time == 170.0
    assert session.metrics.forward_time == 30.0


def test_interrupting_an_ended_session_raises() -> None:
    session = start()
    session.stop(T0 + 10)
    with pytest.raises(SessionError, match="finished"):
        session.interrupt(T0 + 20)


def test_stop_while_moving() -> None:
    session = start(backward_minutes=3.0, warm_up_minutes=1.0)
    session.advance(T0 + 30)
    session.stop(T0 + 100)
    assert session.state is SessionState.FINISHED
    assert session.end_reason is EndReason.STOPPED
    assert session.ended_at == T0 + 100
    # Stopping catches up with the time since the last update.
    assert session.metrics.forward_time == 60.0
    assert session.metrics.backward_time == 40.0
    assert session.metrics.paused_time == 0.0
    assert session.target_speed == 0.0
    assert session.elapsed(T0 + 500) == 100.0
    # The segment the walker stopped in stays current.
    assert session.phase is BW


def test_stop_while_paused_accounts_paused_time() -> None:
    session = start()
    session.advance(T0 + 60)
    session.pause(T0 + 60)
    session.stop(T0 + 150)
    assert session.end_reason is EndReason.STOPPED
    assert session.ended_at == T0 + 150
    assert session.paused_since is None
    assert session.metrics.paused_time == 90.0
    assert session.metrics.backward_time == 60.0


def test_stop_while_interrupted_accounts_unknown_time_as_paused() -> None:
    session = start()
    session.advance(T0 + 60)
    session.interrupt(T0 + 500)
    session.stop(T0 + 600)
    assert session.end_reason is EndReason.STOPPED
    assert session.metrics.paused_time == 540.0
    assert session.metrics.backward_time == 60.0


def test_stop_after_the_program_ended_records_completion() -> None:
    session = start(backward_minutes=2.0, cool_down_minutes=1.0)
    session.advance(T0 + 100)
    session.stop(T0 + 400)
    assert session.end_reason is EndReason.COMPLETED
    assert session.ended_at == T0 + 180
    assert session.metrics.active_time == 180.0


def test_stopping_a_finished_session_raises() -> None:
    session = start(backward_minutes=1.0)
    session.advance(T0 + 60)
    assert session.state is SessionState.FINISHED
    with pytest.raises(SessionError, match="finished"):
        session.stop(T0 + 70)
    stopped = start()
    stopped.stop(T0 + 5)
    with pytest.raises(SessionError):
        stopped.stop(T0 + 6)
    with pytest.raises(SessionError):
        stopped.resume(T0 + 6)
    with pytest.raises(SessionError):
        stopped.pause(T0 + 6)
    assert stopped.end_reason is EndReason.STOPPED
    assert stopped.ended_at == T0 + 5


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def test_distance_uses_measured_speed_or_target() -> None:
    measured = start(backward_speed=2.0)
    measured.advance(T0 + 60, belt_speed=1.8)
    assert measured.metrics.backward_distance == pytest.approx(30.0)

    assumed = start(backward_speed=2.0)
    assumed.advance(T0 + 60)
    assert assumed.metrics.backward_distance == pytest.approx(2.0 / 3.6 * 60)
    assert assumed.metrics.forward_distance == 0.0
    assert assumed.metrics.distance == assumed.metrics.backward_distance


@pytest.mark.parametrize("belt_speed", [0.0, -1.0])
def test_stopped_belt_counts_time_but_no_distance_or_energy(
    belt_speed: float,
) -> None:
    session = start()
    session.advance(T0 + 60, belt_speed=belt_speed)
    metrics = session.metrics
    assert metrics.backward_time == 60.0
    assert metrics.active_time == 60.0
    assert metrics.backward_distance == 0.0
    assert metrics.energy == 0.0
    assert metrics.backward_pace is None


def test_energy_at_compendium_speed() -> None:
    """3.5 mph: 4.3 MET forward, 6.0 MET backward; 80 kg."""
    speed = mph(3.5)
    session = start(
        experience=Experience.ADVANCED,
        backward_minutes=1.0,
        backward_speed=speed,
        forward_speed=speed,
        warm_up_minutes=1.0,
        cool_down_minutes=1.0,
        body_mass=80.0,
    )
    assert session.segments[1].speed == pytest.approx(5.63)
    session.advance(T0 + 60, belt_speed=speed)
    # 4.3 x 3.5 x 80 / 200 = 6.02 kcal in the warm-up minute.
    assert session.metrics.energy == pytest.approx(6.02)
    session.advance(T0 + 120, belt_speed=speed)
    # 6.0 x 3.5 x 80 / 200 = 8.4 kcal in the backward minute.
    assert session.metrics.energy == pytest.approx(6.02 + 8.4)
    session.advance(T0 + 150, belt_speed=speed)
    assert session.metrics.energy == pytest.approx(6.02 + 8.4 + 3.01)


def test_energy_interpolated_from_target_speed() -> None:
    """2.0 km/h backwards, 3.0 km/h forwards, 70 kg, target speeds assumed."""
    session = start(
        backward_minutes=2.0,
        backward_speed=2.0,
        forward_speed=3.0,
        warm_up_minutes=1.0,
    )
    session.advance(T0 + 180)
    forward_mph = 3.0 / 1.609344  # between 1.0 mph (2.0) and 2.0 mph (2.8)
    backward_mph = 2.0 / 1.609344
    forward = 2.0 + 0.8 * (forward_mph - 1.0)
    backward = (2.0 + 0.8 * (backward_mph - 1.0)) * 6.0 / 4.3
    expected = forward * 3.5 * 70 / 200 * 1 + backward * 3.5 * 70 / 200 * 2
    assert session.metrics.energy == pytest.approx(expected)


def test_backward_costs_forty_percent_more_than_forward() -> None:
    speed = mph(2.5)
    backward = start(backward_speed=speed, experience=Experience.INTERMEDIATE)
    forward = start(
        ProgramKind.RATIO, forward_speed=speed, experience=Experience.INTERMEDIATE
    )
    backward.advance(T0 + 60, belt_speed=speed)
    forward.advance(T0 + 60, belt_speed=speed)
    assert forward.state is SessionState.FORWARD
    assert forward.metrics.energy == pytest.approx(3.0 * 3.5 * 70 / 200)
    assert backward.metrics.energy / forward.metrics.energy == pytest.approx(6.0 / 4.3)


def test_backward_pace() -> None:
    session = start(backward_speed=2.0)
    assert session.metrics.backward_pace is None
    session.advance(T0 + 1)  # 0.56 m: too little distance for a pace
    assert session.metrics.backward_pace is None
    session.advance(T0 + 60)
    # 2.0 km/h is 30 minutes per kilometre.
    assert session.metrics.backward_pace == pytest.approx(30.0)
    session.advance(T0 + 120, belt_speed=3.0)
    # 1 km/30 min + 1 km/20 min over two minutes: 50 m + 33.3 m in 2 min.
    assert session.metrics.backward_pace == pytest.approx(2 / (0.05 + 1 / 30))


def test_metrics_defaults_and_distance() -> None:
    metrics = SessionMetrics()
    assert metrics.distance == 0.0
    assert metrics.backward_pace is None
    metrics = SessionMetrics(backward_distance=120.0, forward_distance=30.0)
    assert metrics.distance == 150.0


# ---------------------------------------------------------------------------
# Time helpers
# ---------------------------------------------------------------------------


def test_elapsed_includes_pauses_and_never_negative() -> None:
    session = start(backward_minutes=5.0)
    assert session.elapsed(T0 - 10) == 0.0
    session.pause(T0 + 20)
    assert session.elapsed(T0 + 100) == 100.0
    session.resume(T0 + 100)
    session.stop(T0 + 130)
    assert session.elapsed(T0 + 10_000) == 130.0
    assert session.metrics.active_time == 50.0


def test_remaining_and_segment_remaining() -> None:
    session = start(
        ProgramKind.RATIO, backward_minutes=1.5, warm_up_minutes=1.0
    )  # WU 60, F 600, B 60, F 300, B 30
    assert session.remaining == 1050.0
    assert session.segment_remaining == 60.0
    session.advance(T0 + 700)
    assert session.segment_index == 2
    assert session.segment_remaining == 20.0
    assert session.remaining == 350.0
    session.pause(T0 + 700)
    assert session.remaining == 350.0
    session.stop(T0 + 800)
    assert session.remaining == 350.0
    assert session.segment_remaining == 20.0


# ---------------------------------------------------------------------------
# Serialisation
# ---------------------------------------------------------------------------


def _paused_session() -> Session:
    session = start(
        ProgramKind.INTERVALS,
        backward_minutes=2.5,
        warm_up_minutes=1.0,
        cool_down_minutes=1.0,
        body_mass=82.5,
    )
    session.advance(T0 + 130, belt_speed=1.9)
    session.pause(T0 + 140)
    session.pause(T0 + 150, safety="instability")
    return session


def _finished_session() -> Session:
    session = start(backward_minutes=1.0, warm_up_minutes=1.0)
    session.advance(T0 + 200)
    return session


def _interrupted_session() -> Session:
    session = start(ProgramKind.RATIO)
    session.advance(T0 + 30)
    session.interrupt(T0 + 40)
    return session


@pytest.mark.parametrize(
    "factory",
    [start, _paused_session, _finished_session, _interrupted_session],
)
def test_session_round_trip_through_json(factory: Callable[[], Session]) -> None:
    session = factory()
    data = session.as_dict()
    text = json.dumps(data)
    restored = Session.from_dict(json.loads(text))
    assert restored == session
    assert restored.as_dict() == data
    assert isinstance(restored.segments, tuple)
    assert isinstance(restored.state, SessionState)
    assert isinstance(restored.program, ProgramKind)
    assert all(isinstance(s.kind, PhaseKind) for s in restored.segments)
    # Plain JSON types, not enum members.
    assert type(data["state"]) is str
    assert type(data["program"]) is str
    assert all(type(s["kind"]) is str for s in data["segments"])
    assert data["end_reason"] is None or type(data["end_reason"]) is str


def test_restored_session_carries_on_identically() -> None:
    session = _paused_session()
    restored = Session.from_dict(json.loads(json.dumps(session.as_dict())))
    for each in (session, restored):
        each.resume(T0 + 200)
        each.advance(T0 + 260, belt_speed=2.1)
        each.stop(T0 + 300)
    assert restored == session
    assert restored.record() == session.record()


def test_from_dict_tolerates_missing_optional_fields() -> None:
    data = start().as_dict()
    for key in ("ended_at", "end_reason", "paused_since"):
        del data[key]
    data["metrics"] = {"backward_time": 12}
    restored = Session.from_dict(data)
    assert restored.ended_at is None
    assert restored.end_reason is None
    assert restored.paused_since is None
    assert restored.metrics == SessionMetrics(backward_time=12.0)
    assert type(restored.metrics.backward_time) is float
    assert type(restored.metrics.pauses) is int


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del data[key]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (_delete("segments"), KeyError),
        (_delete("session_id"), KeyError),
        (_delete("state"), KeyError),
        (_delete("metrics"), KeyError),
        (_delete("segment_index"), KeyError),
        (_delete("last_update"), KeyError),
        (_set(("segments",), []), ValueError),
        (_set(("segments",), None), TypeError),
        (_set(("segments",), [None]), TypeError),
        (_set(("segments", 0, "kind"), "sideways"), ValueError),
        (_set(("segments", 0, "duration"), "long"), ValueError),
        (_set(("segments", 0, "speed"), None), TypeError),
        (_set(("program",), "marathon"), ValueError),
        (_set(("state",), "flying"), ValueError),
        (_set(("end_reason",), "bored"), ValueError),
        (_set(("body_mass",), None), TypeError),
        (_set(("body_mass",), "heavy"), ValueError),
        (_set(("started_at",), [1]), TypeError),
        (_set(("ended_at",), "later"), ValueError),
        (_set(("paused_since",), "soon"), ValueError),
        (_set(("segment_index",), "two"), ValueError),
        (_set(("segment_index",), 99), ValueError),
        (_set(("segment_index",), -1), ValueError),
        (_set(("segment_index",), 1), ValueError),  # moving, past the end
        (_set(("metrics",), None), TypeError),
        (_set(("metrics",), [1, 2]), TypeError),
        (_set(("metrics", "surprise"), 1), TypeError),
        (_set(("metrics", "energy"), "lots"), ValueError),
        (_set(("metrics", "pauses"), "x"), ValueError),
        (_set(("metrics", "paused_time"), None), TypeError),
    ],
)
def test_session_from_dict_rejects_bad_data(
    mutate: Callable[[dict[str, Any]], None], error: type[Exception]
) -> None:
    data = json.loads(json.dumps(start().as_dict()))
    assert len(data["segments"]) == 1
    mutate(data)
    with pytest.raises(error):
        Session.from_dict(data)


@pytest.mark.parametrize("data", [None, [], "session", 3])
def test_session_from_dict_rejects_non_mappings(data: Any) -> None:
    with pytest.raises((KeyError, TypeError)):
        Session.from_dict(data)


def test_restored_pause_without_start_resumes_without_paused_time() -> None:
    data = _paused_session().as_dict()
    del data["paused_since"]
    restored = Session.from_dict(data)
    restored.resume(T0 + 500)
    assert restored.state is SessionState.FORWARD
    assert restored.metrics.paused_time == 0.0
    assert restored.last_update == T0 + 500


def test_finished_session_may_sit_past_the_last_segment() -> None:
    data = _finished_session().as_dict()
    assert data["segment_index"] == len(data["segments"])
    assert Session.from_dict(data).segment is None


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


def test_record_raises_before_the_end() -> None:
    session = start()
    with pytest.raises(SessionError):
        session.record()
    session.pause(T0 + 10)
    with pytest.raises(SessionError):
        session.record()
    session.interrupt(T0 + 20)
    with pytest.raises(SessionError):
        session.record()


def test_record_of_a_completed_session() -> None:
    session = start(
        ProgramKind.INTERVALS,
        backward_minutes=2.5,
        warm_up_minutes=1.0,
        cool_down_minutes=1.0,
    )
    session.advance(T0 + 100)
    session.pause(T0 + 100, safety="instability")
    session.resume(T0 + 130)
    session.advance(T0 + 1000)
    record = session.record()
    assert record.session_id == session.session_id
    assert record.program is ProgramKind.INTERVALS
    assert record.started_at == T0
    assert record.ended_at == T0 + 540
    assert record.end_reason is EndReason.COMPLETED
    assert record.completed
    assert record.target_backward_minutes == 2.5
    assert record.active_time == 510.0
    assert record.backward_time == 150.0
    assert record.backward_minutes == 2.5
    assert record.forward_time == 360.0
    assert record.backward_distance == round(150 * 2.0 / 3.6, 1)
    assert record.distance == round(150 * 2.0 / 3.6 + 360 * 3.0 / 3.6, 1)
    assert record.energy == round(session.metrics.energy, 1)
    assert record.pauses == 1
    assert record.safety_pauses == 1


def test_record_of_a_stopped_session_is_rounded() -> None:
    session = start(backward_minutes=3.0, backward_speed=2.0)
    session.advance(T0 + 33.333, belt_speed=1.77)
    session.stop(T0 + 33.333)
    record = session.record()
    assert record.end_reason is EndReason.STOPPED
    assert not record.completed
    assert record.backward_time == 33.3
    assert record.backward_distance == round(1.77 / 3.6 * 33.333, 1)
    assert record.target_backward_minutes == 3.0


def test_session_record_round_trip() -> None:
    session = _paused_session()
    session.stop(T0 + 400)
    record = session.record()
    data = record.as_dict()
    assert type(data["program"]) is str
    assert type(data["end_reason"]) is str
    restored = SessionRecord.from_dict(json.loads(json.dumps(data)))
    assert restored == record
    assert isinstance(restored.program, ProgramKind)
    assert isinstance(restored.end_reason, EndReason)


def _record(
    started: datetime | float,
    backward_minutes: float,
    *,
    target: float | None = None,
    end_reason: EndReason = EndReason.COMPLETED,
    safety_pauses: int = 0,
) -> SessionRecord:
    started_at = started.timestamp() if isinstance(started, datetime) else started
    return SessionRecord(
        session_id=f"s{started_at}",
        program=ProgramKind.CUSTOM,
        started_at=started_at,
        ended_at=started_at + backward_minutes * 60,
        end_reason=end_reason,
        target_backward_minutes=backward_minutes if target is None else target,
        active_time=backward_minutes * 60,
        backward_time=backward_minutes * 60,
        forward_time=0.0,
        backward_distance=backward_minutes * 30,
        distance=backward_minutes * 30,
        energy=backward_minutes * 3,
        pauses=safety_pauses,
        safety_pauses=safety_pauses,
    )


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("session_id", None, None),
        ("program", "marathon", ValueError),
        ("end_reason", "bored", ValueError),
        ("started_at", None, TypeError),
        ("energy", "lots", ValueError),
        ("pauses", "x", ValueError),
        ("safety_pauses", [], TypeError),
    ],
)
def test_session_record_from_dict_rejects_bad_data(
    key: str, value: Any, error: type[Exception] | None
) -> None:
    data = _record(T0, 3.0).as_dict()
    if error is None:
        del data[key]
        error = KeyError
    else:
        data[key] = value
    with pytest.raises(error):
        SessionRecord.from_dict(data)


# ---------------------------------------------------------------------------
# Weekly summary
# ---------------------------------------------------------------------------


def test_week_start_is_local_monday_midnight() -> None:
    wednesday = datetime(2025, 4, 2, 10, 30, 15, 123, tzinfo=MADRID)
    start_of_week = week_start(wednesday)
    assert start_of_week == datetime(2025, 3, 31, tzinfo=MADRID)
    assert start_of_week.tzinfo is MADRID
    assert start_of_week.weekday() == 0
    assert start_of_week.utcoffset() == timedelta(hours=2)  # CEST
    monday = datetime(2025, 3, 31, 0, 0, 1, tzinfo=MADRID)
    assert week_start(monday) == datetime(2025, 3, 31, tzinfo=MADRID)
    sunday = datetime(2025, 4, 6, 23, 59, tzinfo=MADRID)
    assert week_start(sunday) == datetime(2025, 3, 31, tzinfo=MADRID)
    # Across the switch to summer time (Sunday 30 March 2025) the week still
    # starts at local midnight (CET, +01:00).
    assert week_start(datetime(2025, 3, 30, 12, tzinfo=MADRID)).utcoffset() == (
        timedelta(hours=1)
    )


def test_weekly_summary_in_madrid() -> None:
    now = datetime(2025, 4, 2, 10, 0, tzinfo=MADRID)  # Wednesday
    records = [
        # Sunday 23:30 local (21:30 UTC): last week.
        _record(datetime(2025, 3, 30, 23, 30, tzinfo=MADRID), 5.0),
        # Monday 00:30 local is still Sunday 22:30 in UTC: this week.
        _record(datetime(2025, 3, 31, 0, 30, tzinfo=MADRID), 3.0),
        _record(datetime(2025, 4, 1, 18, 0, tzinfo=MADRID), 2.5),
        _record(datetime(2025, 4, 2, 7, 0, tzinfo=MADRID), 4.0),
        # Long ago.
        _record(datetime(2025, 1, 1, 12, 0, tzinfo=MADRID), 9.0),
    ]
    summary = weekly_summary(records, now=now, goal_minutes=19.0)
    assert summary.week_start == datetime(2025, 3, 31, tzinfo=MADRID)
    assert summary.sessions == 3
    assert summary.backward_minutes == 9.5
    assert summary.goal_minutes == 19.0
    assert summary.goal_progress == 50.0
    # Wednesday, Tuesday, Monday and the Sunday before: four days.
    assert summary.streak_days == 4


def test_weekly_summary_week_start_in_utc_would_differ() -> None:
    """Monday 00:30 in Madrid counts for the new week, not by UTC date."""
    record = _record(datetime(2025, 3, 31, 0, 30, tzinfo=MADRID), 3.0)
    madrid = weekly_summary(
        [record], now=datetime(2025, 4, 1, 9, tzinfo=MADRID), goal_minutes=30
    )
    assert madrid.sessions == 1
    utc = ZoneInfo("UTC")
    in_utc = weekly_summary(
        [record], now=datetime(2025, 4, 1, 9, tzinfo=utc), goal_minutes=30
    )
    assert in_utc.sessions == 0


def test_weekly_summary_empty() -> None:
    summary = weekly_summary(
        [], now=datetime(2025, 4, 2, tzinfo=MADRID), goal_minutes=60
    )
    assert summary == WeeklySummary(
        week_start=datetime(2025, 3, 31, tzinfo=MADRID),
        backward_minutes=0.0,
        sessions=0,
        goal_minutes=60,
        streak_days=0,
    )
    assert summary.goal_progress == 0.0


@pytest.mark.parametrize(
    ("minutes", "goal", "progress"),
    [
        (30.0, 60.0, 50.0),
        (10.0, 30.0, 33.3),
        (90.0, 60.0, 150.0),
        (0.0, 60.0, 0.0),
        (5.0, 0.0, 100.0),
        (0.0, 0.0, 100.0),
        (5.0, -1.0, 100.0),
    ],
)
def test_goal_progress(minutes: float, goal: float, progress: float) -> None:
    summary = WeeklySummary(
        week_start=datetime(2025, 3, 31, tzinfo=MADRID),
        backward_minutes=minutes,
        sessions=1,
        goal_minutes=goal,
        streak_days=1,
    )
    assert summary.goal_progress == progress


def test_weekly_summary_rounds_minutes() -> None:
    now = datetime(2025, 4, 2, 10, 0, tzinfo=MADRID)
    records = [
        _record(datetime(2025, 4, 1, 9, tzinfo=MADRID), 1.0 / 3),
        _record(datetime(2025, 4, 2, 9, tzinfo=MADRID), 1.0 / 3),
    ]
    summary = weekly_summary(records, now=now, goal_minutes=2)
    assert summary.backward_minutes == 0.7
    assert summary.goal_progress == 35.0


@pytest.mark.parametrize(
    ("days_ago", "streak"),
    [
        ([0], 1),
        ([0, 1, 2], 3),
        ([1, 2], 2),  # nothing yet today: count back from yesterday
        ([2, 3], 0),  # missed yesterday and today
        ([0, 1, 3, 4, 5], 2),  # a gap ends the streak
        ([0, 0, 1, 1], 2),  # two sessions a day count one day
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], 9),  # runs across week boundaries
        ([], 0),
    ],
)
def test_streak(days_ago: list[int], streak: int) -> None:
    now = datetime(2025, 4, 2, 10, 0, tzinfo=MADRID)
    records = [
        _record(datetime(2025, 4, 2, 8, tzinfo=MADRID) - timedelta(days=d), 2.0)
        for d in days_ago
    ]
    summary = weekly_summary(records, now=now, goal_minutes=60)
    assert summary.streak_days == streak


def test_streak_ignores_sessions_without_backward_walking() -> None:
    now = datetime(2025, 4, 2, 10, 0, tzinfo=MADRID)
    records = [
        _record(datetime(2025, 4, 2, 8, tzinfo=MADRID), 0.0),
        _record(datetime(2025, 4, 1, 8, tzinfo=MADRID), 2.0),
    ]
    summary = weekly_summary(records, now=now, goal_minutes=60)
    # Today's session walked no backward minutes: the streak counts from
    # yesterday. The session still counts as one this week.
    assert summary.streak_days == 1
    assert summary.sessions == 2
    assert summary.backward_minutes == 2.0


def test_streak_uses_local_dates() -> None:
    """Days are local calendar days, not UTC ones."""
    now = datetime(2025, 4, 2, 0, 15, tzinfo=MADRID)  # Wednesday 00:15
    # Tuesday 00:30 local is Monday 22:30 UTC: it still counts as Tuesday.
    records = [
        _record(datetime(2025, 4, 1, 0, 30, tzinfo=MADRID), 2.0),
        _record(datetime(2025, 3, 31, 23, 30, tzinfo=MADRID), 2.0),
    ]
    summary = weekly_summary(records, now=now, goal_minutes=60)
    assert summary.streak_days == 2


def test_weekly_summary_accepts_any_iterable() -> None:
    now = datetime(2025, 4, 2, 10, 0, tzinfo=MADRID)
    records = (
        _record(datetime(2025, 4, 2, 8, tzinfo=MADRID) - timedelta(days=d), 2.0)
        for d in range(2)
    )
    summary = weekly_summary(records, now=now, goal_minutes=4)
    assert summary.sessions == 2
    assert summary.streak_days == 2
    assert summary.goal_progress == 100.0


# ---------------------------------------------------------------------------
# Suggestions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("experience", "minutes"),
    [
        (Experience.BEGINNER, 2.0),
        (Experience.INTERMEDIATE, 3.0),
        (Experience.ADVANCED, 5.0),
    ],
)
def test_first_session_suggestion(experience: Experience, minutes: float) -> None:
    assert suggest_backward_minutes([], experience) == minutes
    assert FIRST_SESSION_MINUTES[experience] == minutes


@pytest.mark.parametrize(
    ("target", "suggestion"),
    [
        (1.0, 1.5),  # +10 % is 1.1: at least half a minute more
        (2.0, 2.5),
        (3.0, 3.5),
        (4.5, 5.0),
        (5.0, 5.5),
        (6.0, 7.0),  # 6.6 rounds up to the half minute
        (8.0, 9.0),
        (10.0, 11.0),
        (12.0, 13.5),
        (13.5, 15.0),
        (14.5, 15.0),  # capped
        (15.0, 15.0),
        (30.0, 15.0),
    ],
)
def test_suggestion_grows_after_completion(target: float, suggestion: float) -> None:
    records = [_record(T0, target)]
    result = suggest_backward_minutes(records, Experience.BEGINNER)
    assert result == suggestion
    assert result <= MAX_SUGGESTED_MINUTES
    if target < 14.5:
        assert result >= target + 0.5
        assert result >= target * 1.1


@pytest.mark.parametrize(
    ("walked", "target", "suggestion"),
    [
        (2.7, 5.0, 2.5),  # hold at what was walked (to the half minute below)
        (3.0, 5.0, 3.0),
        (4.99, 5.0, 4.5),
        (0.3, 3.0, 1.0),  # never under a minute
        (0.0, 3.0, 1.0),
        (20.0, 30.0, 15.0),  # never over the cap
    ],
)
def test_suggestion_holds_after_stopping_early(
    walked: float, target: float, suggestion: float
) -> None:
    records = [_record(T0, walked, target=target, end_reason=EndReason.STOPPED)]
    assert suggest_backward_minutes(records, Experience.ADVANCED) == suggestion


@pytest.mark.parametrize(
    ("walked", "target", "end_reason", "suggestion"),
    [
        (4.0, 4.0, EndReason.COMPLETED, 3.0),  # completed, but unstable
        (5.0, 5.0, EndReason.COMPLETED, 4.0),
        (3.7, 5.0, EndReason.STOPPED, 2.5),
        (2.2, 3.0, EndReason.STOPPED, 1.0),
        (1.5, 3.0, EndReason.STOPPED, 1.0),  # floor of one minute
        (0.5, 3.0, EndReason.STOPPED, 1.0),
        (6.0, 4.0, EndReason.COMPLETED, 3.0),  # from the smaller of the two
        (30.0, 30.0, EndReason.COMPLETED, 15.0),
    ],
)
def test_suggestion_steps_back_after_safety_pauses(
    walked: float, target: float, end_reason: EndReason, suggestion: float
) -> None:
    records = [
        _record(T0, walked, target=target, end_reason=end_reason, safety_pauses=2)
    ]
    assert suggest_backward_minutes(records, Experience.INTERMEDIATE) == suggestion


def test_suggestion_uses_the_latest_session_in_any_order() -> None:
    older_completed = _record(T0, 10.0)
    newer_unstable = _record(T0 + 86_400, 4.0, safety_pauses=1)
    oldest_stopped = _record(T0 - 86_400, 1.0, end_reason=EndReason.STOPPED)
    records = [older_completed, newer_unstable, oldest_stopped]
    assert suggest_backward_minutes(records, Experience.BEGINNER) == 3.0
    assert suggest_backward_minutes(records[::-1], Experience.BEGINNER) == 3.0
    assert suggest_backward_minutes(records[:1], Experience.BEGINNER) == 11.0


def test_suggestion_from_a_real_session_record() -> None:
    session = start(ProgramKind.STARTER, backward_minutes=2.0)
    session.advance(T0 + 120)
    assert session.record().completed
    assert suggest_backward_minutes([session.record()], Experience.BEGINNER) == 2.5

    unstable = start(ProgramKind.STARTER, backward_minutes=3.0, now=T0 + 1000)
    unstable.advance(T0 + 1090)
    unstable.pause(T0 + 1090, safety="instability")
    unstable.stop(T0 + 1100)
    records = [session.record(), unstable.record()]
    # 1.5 minutes walked, one back: floor of one minute.
    assert suggest_backward_minutes(records, Experience.BEGINNER) == 1.0


def test_safety_events_survive_storage_and_reach_the_record() -> None:
    session = start(backward_minutes=2.0)
    session.advance(T0 + 30)
    session.pause(T0 + 30, safety="safety_key")
    restored = Session.from_dict(json.loads(json.dumps(session.as_dict())))
    assert restored.safety_events == session.safety_events
    restored.stop(T0 + 40)
    record = restored.record()
    assert [(e.at, e.kind) for e in record.safety_events] == [(T0 + 30, "safety_key")]
    data = json.loads(json.dumps(record.as_dict()))
    assert data["safety_events"] == [{"at": T0 + 30, "kind": "safety_key", "tier": 1}]
    assert SessionRecord.from_dict(data) == record
    # Records stored before safety events existed still load.
    del data["safety_events"]
    assert SessionRecord.from_dict(data).safety_events == ()


def test_notes_and_tier_counts() -> None:
    session = start(backward_minutes=2.0)
    session.note(T0 + 10, "unsteady", 3)
    session.pause(T0 + 20, safety="fall", tier=2)
    session.pause(T0 + 21, safety="spin", tier=1)
    assert session.state is SessionState.PAUSED_BY_SAFETY
    assert session.metrics.safety_pauses == 1
    assert session.tier_counts() == {1: 1, 2: 1, 3: 1}
    restored = Session.from_dict(json.loads(json.dumps(session.as_dict())))
    assert restored.tier_counts() == {1: 1, 2: 1, 3: 1}


def test_laps_and_pauses_are_kept_for_export() -> None:
    """One lap per segment walked, with its times, distance and energy; pauses
    with their reason; all carried into the record and through storage."""
    session = start(
        ProgramKind.INTERVALS,
        backward_minutes=2.0,
        warm_up_minutes=1.0,
        cool_down_minutes=1.0,
    )
    # Warm-up 60 s, backward 60 s, forward 120 s, backward 60 s, cool-down 60 s.
    for second in range(1, 91):
        session.advance(T0 + second)
    session.pause(T0 + 90)  # the walker's own pause, 30 s into the backward block
    session.resume(T0 + 100)
    for second in range(101, 131):
        session.advance(T0 + second, belt_speed=2.6)
    session.pause(T0 + 130, safety="instability", tier=1)
    session.resume(T0 + 140)
    for second in range(141, 411):
        session.advance(T0 + second)
    assert session.state is SessionState.FINISHED
    record = session.record()

    kinds = [lap.kind for lap in record.laps]
    assert kinds == [
        PhaseKind.WARM_UP,
        PhaseKind.BACKWARD,
        PhaseKind.FORWARD,
        PhaseKind.BACKWARD,
        PhaseKind.COOL_DOWN,
    ]
    warm_up, backward, forward, _, cool_down = record.laps
    assert (warm_up.start, warm_up.end, warm_up.time) == (T0, T0 + 60, 60)
    # The backward block holds the user pause: 70 s of wall time, 60 walked.
    assert (backward.start, backward.end) == (T0 + 60, T0 + 130)
    assert backward.time == pytest.approx(60)
    assert forward.start == T0 + 140  # after the safety pause
    assert cool_down.end == record.ended_at
    assert sum(lap.distance for lap in record.laps) == pytest.approx(
        record.distance, abs=0.1
    )
    assert sum(lap.energy for lap in record.laps) == pytest.approx(
        record.energy, abs=0.1
    )
    assert record.peak_backward_speed == 2.6
    assert [(p.start, p.end, p.reason) for p in record.pause_log] == [
        (T0 + 90, T0 + 100, "user"),
        (T0 + 130, T0 + 140, "safety:instability"),
    ]

    stored = json.loads(json.dumps(record.as_dict()))
    assert SessionRecord.from_dict(stored) == record
    restored = Session.from_dict(json.loads(json.dumps(session.as_dict())))
    assert restored.laps == session.laps
    assert restored.pause_log == session.pause_log


def test_interruption_and_stop_close_the_pause_log() -> None:
    session = start(warm_up_minutes=0.0)
    session.advance(T0 + 10)
    session.interrupt(T0 + 100)  # nobody knows what happened after T0 + 10
    session.pause(T0 + 101, safety="restart")  # a safety halt while interrupted
    session.stop(T0 + 200)
    record = session.record()
    assert [(p.start, p.end, p.reason) for p in record.pause_log] == [
        (T0 + 10, T0 + 200, "safety:restart")
    ]
    # Records from before laps were kept read as empty.
    old = {k: v for k, v in record.as_dict().items() if k not in ("laps", "pause_log")}
    assert SessionRecord.from_dict(old).laps == ()
    assert SessionRecord.from_dict(old).peak_backward_speed is None
