"""Synthetic walking for unit tests and the cost benchmark (no downloads).

Walking-like samples of a phone on the lower back: step-frequency vertical
oscillation with harmonics, half-frequency sway, small rotations and noise,
with the device axes turned away from the vertical so that nothing depends
on a particular phone orientation. Events from ``events`` can be injected.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import numpy.typing as npt

from custom_components.retro_walk.detection import SampleBatch

from . import events

G = 9.80665
EPOCH_NS = 1_714_550_400 * 1_000_000_000

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Motion:
    """Samples of one synthetic recording."""

    time_ns: IntArray
    acc: FloatArray  # m/s², Android sign convention
    gyro: FloatArray  # rad/s
    onset_ns: int = -1  # the injected event's onset, if any

    def batches(self, size: int) -> list[SampleBatch]:
        """The samples as consecutive batches of ``size``."""
        return [
            SampleBatch(
                time_ns=self.time_ns[i : i + size],
                acc=self.acc[i : i + size],
                gyro=self.gyro[i : i + size],
                gravity=None,
                session_id="synthetic",
                device_id="synthetic",
                message_id=i // size,
            )
            for i in range(0, self.time_ns.shape[0], size)
        ]


def _orientation(seed: int) -> FloatArray:
    """A fixed device orientation: rotation from body to device axes."""
    rng = np.random.default_rng(seed)
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = rng.uniform(0.3, 2.5)
    k = np.array(
        [[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]]
    )
    rotation: FloatArray = (
        np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)
    )
    return rotation


def walking(
    seconds: float, rate_hz: float = 50.0, seed: int = 0, cadence_hz: float = 1.8
) -> Motion:
    """Steady walking: body axes (forward, left, up) turned into device axes."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate_hz)
    t = np.arange(n) / rate_hz
    step = 2 * math.pi * cadence_hz * t
    body_acc = np.stack(
        [
            1.0 * np.sin(step + 0.4) + 0.3 * np.sin(2 * step),
            0.8 * np.sin(step / 2),
            G + 2.5 * np.sin(step) + 0.8 * np.sin(2 * step + 1.0),
        ],
        axis=1,
    ) + rng.normal(0.0, 0.25, (n, 3))
    body_gyro = np.stack(
        [
            0.35 * np.sin(step / 2 + 0.3),
            0.25 * np.sin(step + 0.8),
            0.5 * np.sin(step / 2),
        ],
        axis=1,
    ) + rng.normal(0.0, 0.03, (n, 3))
    rotation = _orientation(seed + 1000)
    period_ns = round(1e9 / rate_hz)
    jitter = rng.integers(-period_ns // 20, period_ns // 20 + 1, n)
    times = (EPOCH_NS + np.arange(n) * period_ns + jitter).astype(np.int64)
    return Motion(times, body_acc @ rotation.T, body_gyro @ rotation.T)


def with_event(
    kind: str,
    seed: int,
    rate_hz: float = 50.0,
    before_s: float = 20.0,
    after_s: float = 8.0,
) -> Motion:
    """Walking with one ``events`` event (``kind``) at ``before_s``."""
    walk = walking(before_s + after_s + 1.0, rate_hz=rate_hz, seed=seed)
    onset = int(before_s * rate_hz)
    t_s = (walk.time_ns - walk.time_ns[0]) / 1e9
    injected = events.inject(
        kind,
        np.random.default_rng(seed),
        t_s,
        walk.acc,
        walk.gyro,
        onset,
        after_s=after_s,
    )
    count = injected.acc.shape[0]
    return Motion(
        walk.time_ns[:count], injected.acc, injected.gyro, int(walk.time_ns[onset])
    )
