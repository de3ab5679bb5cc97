"""Write recordings as Sensor Logger push messages, one JSON message per line.

Two client styles, as the integration receives them:

- ``android``: ``totalacceleration`` (with gravity) and ``gyroscope``, each
  sensor on its own clock (the gyroscope a few ms off the accelerometer).
- ``ios``: ``accelerometer`` (user acceleration, without gravity), ``gravity``
  and ``gyroscope`` sharing CoreMotion's timestamps; with ``negate`` the
  accelerometer and gravity carry iOS's default sign (the opposite of
  Android's, "Standardise Units & Frames" off).

Messages hold the samples of one batch period; now and then a ``location``
or ``battery`` item rides along, as in real pushes, and must be ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ClientStyle:
    """How a recording is written."""

    platform: str  # "android" | "ios"
    negate: bool = False  # iOS default sign convention
    batch_s: float = 1.0
    gyro_offset_ns: int = 0  # Android: gyroscope clock offset
    with_gyro: bool = True


def gravity_estimate(acc: FloatArray, rate_hz: float, tau_s: float = 0.5) -> FloatArray:
    """A causal low-pass of the acceleration: what a client calls gravity."""
    alpha = 1.0 / (1.0 + tau_s * rate_hz)
    length = int(10 * tau_s * rate_hz) + 1  # the kernel's tail beyond is < e^-10
    kernel = alpha * (1.0 - alpha) ** np.arange(length)
    kernel /= kernel.sum()
    start = acc[: min(50, acc.shape[0])].mean(axis=0)
    padded = np.concatenate((np.repeat(start[None, :], length, axis=0), acc))
    return np.stack(
        [
            np.convolve(padded[:, axis], kernel, mode="full")[
                length : length + acc.shape[0]
            ]
            for axis in range(3)
        ],
        axis=1,
    )


def _items(name: str, times: IntArray, values: FloatArray) -> list[tuple[int, str]]:
    return [
        (
            int(t),
            (
                f'{{"name":"{name}","time":{int(t)},'
                f'"values":{{"x":{x:.6g},"y":{y:.6g},"z":{z:.6g}}}}}'
            ),
        )
        for t, (x, y, z) in zip(times.tolist(), values.tolist(), strict=True)
    ]


def write_recording(
    path: Path,
    time_ns: IntArray,
    acc: FloatArray,
    gyro: FloatArray | None,
    style: ClientStyle,
    session_id: str,
    rate_hz: float = 50.0,
) -> int:
    """Write the recording; returns the number of messages."""
    lines = messages(time_ns, acc, gyro, style, session_id, rate_hz)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def messages(
    time_ns: IntArray,
    acc: FloatArray,
    gyro: FloatArray | None,
    style: ClientStyle,
    session_id: str,
    rate_hz: float = 50.0,
) -> list[str]:
    """The recording as push messages, one JSON text per message, in order."""
    items: list[tuple[int, str]] = []
    if style.platform == "android":
        items += _items("totalacceleration", time_ns, acc)
        gyro_times = time_ns + style.gyro_offset_ns
    else:
        gravity = gravity_estimate(acc, rate_hz)
        sign = -1.0 if style.negate else 1.0
        items += _items("accelerometer", time_ns, sign * (acc - gravity))
        items += _items("gravity", time_ns, sign * gravity)
        gyro_times = time_ns
    if gyro is not None and style.with_gyro:
        items += _items("gyroscope", gyro_times, gyro)
    items.sort(key=lambda item: item[0])
    start = int(time_ns[0])
    period = int(style.batch_s * 1e9)
    lines: list[str] = []
    batch: list[str] = []
    current = 0
    for time, text in items:
        index = (time - start) // period
        if index != current and batch:
            lines.append(_message(len(lines), session_id, batch))
            batch = []
        current = index
        batch.append(text)
        if len(lines) % 5 == 4 and len(batch) == 1:  # noqa: PLR2004
            batch.append(
                f'{{"name":"battery","time":{time},'
                f'"values":{{"batteryLevel":0.8,"batteryState":"unplugged"}}}}'
            )
    if batch:
        lines.append(_message(len(lines), session_id, batch))
    return lines


def _message(message_id: int, session_id: str, items: list[str]) -> str:
    return (
        f'{{"messageId":{message_id},"sessionId":"{session_id}",'
        f'"deviceId":"evaluation","payload":[{",".join(items)}]}}'
    )
