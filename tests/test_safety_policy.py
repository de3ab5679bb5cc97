"""The pure safety policy, without Home Assistant: properties and examples.

A small host (``Host``) plays the runner: it feeds events with times, keeps
the timers the policy arms and fires them when its clock reaches them, as
Home Assistant's scheduler does. Hypothesis runs derandomised (the same
examples every run) so that the suite stays reproducible and fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
import itertools
import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.retro_walk.safety.policy import (
    Action,
    AlertAnswer,
    AlertPartner,
    Answer,
    ArmTimer,
    BeltDidNotStop,
    CallForHelp,
    CancelTimer,
    ClearanceReading,
    Detected,
    DismissAlert,
    Escalate,
    Event,
    Note,
    PauseBelt,
    PolicyConfig,
    PresenceReading,
    PromptWalker,
    RadarReading,
    Refresh,
    SafetyPolicy,
    SamplesArrived,
    ShowInstability,
    SlowBelt,
    StationState,
    StopBelt,
    Tick,
    Timer,
    TimerFired,
)

PROPERTIES = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MOVING = StationState(session_id="s1", active=True, moving=True, belt_running=True)
HALTED = StationState(session_id="s1", active=True, moving=False, paused_by_safety=True)


def _ids() -> Iterator[str]:
    return (f"alert-{n}" for n in itertools.count(1))


def make_policy(**config: Any) -> SafetyPolicy:
    """A treadmill station watching its stream, with numbered alert ids."""
    settings_ = {"has_belt": True, "watches_stream": True, **config}
    return SafetyPolicy(PolicyConfig(**settings_), new_alert_id=_ids().__next__)


@dataclass
class Host:
    """Runs a policy the way the runner does, on a clock of its own."""

    policy: SafetyPolicy
    now: float = 0.0
    timers: dict[Timer, tuple[float, int]] = field(default_factory=dict)
    log: list[tuple[float, Action]] = field(default_factory=list)

    def send(self, event: Event, now: float | None = None) -> list[Action]:
        """Feed one event at ``now`` (the host's clock by default)."""
        actions = self.policy.decide(event, self.now if now is None else now)
        for action in actions:
            if isinstance(action, ArmTimer):
                self.timers[action.timer] = (self.now + action.seconds, action.token)
            elif isinstance(action, CancelTimer):
                self.timers.pop(action.timer, None)
            self.log.append((self.policy.now, action))
        return actions

    def wait(self, seconds: float) -> list[Action]:
        """Let time pass, firing the timers that fall due on the way."""
        end = self.now + seconds
        actions: list[Action] = []
        while self.timers:
            timer, (at, token) = min(self.timers.items(), key=lambda item: item[1])
            if at > end:
                break
            del self.timers[timer]
            self.now = max(self.now, at)
            actions += self.send(TimerFired(timer, token))
        self.now = end
        return actions


def _of[T](actions: list[Action], kind: type[T]) -> list[T]:
    return [action for action in actions if isinstance(action, kind)]


# Strategies ---------------------------------------------------------------

configs = st.builds(
    PolicyConfig,
    has_belt=st.booleans(),
    watches_stream=st.booleans(),
    has_presence_sensors=st.booleans(),
    stream_timeout=st.sampled_from([0.5, 1.0, 3.0]),
    start_grace=st.sampled_from([0.0, 2.0, 10.0]),
    left_belt_debounce=st.sampled_from([0.0, 0.5]),
    min_clearance_cm=st.just(30.0),
    ack_timeout=st.sampled_from([0.0, 5.0, 60.0]),
    max_escalations=st.integers(0, 3),
    unsafe_hold=st.sampled_from([0.0, 30.0]),
)


@st.composite
def station_states(draw: st.DrawFn) -> StationState:
    active = draw(st.booleans())
    moving = active and draw(st.booleans())
    return StationState(
        session_id=draw(st.sampled_from(["s1", "s2", "s3"])) if active else None,
        active=active,
        moving=moving,
        belt_running=moving and draw(st.booleans()),
        paused_by_safety=active and not moving and draw(st.booleans()),
    )


tiers = st.sampled_from([1, 2, 3])
kinds = st.sampled_from(["spin", "fall", "lying", "unsteady", "free_fall"])
features = st.dictionaries(
    st.sampled_from(["peak", "tilt"]), st.floats(allow_nan=True), max_size=2
)
events: st.SearchStrategy[Event] = st.one_of(
    station_states(),
    st.builds(Detected, tier=st.integers(0, 4), kind=kinds, features=features),
    st.just(SamplesArrived()),
    st.builds(PresenceReading, st.booleans()),
    st.builds(
        ClearanceReading,
        st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    ),
    st.builds(RadarReading, st.booleans()),
    st.just(BeltDidNotStop()),
    st.builds(
        AlertAnswer,
        st.sampled_from(list(Answer)),
        st.sampled_from([None, "alert-1", "alert-2", "bogus"]),
    ),
    st.builds(TimerFired, st.sampled_from(list(Timer)), st.integers(0, 40)),
    st.just(Tick()),
)
# Time between inputs: mostly forward, sometimes back, far ahead or broken.
steps = st.one_of(
    st.floats(0, 2),
    st.floats(0, 2),
    st.floats(0, 120),
    st.floats(-1e6, 0),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e12, -1e12, 1e300]),
)


# Properties ---------------------------------------------------------------


@PROPERTIES
@given(config=configs, script=st.lists(st.tuples(steps, events), max_size=40))
def test_any_sequence_never_raises_and_never_turns_the_clock_back(
    config: PolicyConfig, script: list[tuple[float, Event]]
) -> None:
    policy = SafetyPolicy(config, new_alert_id=_ids().__next__)
    host = Host(policy)
    clock = policy.now
    for step, event in script:
        raw = host.now + step if math.isfinite(step) else step
        if math.isfinite(raw):
            host.now = max(host.now, raw)
        before = policy.now
        actions = host.send(event, raw)
        assert math.isfinite(policy.now)
        assert policy.now >= before >= clock
        matching = isinstance(event, TimerFired)
        if not matching and not (math.isfinite(raw) and raw > before):
            # A bad time does not move the decision's clock.
            assert policy.now == before
        clock = policy.now
        for action in _of(actions, ArmTimer):
            assert math.isfinite(action.seconds)
            assert action.seconds >= 0
        actions += host.wait(0)


@PROPERTIES
@given(
    config=configs,
    state=station_states(),
    before=st.lists(st.tuples(st.floats(0, 5), events), max_size=15),
    tier=tiers,
    kind=kinds,
)
def test_every_detection_gets_its_tiers_response(
    config: PolicyConfig,
    state: StationState,
    before: list[tuple[float, Event]],
    tier: int,
    kind: str,
) -> None:
    """Tier 1 pauses a belt, tier 2 stops it and alerts; without a belt, alerts."""
    host = Host(SafetyPolicy(config, new_alert_id=_ids().__next__))
    for step, event in [*before, (0.0, state)]:
        host.wait(step)
        host.send(event)
    host.wait(0)  # timers due now go off first, as in Home Assistant
    was_pending = host.policy.alert_pending
    actions = host.send(Detected(tier=tier, kind=kind))
    pauses, stops = _of(actions, PauseBelt), _of(actions, StopBelt)
    alerts = _of(actions, AlertPartner)
    if config.has_belt and tier == 1:
        assert pauses == [PauseBelt(kind, 1)]
        # The belt command comes first.
        assert actions.index(pauses[0]) == 0
    if config.has_belt and tier == 2:
        assert stops == [StopBelt(kind, 2)]
        assert actions.index(stops[0]) == 0
    if not config.has_belt:
        assert pauses == stops == []
        assert _of(actions, SlowBelt) == []
    if tier == 2 or not config.has_belt:
        # An alert goes out, or the one waiting for an answer is still repeated.
        assert len(alerts) == (0 if was_pending else 1)
        assert host.policy.alert_pending
    else:
        assert alerts == []
    assert _of(actions, ShowInstability) == [ShowInstability(tier, kind, {})]
    assert host.policy.unsafe


@PROPERTIES
@given(
    config=configs,
    script=st.lists(st.tuples(st.floats(0, 90), events), max_size=40),
)
def test_no_alert_repeats_within_its_acknowledgement_window(
    config: PolicyConfig, script: list[tuple[float, Event]]
) -> None:
    host = Host(SafetyPolicy(config, new_alert_id=_ids().__next__))
    for step, event in script:
        host.wait(step)
        host.send(event)
    host.wait(10 * config.ack_timeout + 1)
    sent: dict[str, list[float]] = {}
    pending: str | None = None
    for at, action in host.log:
        if isinstance(action, AlertPartner):
            # A new alert only once the previous one was answered.
            assert pending is None
            pending = action.alert_id
            sent[action.alert_id] = [at]
        elif isinstance(action, Escalate):
            assert action.alert_id == pending
            sent[action.alert_id].append(at)
            assert action.escalation == len(sent[action.alert_id]) - 1
        elif isinstance(action, (DismissAlert, CallForHelp)):
            assert action.alert_id == pending
            pending = None
    for times in sent.values():
        assert len(times) <= 1 + config.max_escalations
        for earlier, later in itertools.pairwise(times):
            assert later - earlier >= config.ack_timeout - 1e-6


@PROPERTIES
@given(
    timeout=st.sampled_from([0.5, 1.0, 2.5]),
    gaps=st.lists(st.floats(0.01, 0.45), max_size=20),
    noise=st.lists(
        st.one_of(
            st.builds(PresenceReading, st.booleans()),
            st.just(RadarReading(fall=False)),
            st.just(Tick()),
            st.builds(Detected, tier=st.just(3), kind=kinds),
        ),
        max_size=5,
    ),
    silence=st.floats(0.0, 30.0),
)
def test_stream_silence_beyond_the_timeout_pauses_a_running_belt(
    timeout: float, gaps: list[float], noise: list[Event], silence: float
) -> None:
    host = Host(make_policy(stream_timeout=timeout, start_grace=10.0))
    host.wait(100)
    host.send(MOVING)
    host.send(SamplesArrived())
    for gap in gaps:  # a stream that keeps up
        host.wait(gap * timeout)
        host.send(SamplesArrived())
    for event in noise:
        host.send(event)
    assert not _lost(host.log)
    host.wait(silence)
    lost = _lost(host.log)
    if silence < timeout:
        assert lost == []
    else:
        (pause,) = lost
        show = next(
            action
            for _, action in host.log
            if isinstance(action, ShowInstability) and action.kind == "stream_lost"
        )
        assert show.features["silence_s"] == pytest.approx(timeout, abs=0.01)
        assert pause == PauseBelt("stream_lost", 1)


def _lost(log: list[tuple[float, Action]]) -> list[PauseBelt]:
    return [
        action
        for _, action in log
        if isinstance(action, PauseBelt) and action.kind == "stream_lost"
    ]


@PROPERTIES
@given(previous=st.floats(0, 1000), idle=st.floats(0, 1e6))
def test_silence_counts_from_this_sessions_start(previous: float, idle: float) -> None:
    """Regression: the last message of an earlier session does not count."""
    host = Host(make_policy(start_grace=10.0))
    host.send(MOVING)
    host.wait(previous)
    host.send(SamplesArrived())
    host.send(StationState(session_id=None))
    host.wait(idle)
    start = len(host.log)
    host.send(StationState(session_id="s2", active=True, moving=True))
    host.wait(10)
    (show,) = [
        action
        for _, action in host.log[start:]
        if isinstance(action, ShowInstability) and action.kind == "stream_lost"
    ]
    assert show.features["silence_s"] == pytest.approx(10, abs=1e-6)


# Examples -----------------------------------------------------------------


def test_escalation_until_answered_then_help_at_once() -> None:
    host = Host(make_policy(ack_timeout=60.0))
    host.send(MOVING)
    actions = host.send(Detected(tier=2, kind="fall"))
    assert actions[0] == StopBelt("fall", 2)
    assert _of(actions, AlertPartner) == [AlertPartner("alert-1", 2, "fall")]
    # The fall, then lying still: no second alert.
    assert _of(host.send(Detected(tier=2, kind="lying")), AlertPartner) == []
    assert _of(host.wait(59.9), Escalate) == []
    assert _of(host.wait(0.1), Escalate) == [Escalate("alert-1", 1, 1.0)]
    assert len(_of(host.wait(1000), Escalate)) == 2  # three in all
    # A stale or foreign answer is ignored; the right one closes the alert.
    assert host.send(AlertAnswer(Answer.HELP, "bogus")) == []
    actions = host.send(AlertAnswer(Answer.HELP, "alert-1"))
    assert _of(actions, CallForHelp) == [CallForHelp("alert-1")]
    assert not host.policy.alert_pending
    assert host.policy.alert is not None
    assert host.policy.alert.answer is Answer.HELP
    assert host.send(AlertAnswer(Answer.OK)) == []


def test_ok_dismisses_and_stops_the_escalation() -> None:
    host = Host(make_policy())
    host.send(BeltDidNotStop())
    actions = host.send(AlertAnswer(Answer.OK))
    assert CancelTimer(Timer.ESCALATION) in actions
    assert DismissAlert("alert-1") in actions
    assert Refresh() in actions
    assert host.wait(600) == []


def test_unsteady_slows_and_prompts_but_only_notes_while_halted() -> None:
    host = Host(make_policy())
    host.send(MOVING)
    actions = host.send(Detected(tier=3, kind="unsteady"))
    assert [type(action) for action in actions if not isinstance(action, ArmTimer)] == [
        Note,
        SlowBelt,
        ShowInstability,
        PromptWalker,
    ]
    host.send(HALTED)
    actions = host.send(Detected(tier=3, kind="unsteady"))
    assert _of(actions, SlowBelt) == _of(actions, PromptWalker) == []
    assert _of(actions, Note) == [Note("unsteady", 3)]


def test_hallway_station_notes_and_alerts_every_tier() -> None:
    host = Host(make_policy(has_belt=False, watches_stream=False))
    host.send(MOVING)
    actions = host.send(Detected(tier=1, kind="spin"))
    assert _of(actions, Note) == [Note("spin", 1)]
    assert _of(actions, AlertPartner) == [AlertPartner("alert-1", 1, "spin")]
    host.wait(3600)
    assert not _lost(host.log)  # no belt: the stream is not watched


def test_left_belt_after_the_debounce_unless_back() -> None:
    host = Host(
        make_policy(
            watches_stream=False, has_presence_sensors=True, left_belt_debounce=0.5
        )
    )
    host.send(PresenceReading(present=True))
    host.send(MOVING)
    host.send(PresenceReading(present=False))
    host.wait(0.3)
    host.send(PresenceReading(present=True))
    assert host.wait(5) == []
    host.send(PresenceReading(present=False))
    assert PauseBelt("left_belt", 1) in host.wait(0.5)


def test_radar_and_clearance_fire_on_the_change_only() -> None:
    host = Host(make_policy(min_clearance_cm=30.0))
    host.send(RadarReading(fall=True))  # already on before the session
    host.send(ClearanceReading(math.nan))
    host.send(MOVING)
    assert host.send(RadarReading(fall=True)) == []
    host.send(RadarReading(fall=False))
    assert StopBelt("radar_fall", 2) in host.send(RadarReading(fall=True))
    actions = host.send(ClearanceReading(20.0))
    assert PauseBelt("too_close", 1) in actions
    assert _of(actions, ShowInstability)[0].features == {"clearance_cm": 20.0}
    assert host.send(ClearanceReading(15.0)) == []  # still too close


def test_unsafe_holds_then_clears() -> None:
    host = Host(make_policy(watches_stream=False, unsafe_hold=30.0))
    host.send(MOVING)
    host.send(Detected(tier=3, kind="unsteady"))
    assert host.policy.unsafe
    assert host.wait(30) == [Refresh()]
    assert not host.policy.unsafe
    host.send(HALTED)
    assert host.policy.unsafe  # paused for safety


def test_a_resumed_belt_gets_no_start_grace_once_the_stream_began() -> None:
    """A stream that died during a pause pauses the resumed belt in a second."""
    host = Host(make_policy(stream_timeout=1.0, start_grace=10.0))
    host.send(MOVING)
    host.send(SamplesArrived())
    host.send(replace(HALTED, paused_by_safety=False))  # the walker pauses
    host.wait(60)  # … and the phone stops streaming meanwhile
    assert _lost(host.log) == []
    host.send(MOVING)  # resumed
    host.wait(0.9)
    assert _lost(host.log) == []
    host.wait(0.2)
    assert _lost(host.log) == [PauseBelt("stream_lost", 1)]
    show = next(
        action
        for _, action in host.log
        if isinstance(action, ShowInstability) and action.kind == "stream_lost"
    )
    assert show.features["silence_s"] == pytest.approx(61, abs=0.01)


def test_a_resumed_belt_with_a_live_stream_runs_on() -> None:
    host = Host(make_policy(stream_timeout=1.0, start_grace=10.0))
    host.send(MOVING)
    host.send(SamplesArrived())
    host.send(HALTED)
    for _ in range(20):  # the phone streams on during the pause
        host.wait(0.2)
        host.send(SamplesArrived())
    host.send(MOVING)
    for _ in range(20):
        host.wait(0.2)
        host.send(SamplesArrived())
    assert _lost(host.log) == []


def test_a_stale_timer_does_nothing_and_a_late_one_still_acts() -> None:
    policy = make_policy(stream_timeout=1.0, start_grace=10.0)
    policy.decide(MOVING, 0.0)
    policy.decide(SamplesArrived(), 1.0)
    # A token of an earlier arming: ignored, the clock stays.
    assert policy.decide(TimerFired(Timer.STREAM, 1), 1.0) == []
    assert policy.deadline(Timer.STREAM) == 2.0
    # Time jumps far ahead before the host's timer fires: handled at once.
    actions = policy.decide(Tick(), 1e9)
    assert PauseBelt("stream_lost", 1) in actions
    assert CancelTimer(Timer.STREAM) in actions
    # One bad time does not take the clock back.
    policy.decide(Tick(), 5.0)
    policy.decide(Tick(), math.nan)
    assert policy.now == 1e9
