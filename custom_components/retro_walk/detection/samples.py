"""Sensor Logger push messages to aligned motion samples (no Home Assistant import).

A message (HTTP Push body or MQTT payload, already JSON-decoded) looks like::

    {"messageId": 7, "sessionId": "…", "deviceId": "…",
     "payload": [{"name": "accelerometer", "time": 1698501144401773000,
                  "values": {"x": 0.1, "y": -0.2, "z": 0.3}}, …]}

``time`` is UTC epoch nanoseconds. Two client styles are supported:

- **iOS**: ``accelerometer`` is the user acceleration *without* gravity and
  ``gravity`` is the gravity estimate, both in m/s²; total acceleration is
  their sum. With "Standardise Units & Frames" off (the default) iOS reports
  every axis with the opposite sign to Android; the detector only uses
  magnitudes and angles to the session's own upright reference, so it does not
  care which convention a client uses, as long as it keeps it for the session.
- **Android**: ``totalacceleration`` includes gravity (m/s²); ``accelerometer``
  (without gravity) and ``gravity`` may also be present.

When ``totalacceleration`` samples are present they are the acceleration
timeline; otherwise ``accelerometer`` + ``gravity`` are. ``gyroscope`` (rad/s)
is optional. Every other sensor name (location, magnetometer, battery, …) is
ignored, and so is every key of ``values`` other than ``x``, ``y``, ``z``.

Alignment: each sensor has its own timestamps. The acceleration timeline is
sorted by time and exact duplicate timestamps are dropped (the first sample
wins). For every acceleration sample, gravity and gyroscope take the value of
their latest sample at or before it; acceleration samples earlier than a
sensor's first sample take that first sample (zero-order hold with a
back-filled start). On iOS, the accelerometer's own timestamps are used for
the sum with gravity. A missing gyroscope gives zeros.

``parse_message`` never raises anything but ``MessageError``. Its ``reason``
is one of:

``not_an_object``
    The message is not a JSON object (dict).
``missing_field``
    A required key is absent: ``messageId``, ``sessionId``, ``deviceId``,
    ``payload``; ``name``, ``time`` or ``values`` of an item; ``x``, ``y`` or
    ``z`` of a motion sample.
``wrong_type``
    A field has the wrong JSON type: ids must be strings, ``messageId`` and
    ``time`` integers, axes numbers (``bool`` and numeric strings are not
    numbers), ``payload`` a list of objects, ``values`` an object.
``no_motion``
    No usable acceleration: neither ``totalacceleration`` samples nor
    ``accelerometer`` samples together with ``gravity`` samples.
``too_many_samples``
    ``payload`` has more than ``MAX_SAMPLES`` items.
``bad_values``
    A motion value is not finite or physically absurd (an acceleration axis
    beyond ``MAX_ACCELERATION`` m/s², a rotation rate beyond
    ``MAX_ROTATION_RATE`` rad/s), a ``time`` outside 0 … 2⁶³-1, a negative
    ``messageId`` or an empty id.

There is no "out of order" reason: order within a message is restored by
sorting, and the detector's sample clock (``clock.py``) drops samples that are
not newer than the last one it used (a message delivered twice or late) or
not plausible in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeIs

import numpy as np
import numpy.typing as npt

MAX_SAMPLES: Final = 5000
"""Most payload items one message may carry (100 Hz x 3 sensors x 15 s ≈ 4500)."""
MAX_ACCELERATION: Final = 2000.0
"""m/s² per axis (about 200 g): beyond any phone's range, so beyond is a bug."""
MAX_ROTATION_RATE: Final = 200.0
"""rad/s per axis: phone gyroscopes saturate near 35 rad/s."""
_MAX_TIME: Final = 2**63 - 1

REASONS: Final = (
    "not_an_object",
    "missing_field",
    "wrong_type",
    "no_motion",
    "too_many_samples",
    "bad_values",
)

_TOTAL: Final = "totalacceleration"
_LINEAR: Final = "accelerometer"
_GRAVITY: Final = "gravity"
_GYRO: Final = "gyroscope"
_MOTION_SENSORS: Final = frozenset({_TOTAL, _LINEAR, _GRAVITY, _GYRO})
_AXES: Final = ("x", "y", "z")

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]


class MessageError(ValueError):
    """A push message that cannot be used; ``reason`` is a short key."""

    def __init__(self, reason: str, detail: str) -> None:
        """Store the reason key next to the human-readable detail."""
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[MessageError], tuple[str, str]]:
        """Pickle with both arguments (for process pools and copies)."""
        return (type(self), (self.reason, self.detail))


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """Motion samples of one message, aligned on the acceleration timeline."""

    time_ns: IntArray
    """Epoch nanoseconds, int64, shape (n,), strictly ascending."""
    acc: FloatArray
    """Total acceleration including gravity, m/s², device frame, shape (n, 3)."""
    gyro: FloatArray
    """Rotation rate, rad/s, device frame, shape (n, 3); zeros when absent."""
    gravity: FloatArray | None
    """The client's gravity estimate, m/s², shape (n, 3), when it sent one."""
    session_id: str
    device_id: str
    message_id: int

    def __len__(self) -> int:
        """The number of samples."""
        return int(self.time_ns.shape[0])


def _is_number(value: object) -> TypeIs[float]:
    return type(value) is float or type(value) is int


def _require(data: dict[object, object], key: str) -> object:
    try:
        return data[key]
    except KeyError:
        raise MessageError("missing_field", f"no {key!r}") from None


def _ident(data: dict[object, object], key: str) -> str:
    value = _require(data, key)
    if type(value) is not str:
        raise MessageError("wrong_type", f"{key!r} must be a string")
    if not value:
        raise MessageError("bad_values", f"{key!r} is empty")
    return value


class _Series:
    """Times and x/y/z rows of one sensor, collected while scanning a payload."""

    __slots__ = ("rows", "times")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.rows: list[tuple[float, float, float]] = []


def _collect(payload: list[object]) -> dict[str, _Series]:
    series: dict[str, _Series] = {}
    for item in payload:
        if type(item) is not dict:
            raise MessageError("wrong_type", "payload items must be objects")
        name = _require(item, "name")
        if type(name) is not str:
            raise MessageError("wrong_type", "'name' must be a string")
        if name not in _MOTION_SENSORS:
            continue
        time = _require(item, "time")
        if type(time) is not int:
            raise MessageError("wrong_type", f"{name} 'time' must be an integer")
        if not 0 <= time <= _MAX_TIME:
            raise MessageError("bad_values", f"{name} 'time' out of range")
        values = _require(item, "values")
        if type(values) is not dict:
            raise MessageError("wrong_type", f"{name} 'values' must be an object")
        try:
            x, y, z = values["x"], values["y"], values["z"]
        except KeyError:
            raise MessageError("missing_field", f"{name} needs x, y and z") from None
        if not (_is_number(x) and _is_number(y) and _is_number(z)):
            raise MessageError("wrong_type", f"{name} x, y and z must be numbers")
        entry = series.get(name)
        if entry is None:
            entry = series[name] = _Series()
        entry.times.append(time)
        entry.rows.append((x, y, z))
    return series


def _arrays(series: _Series, name: str, limit: float) -> tuple[IntArray, FloatArray]:
    """Sorted, de-duplicated, validated arrays of one sensor."""
    try:
        values = np.array(series.rows, dtype=np.float64)
    except OverflowError:  # an int too large for a float
        raise MessageError("bad_values", f"{name} value out of range") from None
    if not np.isfinite(values).all():
        raise MessageError("bad_values", f"{name} value not finite")
    if np.abs(values).max() > limit:
        raise MessageError("bad_values", f"{name} value beyond {limit:g}")
    times = np.array(series.times, dtype=np.int64)
    if times.shape[0] > 1 and not (times[1:] > times[:-1]).all():
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
        keep = np.empty(times.shape[0], dtype=bool)
        keep[0] = True
        np.not_equal(times[1:], times[:-1], out=keep[1:])
        times, values = times[keep], values[keep]
    return times, values


def _align(
    times: IntArray, source_times: IntArray, source_values: FloatArray
) -> FloatArray:
    """``source`` held at its latest sample at or before each of ``times``."""
    index = np.searchsorted(source_times, times, side="right") - 1
    np.maximum(index, 0, out=index)
    return source_values[index]


def parse_message(data: object) -> SampleBatch:
    """Validate one decoded Sensor Logger message and align its motion samples."""
    try:
        return _parse(data)
    except MessageError:
        raise
    except Exception as err:
        raise MessageError("bad_values", f"unusable message ({err!r})") from err


def _parse(data: object) -> SampleBatch:
    if type(data) is not dict:
        raise MessageError("not_an_object", "the message must be a JSON object")
    message_id = _require(data, "messageId")
    if type(message_id) is not int:
        raise MessageError("wrong_type", "'messageId' must be an integer")
    if message_id < 0:
        raise MessageError("bad_values", "'messageId' is negative")
    session_id = _ident(data, "sessionId")
    device_id = _ident(data, "deviceId")
    payload = _require(data, "payload")
    if type(payload) is not list:
        raise MessageError("wrong_type", "'payload' must be a list")
    if len(payload) > MAX_SAMPLES:
        raise MessageError(
            "too_many_samples", f"{len(payload)} items, at most {MAX_SAMPLES}"
        )
    series = _collect(payload)
    arrays = {
        name: _arrays(
            entry, name, MAX_ROTATION_RATE if name == _GYRO else MAX_ACCELERATION
        )
        for name, entry in series.items()
    }
    gravity_series = arrays.get(_GRAVITY)
    if _TOTAL in arrays:
        times, acc = arrays[_TOTAL]
    elif _LINEAR in arrays and gravity_series is not None:
        times, linear = arrays[_LINEAR]
        acc = linear + _align(times, *gravity_series)
    else:
        raise MessageError(
            "no_motion", "no totalacceleration, nor accelerometer with gravity"
        )
    gravity = None if gravity_series is None else _align(times, *gravity_series)
    gyro_series = arrays.get(_GYRO)
    gyro = np.zeros_like(acc) if gyro_series is None else _align(times, *gyro_series)
    return SampleBatch(
        time_ns=times,
        acc=acc,
        gyro=gyro,
        gravity=gravity,
        session_id=session_id,
        device_id=device_id,
        message_id=message_id,
    )


__all__ = [
    "MAX_ACCELERATION",
    "MAX_ROTATION_RATE",
    "MAX_SAMPLES",
    "REASONS",
    "MessageError",
    "SampleBatch",
    "parse_message",
]
