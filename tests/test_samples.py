"""Parsing Sensor Logger push messages into aligned sample batches."""

from __future__ import annotations

import copy
import json
import math
import pickle
import random
from typing import Any

import numpy as np
import pytest

from custom_components.retro_walk.detection import (
    MAX_SAMPLES,
    MessageError,
    SampleBatch,
    parse_message,
    samples,
)
from custom_components.retro_walk.detection.samples import REASONS

T0 = 1_714_550_400_000_000_000
MS = 1_000_000


def item(name: str, time: int, x: Any, y: Any = 0.0, z: Any = 0.0) -> dict[str, Any]:
    return {"name": name, "time": time, "values": {"x": x, "y": y, "z": z}}


def message(payload: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    return {
        "messageId": 3,
        "sessionId": "session-1",
        "deviceId": "phone-1",
        "payload": payload,
    } | overrides


def android(n: int = 5) -> dict[str, Any]:
    payload = [
        item("totalacceleration", T0 + i * 20 * MS, 0.1 * i, 9.8, 0.2) for i in range(n)
    ]
    payload += [
        item("gyroscope", T0 + i * 20 * MS + 3 * MS, 0.01 * i, 0.0, 0.5)
        for i in range(n)
    ]
    payload.append(
        {
            "name": "battery",
            "time": T0,
            "values": {"batteryLevel": 0.5, "batteryState": "charging"},
        }
    )
    payload.append(
        {
            "name": "location",
            "time": T0,
            "values": {"latitude": 40.4, "longitude": -3.7},
        }
    )
    return message(payload)


def test_android_style() -> None:
    batch = parse_message(android())
    assert isinstance(batch, SampleBatch)
    assert len(batch) == 5
    assert batch.time_ns.dtype == np.int64
    assert batch.acc.shape == (5, 3)
    assert batch.acc.dtype == np.float64
    np.testing.assert_allclose(batch.acc[:, 0], [0.0, 0.1, 0.2, 0.3, 0.4])
    assert batch.gravity is None
    assert (batch.session_id, batch.device_id, batch.message_id) == (
        "session-1",
        "phone-1",
        3,
    )
    # Gyroscope samples come 3 ms after each acceleration sample: every
    # acceleration sample takes the latest gyro sample at or before it, and
    # the first one (before any gyro sample) takes the first.
    np.testing.assert_allclose(batch.gyro[:, 0], [0.0, 0.0, 0.01, 0.02, 0.03])


def test_ios_style_sums_accelerometer_and_gravity() -> None:
    times = [T0 + i * 10 * MS for i in range(4)]
    payload = [
        item("accelerometer", t, 1.0 + i, 0.0, -0.5) for i, t in enumerate(times)
    ]
    payload += [item("gravity", t, 0.0, 0.0, -9.8) for t in times]
    payload += [item("gyroscope", t, 0.0, 0.2 * i, 0.0) for i, t in enumerate(times)]
    batch = parse_message(message(payload))
    np.testing.assert_allclose(batch.acc[:, 0], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(batch.acc[:, 2], [-10.3] * 4)
    assert batch.gravity is not None
    np.testing.assert_allclose(batch.gravity[:, 2], [-9.8] * 4)
    np.testing.assert_allclose(batch.gyro[:, 1], [0.0, 0.2, 0.4, 0.6])


def test_total_acceleration_wins_over_accelerometer() -> None:
    payload = [
        item("totalacceleration", T0, 1.0, 2.0, 3.0),
        item("accelerometer", T0, 100.0),
        item("gravity", T0, 0.0, 9.8, 0.0),
    ]
    batch = parse_message(message(payload))
    np.testing.assert_allclose(batch.acc, [[1.0, 2.0, 3.0]])
    assert batch.gravity is not None
    np.testing.assert_allclose(batch.gravity, [[0.0, 9.8, 0.0]])
    np.testing.assert_allclose(batch.gyro, [[0.0, 0.0, 0.0]])


def test_sorted_and_deduplicated() -> None:
    payload = [
        item("totalacceleration", T0 + 40 * MS, 3.0),
        item("totalacceleration", T0, 1.0),
        item("totalacceleration", T0 + 20 * MS, 2.0),
        item("totalacceleration", T0 + 20 * MS, 99.0),
        item("gyroscope", T0 + 30 * MS, 7.0),
        item("gyroscope", T0 + 10 * MS, 5.0),
    ]
    batch = parse_message(message(payload))
    assert batch.time_ns.tolist() == [T0, T0 + 20 * MS, T0 + 40 * MS]
    assert batch.acc[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert batch.gyro[:, 0].tolist() == [5.0, 5.0, 7.0]


def test_integers_and_extra_value_keys_are_fine() -> None:
    payload = [
        {
            "name": "totalacceleration",
            "time": T0,
            "values": {"x": 0, "y": 9, "z": 1, "accuracy": 3},
        }
    ]
    batch = parse_message(message(payload, messageId=0))
    np.testing.assert_allclose(batch.acc, [[0.0, 9.0, 1.0]])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "not_an_object"),
        ("text", "not_an_object"),
        (None, "not_an_object"),
        (message([]) | {"messageId": None}, "wrong_type"),
        ({"sessionId": "s", "deviceId": "d", "payload": []}, "missing_field"),
        ({"messageId": 1, "deviceId": "d", "payload": []}, "missing_field"),
        ({"messageId": 1, "sessionId": "s", "payload": []}, "missing_field"),
        ({"messageId": 1, "sessionId": "s", "deviceId": "d"}, "missing_field"),
        (message([]), "no_motion"),
        (message([item("gyroscope", T0, 1.0)]), "no_motion"),
        (message([item("accelerometer", T0, 1.0)]), "no_motion"),
        (message([item("gravity", T0, 1.0)]), "no_motion"),
        (message([item("location", T0, 1.0)]), "no_motion"),
        (message([], messageId=True), "wrong_type"),
        (message([], messageId=1.0), "wrong_type"),
        (message([], messageId="1"), "wrong_type"),
        (message([], messageId=-1), "bad_values"),
        (message([], sessionId=5), "wrong_type"),
        (message([], deviceId=None), "wrong_type"),
        (message([], sessionId=""), "bad_values"),
        (message({}), "wrong_type"),
        (message("payload"), "wrong_type"),
        (message(["item"]), "wrong_type"),
        (message([{"time": T0, "values": {}}]), "missing_field"),
        (message([{"name": 3, "time": T0, "values": {}}]), "wrong_type"),
        (message([{"name": "gyroscope", "values": {}}]), "missing_field"),
        (message([{"name": "gyroscope", "time": T0}]), "missing_field"),
        (
            message([{"name": "gyroscope", "time": float(T0), "values": {}}]),
            "wrong_type",
        ),
        (message([{"name": "gyroscope", "time": str(T0), "values": {}}]), "wrong_type"),
        (message([{"name": "gyroscope", "time": True, "values": {}}]), "wrong_type"),
        (
            message([{"name": "gyroscope", "time": T0, "values": [1, 2, 3]}]),
            "wrong_type",
        ),
        (
            message([{"name": "gyroscope", "time": T0, "values": {"x": 1, "y": 2}}]),
            "missing_field",
        ),
        (message([item("totalacceleration", T0, x=True)]), "wrong_type"),
        (message([item("totalacceleration", T0, "1.5")]), "wrong_type"),
        (message([item("totalacceleration", T0, None)]), "wrong_type"),
        (message([item("totalacceleration", T0, [1.0])]), "wrong_type"),
        (message([item("totalacceleration", T0, math.nan)]), "bad_values"),
        (message([item("totalacceleration", T0, math.inf)]), "bad_values"),
        (message([item("totalacceleration", T0, 1e6)]), "bad_values"),
        (message([item("totalacceleration", T0, 10**400)]), "bad_values"),
        (
            message([item("totalacceleration", T0, 1.0), item("gyroscope", T0, 500.0)]),
            "bad_values",
        ),
        (message([item("totalacceleration", -1, 1.0)]), "bad_values"),
        (message([item("totalacceleration", 2**63, 1.0)]), "bad_values"),
        (
            message(
                [item("totalacceleration", T0 + i, 1.0) for i in range(MAX_SAMPLES + 1)]
            ),
            "too_many_samples",
        ),
    ],
)
def test_rejections(data: object, reason: str) -> None:
    with pytest.raises(MessageError) as caught:
        parse_message(data)
    assert caught.value.reason == reason
    assert caught.value.reason in REASONS
    assert str(caught.value).startswith(reason)


def test_max_samples_is_accepted() -> None:
    payload = [item("totalacceleration", T0 + i * MS, 1.0) for i in range(MAX_SAMPLES)]
    assert len(parse_message(message(payload))) == MAX_SAMPLES


def test_message_error_pickles() -> None:
    error = MessageError("bad_values", "x not finite")
    copy_ = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert isinstance(copy_, MessageError)
    assert isinstance(copy_, ValueError)
    assert (copy_.reason, str(copy_)) == (error.reason, str(error))


def test_unexpected_failures_become_message_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(data: object) -> SampleBatch:
        raise RuntimeError("bug")

    monkeypatch.setattr(samples, "_parse", broken)
    with pytest.raises(MessageError, match="bad_values") as caught:
        parse_message(android())
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_decoded_json_with_nan_literal() -> None:
    text = json.dumps(message([item("totalacceleration", T0, 1.0)])).replace(
        "1.0", "NaN"
    )
    with pytest.raises(MessageError, match="bad_values"):
        parse_message(json.loads(text))


# --- fuzzing: nothing but MessageError, whatever arrives ---------------------

_LEAVES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    T0,
    2**64,
    -(2**70),
    0.5,
    -1e308,
    1e308,
    math.nan,
    math.inf,
    "",
    "x",
    "totalacceleration",
    "gyroscope",
    "accelerometer",
    "gravity",
    [],
    {},
]
_KEYS = [
    "messageId",
    "sessionId",
    "deviceId",
    "payload",
    "name",
    "time",
    "values",
    "x",
    "y",
    "z",
    "q",
]


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.4:
        return copy.deepcopy(rng.choice(_LEAVES))
    if roll < 0.7:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        rng.choice(_KEYS): _random_json(rng, depth + 1)
        for _ in range(rng.randint(0, 5))
    }


def _mutate(rng: random.Random, value: Any) -> Any:
    """Replace one random node of a valid message with random JSON."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        value[key] = _mutate(rng, value[key])
        if rng.random() < 0.1:
            del value[key]
        return value
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        value[index] = _mutate(rng, value[index])
        return value
    return _random_json(rng)


def _check(data: Any) -> None:
    try:
        batch = parse_message(data)
    except MessageError as err:
        reason = err.reason
        assert reason in REASONS
    else:
        assert len(batch) >= 1
        assert batch.acc.shape == (len(batch), 3)
        assert np.isfinite(batch.acc).all()
        assert (np.diff(batch.time_ns) > 0).all()


def test_fuzz_random_json() -> None:
    rng = random.Random(1234)  # noqa: S311 - test data, not secrets
    for _ in range(3000):
        _check(_random_json(rng))


def test_fuzz_mutated_messages() -> None:
    rng = random.Random(4321)  # noqa: S311 - test data, not secrets
    base = android(6)
    for _ in range(3000):
        _check(_mutate(rng, copy.deepcopy(base)))
