"""The detector's sample clock, and the defects it fixes, on Sensor Logger messages.

Recordings are written the way ``scripts/evaluate`` writes them
(``evaluation.sensorlogger``: one push message per batch period) and fed as
a receiver would: each message with the receiver's clock at its arrival.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custom_components.retro_walk.detection import (
    Detection,
    Detector,
    Tier,
    parse_message,
)
from custom_components.retro_walk.detection.clock import SampleClock
from evaluation import synthetic
from evaluation.sensorlogger import ClientStyle, write_recording

MS = 1_000_000
S = 1_000 * MS
DELAY_NS = 150 * MS
"""Delivery delay of a message after its newest sample."""
YEAR_NS = 365 * 24 * 3600 * S
MAX_TIME = 2**63 - 1
WORK_PER_SAMPLE = 30
WORK_PER_MESSAGE = 2000

type Message = dict[str, Any]


def recording(
    tmp_path: Path, motion: synthetic.Motion, style: str = "android"
) -> list[tuple[Message, int]]:
    """The motion's messages, each with its true receive time (epoch ns)."""
    path = tmp_path / "recording.jsonl"
    write_recording(
        path, motion.time_ns, motion.acc, motion.gyro, ClientStyle(style), "s"
    )
    messages = [json.loads(line) for line in path.read_text().splitlines()]
    return [
        (m, max(item["time"] for item in m["payload"]) + DELAY_NS) for m in messages
    ]


def feed(
    detector: Detector,
    messages: list[tuple[Message, int]],
    *,
    receiver: bool,
    skew_ns: int = 0,
) -> list[Detection]:
    """Process each message, with its receive time on a clock ``skew_ns`` behind."""
    found: list[Detection] = []
    for data, received_ns in messages:
        batch = parse_message(data)
        before = detector.work
        found += detector.process(
            batch, received_ns=received_ns - skew_ns if receiver else None
        )
        assert (
            detector.work - before
            <= WORK_PER_SAMPLE * (len(batch) + 1) + WORK_PER_MESSAGE
        )
    return found


def sample(name: str, time_ns: int, values: tuple[float, float, float]) -> Message:
    return {
        "name": name,
        "time": time_ns,
        "values": dict(zip("xyz", map(float, values), strict=True)),
    }


# --- Defect 1: one far-future sample switched detection off -------------------


@pytest.mark.parametrize("receiver", [True, False], ids=["received_ns", "trusted"])
@pytest.mark.parametrize(
    "future_ns",
    [60 * S, 10 * YEAR_NS, None],
    ids=["+60s", "+10y", "2**63-1"],
)
def test_far_future_sample_does_not_stop_detection(
    tmp_path: Path, receiver: bool, future_ns: int | None
) -> None:
    motion = synthetic.with_event("stumble", 1)
    messages = recording(tmp_path, motion)
    data, _received = messages[10]  # mid-session, before the stumble at 20 s
    last = max(item["time"] for item in data["payload"])
    bad = MAX_TIME if future_ns is None else last + future_ns
    data["payload"].append(sample("totalacceleration", bad, (0.1, 9.8, 0.2)))
    detector = Detector()
    found = feed(detector, messages, receiver=receiver)
    assert [d.tier for d in found] == [Tier.PAUSE_NOW, Tier.UNSTEADY]
    assert 0 < found[0].time_ns - motion.onset_ns <= 300 * MS
    reason = "too_far_ahead" if receiver else "unconfirmed_jump"
    assert detector.dropped == {reason: 1}
    assert detector.last_time_ns is not None
    assert detector.last_time_ns < int(motion.time_ns[-1]) + S


def test_far_future_message_does_not_stop_detection(tmp_path: Path) -> None:
    # A whole message 60 s ahead (a phone clock that jumped, once).
    motion = synthetic.with_event("stumble", 2)
    messages = recording(tmp_path, motion)
    data, received_ns = messages[12]
    shifted = json.loads(json.dumps(data))
    for item in shifted["payload"]:
        item["time"] += 60 * S
    messages.insert(13, (shifted, received_ns))
    detector = Detector()
    found = feed(detector, messages, receiver=True)
    assert [d.tier for d in found] == [Tier.PAUSE_NOW, Tier.UNSTEADY]
    assert detector.dropped["too_far_ahead"] == len(parse_message(shifted))
    assert detector.clock.offset_ns is not None
    assert abs(detector.clock.offset_ns) < S


# --- Defect 2: an old first message set the upright reference -----------------


def lying_message(motion: synthetic.Motion, start_ns: int, count: int = 50) -> Message:
    """One second of the phone lying still, perpendicular to the walker's posture."""
    down = motion.acc[:250].mean(axis=0)
    down /= np.linalg.norm(down)
    across = np.cross(down, [1.0, 0.0, 0.0])
    across *= synthetic.G / np.linalg.norm(across)
    payload = []
    for index in range(count):
        time_ns = start_ns + index * 20 * MS
        payload.append(sample("totalacceleration", time_ns, tuple(across)))
        payload.append(sample("gyroscope", time_ns, (0.0, 0.0, 0.0)))
    return {"messageId": 0, "sessionId": "s", "deviceId": "d", "payload": payload}


@pytest.mark.parametrize("receiver", [True, False], ids=["received_ns", "trusted"])
@pytest.mark.parametrize("age_ns", [15 * S, 3600 * S], ids=["15s", "1h"])
def test_old_first_message_does_not_calibrate(
    tmp_path: Path, receiver: bool, age_ns: int
) -> None:
    walk = synthetic.walking(20.0, seed=3)
    messages = recording(tmp_path, walk)
    start = int(walk.time_ns[0])
    # Delivered just before the walking, with an old time.
    old = (lying_message(walk, start - age_ns), start - 10 * MS)
    detector = Detector()
    found = feed(detector, [old, *messages], receiver=receiver)
    assert found == []
    if receiver:
        assert detector.dropped == {"too_old": 50}
    # The reference is the walker's posture: walking is upright.
    assert detector.calibrated


def test_lying_first_message_in_time_is_used(tmp_path: Path) -> None:
    # Not stale: the phone really was lying there, right before the walking.
    # The clock cannot know better; this pins what the calibration restart
    # does not change: an unbroken stream calibrates from its start.
    walk = synthetic.walking(20.0, seed=3)
    messages = recording(tmp_path, walk)
    start = int(walk.time_ns[0])
    first = (lying_message(walk, start - S), start - 10 * MS)
    detector = Detector()
    feed(detector, [first, *messages], receiver=True)
    assert detector.dropped == {}


# --- Defect 3: sparse timestamps made the work grow with the time span -------


def sparse_message(
    spacing_s: float, count: int = 320, *, pairs: bool = False
) -> Message:
    """About 93 KB of Android push, the samples ``spacing_s`` apart."""
    walk = synthetic.walking(20.0, seed=4)
    payload = []
    for index in range(count):
        offset = (
            (index // 2 * 2 * spacing_s + index % 2 * 0.02)
            if pairs
            else index * spacing_s
        )
        time_ns = int(walk.time_ns[500]) + int(offset * S)
        row = index % walk.acc.shape[0]
        payload.append(sample("totalacceleration", time_ns, tuple(walk.acc[row])))
        payload.append(sample("gyroscope", time_ns, tuple(walk.gyro[row])))
    return {"messageId": 9, "sessionId": "s", "deviceId": "d", "payload": payload}


@pytest.mark.parametrize("pairs", [False, True], ids=["single", "pairs"])
@pytest.mark.parametrize("spacing_s", [0.02, 0.09, 0.5, 0.99, 1.5, 30.0])
def test_sparse_message_work_is_bounded_by_samples(
    spacing_s: float, pairs: bool
) -> None:
    data = sparse_message(spacing_s, pairs=pairs)
    assert 85_000 < len(json.dumps(data)) < 110_000
    batch = parse_message(data)
    walk = synthetic.walking(10.0, seed=4)
    detector = Detector()
    for part in walk.batches(50):
        detector.process(part)
    before = detector.work
    assert detector.process(batch) == []
    work = detector.work - before
    assert work <= WORK_PER_SAMPLE * len(batch) + WORK_PER_MESSAGE
    # Before the fix the gait grid alone made 50 points per second spanned.
    span_s = (int(batch.time_ns[-1]) - int(batch.time_ns[0])) / S
    if spacing_s >= 0.5:
        assert work < 50 * span_s / 5


def test_sparse_message_is_bounded_by_the_receive_window() -> None:
    # With the receive time, a message spans at most EARLY_S + LATE_S.
    data = sparse_message(0.5, pairs=True)
    batch = parse_message(data)
    detector = Detector()
    received = int(batch.time_ns[0]) + 2 * S
    detector.process(batch, received_ns=received)
    assert detector.dropped["too_far_ahead"] > 250
    assert detector.work <= WORK_PER_SAMPLE * 20 + WORK_PER_MESSAGE


# --- The clock's rules ---------------------------------------------------------


def admit(
    clock: SampleClock, times: list[int], received_ns: int | None = None
) -> list[int]:
    array = np.array(times, dtype=np.int64)
    rows = np.arange(len(times), dtype=np.float64)[:, None]
    kept, kept_rows = clock.admit(array, rows, received_ns)
    assert kept_rows.shape == (kept.shape[0], 1)
    return kept.tolist()


T0 = synthetic.EPOCH_NS


def test_order_duplicates_and_jumps() -> None:
    clock = SampleClock()
    # The first sample waits for the next one to confirm it.
    assert admit(clock, [T0]) == []
    assert clock.pending
    assert admit(clock, [T0 + 20 * MS, T0 + 40 * MS]) == [
        T0,
        T0 + 20 * MS,
        T0 + 40 * MS,
    ]
    assert clock.last_ns == T0 + 40 * MS
    # A message delivered twice, and one late.
    assert admit(clock, [T0 + 20 * MS, T0 + 40 * MS]) == []
    assert clock.dropped == {"out_of_order": 1, "duplicate": 1}
    # A jump ahead is dropped when the old timeline goes on …
    assert admit(clock, [T0 + 60 * MS, T0 + 5 * S]) == [T0 + 60 * MS]
    assert admit(clock, [T0 + 80 * MS]) == [T0 + 80 * MS]
    assert clock.dropped["unconfirmed_jump"] == 1
    # … and used when the stream goes on from it (a pause in streaming),
    # also across messages.
    assert admit(clock, [T0 + 9 * S]) == []
    assert admit(clock, [T0 + 9 * S + 20 * MS]) == [T0 + 9 * S, T0 + 9 * S + 20 * MS]
    # Samples alone in time are all dropped.
    assert admit(clock, [T0 + 20 * S + i * S for i in range(5)]) == []
    assert clock.dropped["unconfirmed_jump"] == 5  # the fifth is still held
    assert clock.last_ns == T0 + 9 * S + 20 * MS


def test_batching_does_not_change_what_is_admitted() -> None:
    rng = np.random.default_rng(0)
    times = (T0 + np.cumsum(rng.choice([1, 20, 20, 20, 150, 2000], 400)) * MS).tolist()
    times[100] = MAX_TIME
    times[200] = times[150]
    reference = SampleClock()
    whole = admit(reference, times)
    for size in (1, 3, 50):
        clock = SampleClock()
        parts = [admit(clock, times[i : i + size]) for i in range(0, 400, size)]
        assert [t for part in parts for t in part] == whole
        assert clock.dropped == reference.dropped


def stream(clock: SampleClock, start_ns: int, skew_ns: int, count: int) -> list[int]:
    """``count`` one-second messages of 50 Hz, sent 150 ms after their last sample."""
    kept: list[int] = []
    for index in range(count):
        times = [start_ns + index * S + i * 20 * MS for i in range(50)]
        kept += admit(clock, times, times[-1] + DELAY_NS - skew_ns)
    return kept


def test_skewed_phone_clock_is_learnt() -> None:
    # The phone's clock is 8 s ahead of the receiver's: its first messages
    # look too far ahead, then the offset is learnt from them.
    clock = SampleClock()
    kept = stream(clock, T0, 8 * S, 10)
    assert clock.offset_ns is not None
    assert 7 * S < clock.offset_ns < 8 * S
    assert clock.dropped == {"too_far_ahead": 100}
    assert len(kept) == 400
    # An exact phone clock is used from the first message.
    clock = SampleClock()
    assert len(stream(clock, T0, 0, 3)) == 150
    assert clock.dropped == {}


def test_one_bad_message_never_moves_the_offset() -> None:
    clock = SampleClock()
    stream(clock, T0, 0, 5)
    offset = clock.offset_ns
    assert offset is not None
    received = T0 + 5 * S + 150 * MS
    bad = [T0 + 25 * S + i * 20 * MS for i in range(50)]  # 20 s ahead
    assert admit(clock, bad, received) == []
    assert clock.offset_ns == offset
    assert clock.last_ns == T0 + 4 * S + 980 * MS
    assert len(stream(clock, T0 + 5 * S, 0, 2)) == 100
    # The first messages of a session: one bad one is outvoted too.
    clock = SampleClock()
    assert admit(clock, bad, received) == []
    assert len(stream(clock, T0 + 5 * S, 0, 3)) == 150
    assert clock.offset_ns is not None
    assert abs(clock.offset_ns) < S


def test_too_old_and_reset() -> None:
    clock = SampleClock()
    assert admit(clock, [T0, T0 + 20 * MS], T0 + 6 * S) == []
    assert clock.dropped == {"too_old": 2}
    assert clock.last_ns is None
    assert admit(clock, [T0, T0 + 20 * MS], T0 + 3 * S) == [T0, T0 + 20 * MS]
    clock.reset()
    assert clock.dropped == {}
    assert clock.last_ns is None
    assert clock.offset_ns is None


def test_detector_gap_keeps_calibration_but_restarts_an_unfinished_one() -> None:
    walk = synthetic.walking(30.0, seed=5)
    detector = Detector()
    batches = walk.batches(50)
    detector.process(batches[0])
    detector.process(batches[1])
    assert not detector.calibrated
    # Two seconds of walking, then a minute without samples: the
    # calibration starts again (10 s from the resumed stream) …
    for batch in batches[2:]:
        shifted = type(batch)(
            time_ns=batch.time_ns + 60 * S,
            acc=batch.acc,
            gyro=batch.gyro,
            gravity=None,
            session_id="s",
            device_id="d",
            message_id=0,
        )
        assert detector.process(shifted) == []
        if shifted.time_ns[-1] < walk.time_ns[100] + 60 * S + 9 * S:
            assert not detector.calibrated
    # … and once complete, it survives gaps.
    assert detector.calibrated
