"""The tiered instability detector on synthetic walking with modelled events.

The events are ``evaluation.events``' physical models written into synthetic
walking (``evaluation.synthetic``): these tests fail when the detector stops
catching a modelled fall or starts firing on quiet walking.
"""

from __future__ import annotations

from dataclasses import replace
import math

import numpy as np
import pytest

from custom_components.retro_walk.detection import (
    Detection,
    Detector,
    DetectorConfig,
    SampleBatch,
    Tier,
    gait,
)
from custom_components.retro_walk.detection.signals import (
    Turns,
    _rotations,
    at_run_start,
)
from evaluation import events, synthetic

MS = 1_000_000


def run(
    motion: synthetic.Motion, batch: int = 50, config: DetectorConfig | None = None
) -> list[Detection]:
    detector = Detector(config)
    found = [d for b in motion.batches(batch) for d in detector.process(b)]
    times = [d.time_ns for d in found]
    assert times == sorted(times)
    return found


def summary(found: list[Detection], onset_ns: int = 0) -> list[tuple[int, str, int]]:
    return [(int(d.tier), d.kind, (d.time_ns - onset_ns) // MS) for d in found]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quiet_walking_fires_nothing(seed: int) -> None:
    motion = synthetic.walking(120.0, seed=seed)
    detector = Detector()
    found = [d for b in motion.batches(50) for d in detector.process(b)]
    assert found == []
    assert detector.calibrated
    assert detector.baseline_ready
    assert detector.last_time_ns == int(motion.time_ns[-1])


@pytest.mark.parametrize("kind", events.FALL_KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_falls_pause_then_confirm(kind: str, seed: int) -> None:
    motion = synthetic.with_event(kind, seed)
    found = run(motion)
    pauses = [d for d in found if d.tier == Tier.PAUSE_NOW]
    falls = [d for d in found if d.tier == Tier.CONFIRMED_FALL]
    assert len(pauses) == 1, summary(found, motion.onset_ns)
    assert len(falls) == 1, summary(found, motion.onset_ns)
    assert not [d for d in found if d.tier == Tier.UNSTEADY]
    pause_ms = (pauses[0].time_ns - motion.onset_ns) / MS
    fall_ms = (falls[0].time_ns - motion.onset_ns) / MS
    assert 0 < pause_ms <= 600
    assert pause_ms < fall_ms <= 2000
    assert pauses[0].kind in {"spin", "drop", "free_fall", "impact", "model"}
    assert falls[0].kind == "fall"
    assert set(pauses[0].features) >= {
        "peak_gyro",
        "tilt_deg",
        "min_acc_g",
        "max_acc_g",
    }
    assert falls[0].features["tilt_deg"] >= 45


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovered_stumble_pauses_but_is_not_a_fall(seed: int) -> None:
    motion = synthetic.with_event("stumble", seed)
    found = run(motion)
    # Paused at once, then "unsteady" once the walker is upright again.
    assert [(d.tier, d.kind) for d in found][1:] == [(Tier.UNSTEADY, "stumble")]
    assert found[0].tier == Tier.PAUSE_NOW, summary(found, motion.onset_ns)
    assert 0 < found[0].time_ns - motion.onset_ns <= 300 * MS
    after = (found[1].time_ns - found[0].time_ns) / 1e9
    assert DetectorConfig().recovered_after_s - 0.01 <= after <= 2.0


@pytest.mark.parametrize("batch", [1, 7, 100, 5000])
def test_batching_does_not_change_detections(batch: int) -> None:
    motion = synthetic.with_event("slip", 3)
    reference = summary(run(motion, 50))
    assert summary(run(motion, batch)) == reference
    assert reference  # and there was something to compare


def test_ios_sign_convention_gives_the_same_detections() -> None:
    motion = synthetic.with_event("side_fall", 2)
    flipped = synthetic.Motion(
        motion.time_ns, -motion.acc, motion.gyro, motion.onset_ns
    )
    assert summary(run(flipped)) == summary(run(motion))


def test_100_hz_client() -> None:
    motion = synthetic.with_event("slip", 0, rate_hz=100.0)
    found = run(motion, 100)
    assert [d.tier for d in found] == [Tier.PAUSE_NOW, Tier.CONFIRMED_FALL]
    assert found[0].time_ns - motion.onset_ns <= 600 * MS


def test_without_gyroscope_falls_are_still_confirmed() -> None:
    motion = synthetic.with_event("slip", 1)
    no_gyro = synthetic.Motion(
        motion.time_ns, motion.acc, np.zeros_like(motion.gyro), motion.onset_ns
    )
    found = run(no_gyro)
    assert Tier.CONFIRMED_FALL in [d.tier for d in found]


def test_lone_spike_while_upright_is_not_an_impact() -> None:
    # A knock on the phone mid-walk (the gaitpy recording has a 6.7 g one).
    motion = synthetic.walking(40.0, seed=4)
    acc = motion.acc.copy()
    acc[1500] = [30.0, 50.0, 40.0]
    assert run(synthetic.Motion(motion.time_ns, acc, motion.gyro)) == []


def _turn_then_strike(turn_to_strike_s: float, strike_g: float) -> synthetic.Motion:
    """Walking; a 60 ms turn of 3.5 rad/s, then a strike ``turn_to_strike_s`` later."""
    motion = synthetic.walking(30.0, seed=6)
    acc, gyro = motion.acc.copy(), motion.gyro.copy()
    down = acc[:500].mean(axis=0) / np.linalg.norm(acc[:500].mean(axis=0))
    across = np.cross(down, [1.0, 0.0, 0.0])
    gyro[1000:1003] = 3.5 * across / np.linalg.norm(across)
    strike = 1002 + round(turn_to_strike_s * 50)
    acc[strike] = strike_g * 9.81 * down
    return synthetic.Motion(motion.time_ns, acc, gyro)


@pytest.mark.parametrize("batch", [1, 7, 50])
def test_a_strike_just_after_a_turn_is_a_stumble(batch: int) -> None:
    # A stumble's foot strike: the trunk barely tilts, so only the turn
    # just before tells it from a heel strike or a knock on the phone.
    found = run(_turn_then_strike(0.2, 4.5), batch)
    assert [(d.tier, d.kind) for d in found][:1] == [(Tier.PAUSE_NOW, "impact")]
    assert found[0].features["max_acc_g"] == pytest.approx(4.5, abs=0.1)

    # Too long after the turn, or too soft (a jogging stride lands at 3 g):
    # no pause (the disturbed gait windows may still say "unsteady").
    def pauses(found: list[Detection]) -> list[Detection]:
        return [d for d in found if d.tier != Tier.UNSTEADY]

    assert pauses(run(_turn_then_strike(0.5, 4.5), batch)) == []
    assert pauses(run(_turn_then_strike(0.2, 3.5), batch)) == []
    # Switched off, the same strike is a lone spike.
    off = replace(DetectorConfig(), lone_impact_g=math.inf)
    assert pauses(run(_turn_then_strike(0.2, 4.5), batch, off)) == []


def _leaning(up: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gravity as read with the trunk ``angle`` (rad, per 50 Hz sample) from
    ``up``, and the rotation rate that turns it so."""
    g = float(np.linalg.norm(up))
    u = up / g
    w = np.cross(u, [1.0, 0.0, 0.0])
    w /= np.linalg.norm(w)
    gravity = g * (np.cos(angle)[:, None] * u + np.sin(angle)[:, None] * w)
    # The gravity reading turns from u towards w: the device turns about -(u x w).
    return gravity, -np.gradient(angle, 1 / 50)[:, None] * np.cross(u, w)


def _leaning_then_strike(lean_deg: float) -> synthetic.Motion:
    """Walking, leaning over 2 s to ``lean_deg`` (no spin, no drop), then a
    3.5 g strike 1 s later with nothing sudden before it."""
    walk = synthetic.walking(30.0, seed=8)
    up = walk.acc[:1000].mean(axis=0)
    angle = np.radians(lean_deg) * np.clip(
        (np.arange(walk.acc.shape[0]) - 1000) / 100, 0, 1
    )
    gravity, turn = _leaning(up, angle)
    # The walk's own accelerations and rotations ride on the lean.
    acc = walk.acc - up + gravity
    gyro = walk.gyro + turn
    acc[1150] = 3.5 * gravity[1150]
    return synthetic.Motion(walk.time_ns, acc, gyro)


def test_an_impact_without_a_fall_phase_pauses_only_past_45_degrees() -> None:
    # Stairs taken quickly and a collapse into a chair strike 3 g leaning
    # 20-35°; landing at 45° or more is a fall.
    rules_only = {"model": None}
    assert _kinds(_leaning_then_strike(30.0), Tier.PAUSE_NOW, **rules_only) == []
    assert _kinds(_leaning_then_strike(55.0), Tier.PAUSE_NOW, **rules_only) == [
        "impact"
    ]
    before = {**rules_only, "impact_tilt_deg": 22.5}
    assert _kinds(_leaning_then_strike(30.0), Tier.PAUSE_NOW, **before) == ["impact"]


def test_impact_after_a_fall_phase_pauses() -> None:
    motion = synthetic.walking(30.0, seed=5)
    acc = motion.acc.copy()
    down = acc[:500].mean(axis=0) / np.linalg.norm(acc[:500].mean(axis=0))
    acc[1000:1006] = 0.2 * 9.81 * down  # 120 ms of low g (not yet free fall) …
    acc[1006] = 6.0 * 9.81 * down  # … then a 6 g impact
    # The walker (still walking) is upright again: tier 3 follows the pause.
    recovered = (Tier.UNSTEADY, "stumble")
    found = run(synthetic.Motion(motion.time_ns, acc, motion.gyro))
    assert [(d.tier, d.kind) for d in found] == [(Tier.PAUSE_NOW, "impact"), recovered]
    assert found[0].time_ns == motion.time_ns[1006]
    assert found[0].features["max_acc_g"] == pytest.approx(6.0, abs=0.1)
    # Longer, it is a free fall, caught before the impact.
    acc[1006:1008] = 0.2 * 9.81 * down
    acc[1008] = 6.0 * 9.81 * down
    found = run(synthetic.Motion(motion.time_ns, acc, motion.gyro))
    assert [(d.tier, d.kind) for d in found] == [
        (Tier.PAUSE_NOW, "free_fall"),
        recovered,
    ]
    assert found[0].time_ns == motion.time_ns[1007]


def _standing_then_dropped(seconds_standing: float) -> synthetic.Motion:
    """Walking, standing still for ``seconds_standing``, then 0.2 s of 0 g."""
    walk = synthetic.walking(20.0 + seconds_standing + 2.0, seed=6)
    acc, gyro = walk.acc.copy(), walk.gyro.copy()
    rng = np.random.default_rng(6)
    still = slice(1000, 1000 + int(seconds_standing * 50))
    upright = acc[:1000].mean(axis=0)
    acc[still] = upright + rng.normal(0.0, 0.05, acc[still].shape)
    gyro[still] = rng.normal(0.0, 0.01, gyro[still].shape)  # a gyroscope at rest
    end = still.stop
    acc[end : end + 10] = 0.02 * upright  # free fall
    gyro[end : end + 10] = 0.01
    acc[end + 10 :] = upright
    gyro[end + 10 :] = rng.normal(0.0, 0.01, gyro[end + 10 :].shape)
    return synthetic.Motion(walk.time_ns, acc, gyro, int(walk.time_ns[end]))


def _kinds(motion: synthetic.Motion, tier: Tier, **config: object) -> list[str]:
    """The kinds of ``tier`` the detector (defaults but ``config``) fires."""
    found = run(motion, config=replace(DetectorConfig(), **config))
    return [d.kind for d in found if d.tier == tier]


def _without_gyroscope(motion: synthetic.Motion) -> synthetic.Motion:
    """The same motion from a client without a gyroscope (it sends zeros)."""
    return synthetic.Motion(
        motion.time_ns, motion.acc, np.zeros_like(motion.gyro), motion.onset_ns
    )


def test_tier1_waits_for_a_walker_on_the_move() -> None:
    """A drop from standing still is not paused; the same while walking is."""
    at_rest = _standing_then_dropped(3.0)
    assert _kinds(at_rest, Tier.PAUSE_NOW) == []
    # Off, or walking right up to the drop:
    assert _kinds(at_rest, Tier.PAUSE_NOW, walking_rate=0.0) == ["free_fall"]
    assert _kinds(_standing_then_dropped(0.0), Tier.PAUSE_NOW) == ["free_fall"]
    # A client without a gyroscope (zeros) never looks at rest: no gate.
    assert _kinds(_without_gyroscope(at_rest), Tier.PAUSE_NOW) == ["free_fall"]


def _still_then_fallen(
    seconds_still: float, seconds_lying: float = 10.0
) -> synthetic.Motion:
    """Walking, still for ``seconds_still``, then 0.4 s down to 80°, a 4 g
    impact and lying there (sitting down hard or lying down quickly from
    rest, when ``seconds_still`` > 0)."""
    walk = synthetic.walking(20.0 + seconds_still + seconds_lying, seed=7)
    acc, gyro = walk.acc.copy(), walk.gyro.copy()
    rng = np.random.default_rng(7)
    up = acc[:1000].mean(axis=0)
    start = 1000 + int(seconds_still * 50)
    still = slice(1000, start)
    acc[still] = up + rng.normal(0.0, 0.05, acc[still].shape)
    gyro[still] = rng.normal(0.0, 0.01, gyro[still].shape)  # a gyroscope at rest
    angle = np.radians(80.0) * np.clip((np.arange(acc.shape[0]) - start) / 20, 0, 1)
    after = slice(start, None)
    gravity, turn = _leaning(up, angle)
    acc[after] = gravity[after]
    gyro[after] = turn[after]
    gyro[start + 20 :] += rng.normal(0.0, 0.01, gyro[start + 20 :].shape)
    acc[start + 20] *= 4.0  # the impact
    return synthetic.Motion(walk.time_ns, acc, gyro, int(walk.time_ns[start]))


def test_tier2_confirms_a_fall_from_the_move() -> None:
    """Impact and fallen posture alert a walker; from rest, only 15 s lying."""
    fall = Tier.CONFIRMED_FALL
    from_rest = _still_then_fallen(3.0)
    assert _kinds(from_rest, fall) == []
    assert _kinds(from_rest, fall, lying_moving_s=math.inf) == ["lying"]
    off = {"fall_moving_s": math.inf, "lying_moving_s": math.inf}
    assert _kinds(from_rest, fall, **off) == ["fall"]
    assert _kinds(_still_then_fallen(0.0), fall) == ["fall"]
    # Lying flat for 15 s is alerted however the walker got there.
    found = run(_still_then_fallen(3.0, seconds_lying=20.0))
    falls = [d for d in found if d.tier == fall]
    assert summary(falls, from_rest.onset_ns) == [(2, "lying", 15_340)]
    # A client without a gyroscope (zeros) never looks at rest.
    assert _kinds(_without_gyroscope(from_rest), fall) == ["fall"]
    # Found lying after a gap in the stream, the walker is alerted (fail safe).
    keep = np.ones(from_rest.time_ns.shape[0], dtype=bool)
    gap_start = int(np.searchsorted(from_rest.time_ns, from_rest.onset_ns)) + 30
    keep[gap_start : gap_start + 100] = False
    after_gap = synthetic.Motion(
        from_rest.time_ns[keep], from_rest.acc[keep], from_rest.gyro[keep]
    )
    assert _kinds(after_gap, fall) == ["lying"]


@pytest.mark.parametrize(("count", "largest_pull"), [(1, 0.3), (600, 0.4), (300, 0.9)])
def test_turns_filter_is_the_recursion(count: int, largest_pull: float) -> None:
    """The closed form (in 256-sample chunks) equals the step-by-step filter."""
    rng = np.random.default_rng(count)
    acc = rng.normal(size=(count, 3)) * 3.0 + [0.0, 0.0, 9.8]
    gyro = rng.normal(size=(count, 3)) * 4.0
    dt = rng.uniform(0.001, 0.1, count)
    alpha = rng.random(count) * largest_pull
    g0 = np.array([0.0, 1.0, 9.0])
    turns = _rotations(gyro, dt)
    expected, g = [], g0
    for k in range(count):
        pull = min(alpha[k], 0.5)  # larger pulls count as 0.5
        g = (1.0 - pull) * turns[k] @ g + pull * acc[k]
        expected.append(g)
    np.testing.assert_allclose(
        Turns(gyro, dt).filter(acc, alpha, g0), expected, rtol=0, atol=1e-9
    )


def test_run_start_values_do_not_depend_on_batches() -> None:
    rng = np.random.default_rng(3)
    cond = rng.random(400) < 0.7
    values = rng.normal(size=400)
    whole, _ = at_run_start(cond, values, math.nan)
    for split in (1, 7, 50, 399):
        head, carry = at_run_start(cond[:split], values[:split], math.nan)
        tail, _ = at_run_start(cond[split:], values[split:], carry)
        np.testing.assert_array_equal(np.concatenate((head, tail)), whole)
    expected, run_value = [], math.nan
    for index, flag in enumerate(cond):
        if flag and (index == 0 or not cond[index - 1]):
            run_value = values[index]
        expected.append(run_value if flag else math.nan)
    np.testing.assert_array_equal(whole, expected)


def _tilted(
    seconds_upright: float, seconds_over: float, angle_deg: float
) -> synthetic.Motion:
    """Standing, then slowly (over 3 s) leaning to ``angle_deg`` and staying."""
    rate = 50.0
    n = int((seconds_upright + 3.0 + seconds_over) * rate)
    t = np.arange(n) / rate
    angle = np.radians(angle_deg) * np.clip((t - seconds_upright) / 3.0, 0.0, 1.0)
    rng = np.random.default_rng(0)
    acc = np.stack([9.80665 * np.sin(angle), np.zeros(n), 9.80665 * np.cos(angle)], 1)
    acc += rng.normal(0.0, 0.05, acc.shape)
    gyro = np.zeros((n, 3))
    # Gravity turns from +z towards +x: a rotation of the device about -y.
    gyro[:, 1] = -np.gradient(angle, 1 / rate)
    times = (synthetic.EPOCH_NS + np.arange(n) * 20 * MS).astype(np.int64)
    return synthetic.Motion(times, acc, gyro)


def test_lying_down_slowly_is_lying_not_a_fall() -> None:
    found = run(_tilted(12.0, 10.0, 85.0))
    assert summary(found) == [
        (2, "lying", found[0].time_ns // MS),
    ]
    # Held 5 s past 70°, reached ~2.5 s into the 3 s lean that starts at 12 s.
    start = int(synthetic.EPOCH_NS) // MS
    assert 19_000 <= found[0].time_ns // MS - start <= 20_000


def test_bending_over_slowly_fires_nothing() -> None:
    # 60° is past the fall tilt, but reached slowly: no dynamic phase.
    assert run(_tilted(12.0, 10.0, 60.0)) == []


def test_unsteady_gait_prompts() -> None:
    motion = synthetic.walking(70.0, seed=6)
    acc, gyro = events.irregular_gait(
        motion.acc, motion.gyro, 50.0, 1500, 0.2, np.random.default_rng(6)
    )
    found = run(synthetic.Motion(motion.time_ns, acc, gyro))
    assert {(d.tier, d.kind) for d in found} == {(Tier.UNSTEADY, "unsteady")}
    detection = found[0]
    # Irregular from 30 s; the baseline is steady, so it comes within 20 s …
    assert 30_000 < (detection.time_ns - motion.time_ns[0]) // MS < 50_000
    # … and prompts again no sooner than unsteady_refractory_s.
    gaps = np.diff([d.time_ns for d in found])
    assert (gaps >= DetectorConfig().unsteady_refractory_s * 1e9).all()
    assert (
        detection.features["stride_regularity"]
        < detection.features["baseline_regularity"]
    )


def _stumbles_at(*onsets: int) -> synthetic.Motion:
    """40 s of walking (50 Hz) with a modelled stumble at each sample index."""
    base = synthetic.walking(40.0, seed=7)
    t_s = (base.time_ns - base.time_ns[0]) / 1e9
    acc, gyro = base.acc, base.gyro
    for onset in onsets:
        injected = events.inject(
            "stumble", np.random.default_rng(2), t_s, acc, gyro, onset, after_s=3.0
        )
        acc = np.concatenate((injected.acc, acc[injected.acc.shape[0] :]))
        gyro = np.concatenate((injected.gyro, gyro[injected.gyro.shape[0] :]))
    return synthetic.Motion(base.time_ns, acc, gyro)


def test_refractory_and_edge_triggering() -> None:
    # Two stumbles 2 s apart: one pause (refractory 5 s); 8 s apart: two.
    found = [d for d in run(_stumbles_at(1000, 1100, 1500)) if d.tier == Tier.PAUSE_NOW]
    assert [d.tier for d in found] == [Tier.PAUSE_NOW, Tier.PAUSE_NOW]
    assert (found[1].time_ns - found[0].time_ns) > 5_000 * MS


def test_rearm_lets_a_resumed_walker_be_paused_again() -> None:
    # Two stumbles 2 s apart: the refractory holds the second back, unless
    # the belt ran again in between (the walker resumed after the pause).
    batches = _stumbles_at(1000, 1100).batches(50)

    def pauses(rearm_at: int | None) -> list[int]:
        detector = Detector()
        found = []
        for number, batch in enumerate(batches):
            if number == rearm_at:
                detector.rearm()
            found += [d.time_ns for d in detector.process(batch) if d.tier == 1]
        return found

    held_back = pauses(None)
    assert len(held_back) == 1
    # Rearmed before the first stumble: nothing changes.
    assert pauses(10) == held_back
    # Rearmed between them (batch 21 starts 21 s in, the stumbles are at
    # 20 s and 22 s): both pause.
    both = pauses(21)
    assert len(both) == 2
    assert both[0] == held_back[0]
    assert 1_500 * MS < both[1] - both[0] < 3_000 * MS


def test_stale_and_duplicate_samples_are_ignored() -> None:
    motion = synthetic.with_event("slip", 0)
    batches = motion.batches(50)
    detector = Detector()
    first = [d for b in batches for d in detector.process(b)]
    last = detector.last_time_ns
    # The whole recording again (a replayed MQTT backlog): nothing new.
    assert [d for b in batches for d in detector.process(b)] == []
    assert detector.last_time_ns == last
    assert first


def test_gap_restarts_short_term_state_but_keeps_calibration() -> None:
    motion = synthetic.walking(40.0, seed=8)
    detector = Detector()
    batches = motion.batches(50)
    for batch in batches[:20]:
        detector.process(batch)
    assert detector.calibrated
    shifted = [
        replace_times(batch, 60_000_000_000) for batch in batches[20:]
    ]  # a minute without samples
    assert [d for b in shifted for d in detector.process(b)] == []
    assert detector.calibrated


def replace_times(batch: SampleBatch, offset_ns: int) -> SampleBatch:
    return SampleBatch(
        time_ns=batch.time_ns + offset_ns,
        acc=batch.acc,
        gyro=batch.gyro,
        gravity=batch.gravity,
        session_id=batch.session_id,
        device_id=batch.device_id,
        message_id=batch.message_id,
    )


def test_reset_starts_a_new_session() -> None:
    motion = synthetic.walking(15.0, seed=9)
    detector = Detector()
    for batch in motion.batches(50):
        detector.process(batch)
    assert detector.calibrated
    assert detector.last_time_ns is not None
    detector.reset()
    assert not detector.calibrated
    assert not detector.baseline_ready
    assert detector.last_time_ns is None
    # The same samples are new again for the new session.
    assert detector.process(motion.batches(50)[0]) == []
    assert detector.last_time_ns == int(motion.time_ns[49])


def test_calibration_period() -> None:
    config = DetectorConfig(calibration_s=5.0)
    motion = synthetic.walking(8.0, seed=10)
    detector = Detector(config)
    batches = motion.batches(50)
    for batch in batches[:4]:
        detector.process(batch)
    assert not detector.calibrated
    for batch in batches[4:]:
        detector.process(batch)
    assert detector.calibrated


def test_empty_and_single_sample_batches() -> None:
    detector = Detector()
    empty = SampleBatch(
        time_ns=np.zeros(0, dtype=np.int64),
        acc=np.zeros((0, 3)),
        gyro=np.zeros((0, 3)),
        gravity=None,
        session_id="s",
        device_id="d",
        message_id=0,
    )
    assert detector.process(empty) == []
    assert detector.last_time_ns is None
    motion = synthetic.walking(2.0)
    for batch in motion.batches(1):
        assert detector.process(batch) == []


def test_config_thresholds_are_used() -> None:
    motion = synthetic.with_event("stumble", 2)
    assert run(motion)
    strict = replace(
        DetectorConfig(), spin_rate=20.0, drop_speed=20.0, impact_g=50.0, model=None
    )
    assert [d for d in run(motion, config=strict) if d.tier == Tier.PAUSE_NOW] == []


def test_calibration_waits_for_a_quiet_sample() -> None:
    # The session starts with the phone turning fast: no sample may enter the
    # upright reference yet; the first quiet ones do.
    motion = synthetic.walking(15.0, seed=11)
    gyro = motion.gyro.copy()
    gyro[:40] += [4.0, 4.0, 4.0]
    detector = Detector()
    batches = synthetic.Motion(motion.time_ns, motion.acc, gyro).batches(25)
    assert detector.process(batches[0]) == []
    assert detector._ref_count == 0
    assert [d for b in batches[1:] for d in detector.process(b)] == []
    assert detector._ref_count > 0


def test_gait_helpers_edge_cases() -> None:
    assert gait.autocorrelation(np.zeros(50), 10).tolist() == [0.0] * 11
    # Too few steps for a stride-time CV.
    t = np.arange(100) / gait.GRID_HZ
    assert math.isnan(gait.stride_cv(np.sin(2 * np.pi * 1.0 * t), 25))
    assert not gait.analyse(np.zeros(400), 0.05).gait
    steady = gait.analyse(0.3 * np.sin(2 * np.pi * 1.8 * np.arange(400) / 50), 0.05)
    assert steady.gait
    assert steady.regularity > 0.9
    assert steady.stride_cv < 0.02
    assert steady.stride_s == pytest.approx(2 / 1.8, abs=0.03)
    # Movement without a repeating stride (sitting down, getting into a car)
    # is no gait once a regularity is asked for; a steady gait still is.
    restless = np.random.default_rng(4).normal(0.0, 0.15, 400)
    assert gait.analyse(restless, 0.05).gait
    assert not gait.analyse(restless, 0.05, min_regularity=0.1).gait
    assert gait.analyse(
        0.3 * np.sin(2 * np.pi * 1.8 * np.arange(400) / 50), 0.05, min_regularity=0.1
    ).gait


def _tilts(config: DetectorConfig, acc: np.ndarray, batch: int) -> np.ndarray:
    detector = Detector(config)
    detector.feature_log = []
    times = synthetic.EPOCH_NS + np.arange(acc.shape[0], dtype=np.int64) * 20 * MS
    rows = np.concatenate((acc, np.zeros_like(acc)), axis=1)
    for begin in range(0, acc.shape[0], batch):
        detector.run(times[begin : begin + batch], rows[begin : begin + batch])
    return np.concatenate([f[:, 0] for _, f, _ in detector.feature_log])


def test_attitude_follows_the_mean_acceleration_of_brisk_walking() -> None:
    # Upright, no rotation, 2 steps/s whose fore-aft acceleration is not
    # symmetric about the moments |a| = 1 g: pulling towards each sample near
    # 1 g tilts the estimate; the mean over strides is gravity.
    t = np.arange(3000) / 50.0
    w = 2 * math.pi * 2.0 * t
    acc = 9.80665 * np.stack(
        (
            0.1 * np.sin(w / 2),
            1 + 0.5 * np.cos(w),
            0.5 * np.sin(w) + 0.25 * np.sin(2 * w + 0.5),
        ),
        axis=1,
    )
    shipped = DetectorConfig(model=None)
    assert shipped.attitude_mean_tau_s > 0
    tilt = _tilts(shipped, acc, 50)[1500:]
    assert float(np.percentile(tilt, 95)) < 1.0
    np.testing.assert_allclose(_tilts(shipped, acc, 7)[1500:], tilt, atol=1e-6)
    instantaneous = _tilts(replace(shipped, attitude_mean_tau_s=0.0), acc, 50)
    assert float(np.median(instantaneous[1500:])) > 2.0
