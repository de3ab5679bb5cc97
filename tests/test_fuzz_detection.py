"""Property-based fuzzing of the parser and the detector (hypothesis).

Derandomised, with modest example counts: the same examples on every run.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np

from custom_components.retro_walk.detection import (
    Detector,
    MessageError,
    parse_message,
)
from custom_components.retro_walk.detection.samples import (
    MAX_ACCELERATION,
    MAX_ROTATION_RATE,
)

FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
T0 = 1_714_550_400_000_000_000
MS = 1_000_000
S = 1000 * MS
MAX_TIME = 2**63 - 1
WORK_PER_SAMPLE = 30
WORK_PER_MESSAGE = 2000

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([MAX_TIME, MAX_TIME + 1, -1, 10**400])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=30,
)
names = st.sampled_from(
    ["totalacceleration", "accelerometer", "gravity", "gyroscope", "battery", ""]
)


@st.composite
def near_valid(draw: st.DrawFn) -> Any:
    """A Sensor Logger message with some fields replaced by anything."""
    payload: list[Any] = [
        {
            "name": draw(names),
            "time": T0 + draw(st.integers(0, 2000)) * MS,
            "values": {
                "x": draw(st.floats(-20, 20)),
                "y": draw(st.floats(-20, 20)),
                "z": draw(st.floats(-20, 20)),
            },
        }
        for _ in range(draw(st.integers(0, 8)))
    ]
    message: dict[str, Any] = {
        "messageId": 1,
        "sessionId": "s",
        "deviceId": "d",
        "payload": payload,
    }
    for _ in range(draw(st.integers(0, 3))):
        target: Any = message
        if payload and draw(st.booleans()):
            target = draw(st.sampled_from(payload))
            if draw(st.booleans()):
                target = target["values"]
        key = draw(st.sampled_from([*target, "extra"]))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    return message


@FUZZ
@given(st.one_of(json_values, near_valid()))
def test_parse_message_raises_only_message_error(data: Any) -> None:
    try:
        batch = parse_message(data)
    except MessageError as err:
        reason = err.reason
    else:
        reason = ""
    if reason:
        return
    assert np.isfinite(batch.acc).all()
    assert np.isfinite(batch.gyro).all()
    assert (np.diff(batch.time_ns) > 0).all()


# --- the detector on any sample sequence ----------------------------------------

times = st.one_of(
    st.integers(1, 40).map(lambda ms: ("step", ms * MS)),
    st.just(("step", 0)),  # a duplicate
    st.integers(1, 3000).map(lambda ms: ("step", -ms * MS)),  # back in time
    st.sampled_from([150 * MS, 900 * MS, 1500 * MS, 60 * S]).map(
        lambda ns: ("step", ns)
    ),  # holes and gaps
    st.sampled_from([60 * S, 10 * 365 * 24 * 3600 * S]).map(lambda ns: ("one", ns)),
    st.sampled_from([0, MAX_TIME, T0 - 3600 * S]).map(lambda ns: ("at", ns)),
)
axis_acc = st.one_of(
    st.floats(-MAX_ACCELERATION, MAX_ACCELERATION),
    st.sampled_from([0.0, MAX_ACCELERATION, -MAX_ACCELERATION, 9.80665]),
)
axis_gyro = st.one_of(
    st.floats(-MAX_ROTATION_RATE, MAX_ROTATION_RATE),
    st.sampled_from([0.0, MAX_ROTATION_RATE, -MAX_ROTATION_RATE]),
)
samples = st.tuples(
    times,
    st.tuples(axis_acc, axis_acc, axis_acc),
    st.tuples(axis_gyro, axis_gyro, axis_gyro),
)
messages = st.lists(
    st.tuples(
        st.lists(samples, min_size=1, max_size=40),
        st.sampled_from([None, 0, -3 * S, 200 * MS, 8 * S]),  # receive time
    ),
    min_size=1,
    max_size=12,
)


def walking_like(count: int) -> list[Any]:
    """A stretch of plausible 50 Hz samples, so that state exists to break."""
    rng = np.random.default_rng(count)
    return [
        (
            ("step", 20 * MS),
            tuple(float(v) for v in rng.normal([0.0, 9.8, 0.0], 2.0)),
            tuple(float(v) for v in rng.normal(0.0, 0.5, 3)),
        )
        for _ in range(count)
    ]


def finite_state(detector: Detector) -> None:
    """Nothing the detector keeps is NaN or +inf.

    -inf is the "never" of event times (``_fired``, the rules' last-true
    times, the gait quiet period); NaN is "no baseline yet" before the gait
    baseline exists and the gait tracker's "no previous sample".
    """
    stream = detector._stream
    if stream is not None:
        arrays = (stream.gravity, stream.tail)
        assert all(np.isfinite(a).all() for a in arrays)
        numbers = [stream.start_s, stream.last_s, stream.speed, *stream.runs.values()]
        assert all(math.isfinite(v) for v in numbers)
        assert all(v < math.inf and not math.isnan(v) for v in stream.last.values())
    assert np.isfinite(detector._ref_sum).all()
    assert math.isfinite(detector._ref_norm_sum)
    assert math.isfinite(detector._calibration_start_s)
    assert all(v < math.inf for v in detector._fired.values())
    assert not math.isnan(detector._gait_quiet_until)
    assert np.isfinite(detector._gait._grid).all()
    assert math.isfinite(detector._gait._next_s)
    assert math.isfinite(detector._gait._last_s)
    if detector.baseline_ready:
        assert math.isfinite(detector._baseline_regularity)
        assert math.isfinite(detector._baseline_cv)


@settings(FUZZ, max_examples=120)
@given(messages, st.integers(0, 600))
def test_detector_on_any_samples(plan: list[Any], lead: int) -> None:
    detector = Detector()
    now = T0
    first = [(walking_like(lead), 0)] if lead else []
    for index, (items, delay) in enumerate(first + plan):
        payload = []
        for (kind, value), acc, gyro in items:
            if kind == "step":
                now = max(0, min(MAX_TIME, now + value))
                time = now
            elif kind == "one":
                time = min(MAX_TIME, now + value)
            else:
                time = value
            payload.append(
                {
                    "name": "totalacceleration",
                    "time": time,
                    "values": dict(zip("xyz", acc, strict=True)),
                }
            )
            payload.append(
                {
                    "name": "gyroscope",
                    "time": time,
                    "values": dict(zip("xyz", gyro, strict=True)),
                }
            )
        batch = parse_message(
            {"messageId": index, "sessionId": "s", "deviceId": "d", "payload": payload}
        )
        before = detector.work
        found = detector.process(
            batch, received_ns=None if delay is None else now + delay
        )
        assert (
            detector.work - before
            <= WORK_PER_SAMPLE * (len(batch) + 1) + WORK_PER_MESSAGE
        )
        for detection in found:
            assert all(math.isfinite(v) for v in detection.features.values())
        assert [d.time_ns for d in found] == sorted(d.time_ns for d in found)
        finite_state(detector)
    if detector.last_time_ns is not None:
        assert 0 <= detector.last_time_ns <= MAX_TIME
