"""Vectorised signal helpers of the detector, with state carried across batches.

Every helper works on the arrays of one batch and takes the state the
previous batch left (a run still open, the last time a flag was set, a filter
state), so splitting a stream into batches does not change any result.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]
type BoolArray = npt.NDArray[np.bool_]

STANDARD_GRAVITY: Final = 9.80665
"""m/s², as Sensor Logger assumes."""
NEG_INF: Final = -math.inf
_LEAK_CHUNK: Final = 256
_MAX_PULL: Final = 0.5
"""Largest per-sample pull of ``Turns.filter`` (0.5^256 ≈ 1e-77)."""


def row_norm(values: FloatArray) -> FloatArray:
    """Euclidean norm of each row of an (n, 3) array."""
    norms: FloatArray = np.sqrt(np.einsum("ij,ij->i", values, values))
    return norms


def held_for(
    cond: BoolArray, ts: FloatArray, last_false: float
) -> tuple[FloatArray, float]:
    """How long ``cond`` has held at each sample (-inf where it does not).

    The duration is the time since the last sample where ``cond`` was false
    (``last_false`` for a run that started before this batch, or the sample
    before it), so n true samples at a period p hold n·p, as a sampled
    signal's duration is usually counted. Returns the durations and the
    ``last_false`` to pass with the next batch.
    """
    index = np.arange(cond.shape[0])
    previous = np.maximum.accumulate(np.where(cond, -1, index))
    since = np.where(previous >= 0, ts[np.maximum(previous, 0)], last_false)
    held = np.where(cond, ts - since, NEG_INF)
    return held, float(since[-1] if cond[-1] else ts[-1])


def last_true(flag: BoolArray, ts: FloatArray, carry: float) -> FloatArray:
    """The latest time at or before each sample when ``flag`` was true."""
    values = np.where(flag, ts, NEG_INF)
    values[0] = max(values[0], carry)
    return np.maximum.accumulate(values)


def at_run_start(
    cond: BoolArray, values: FloatArray, carry: float
) -> tuple[FloatArray, float]:
    """Per sample of a run of ``cond``: ``values`` at the run's first sample.

    ``carry`` is that value for a run still open from the previous batch (NaN
    when none is). NaN outside runs. Returns the values and the ``carry`` to
    pass with the next batch.
    """
    index = np.arange(cond.shape[0])
    first = cond.copy()
    first[1:] &= ~cond[:-1]
    if not math.isnan(carry):
        first[0] = False  # the run goes on from the previous batch
    start = np.maximum.accumulate(np.where(first, index, -1))
    result = np.where(start >= 0, values[np.maximum(start, 0)], carry)
    result = np.where(cond, result, math.nan)
    return result, float(result[-1])


def rising(cond: BoolArray, previous: bool) -> BoolArray:  # noqa: FBT001
    """Samples where ``cond`` becomes true (``previous``: its last value)."""
    before = np.empty_like(cond)
    before[0] = previous
    before[1:] = cond[:-1]
    return cond & ~before


def _rotations(gyro: FloatArray, dt: FloatArray) -> FloatArray:
    """Matrices turning a world-fixed vector's device coordinates over ``dt``.

    A world-fixed vector v obeys dv/dt = -ω x v in the device frame, so each
    sample rotates it by θ = |ω| dt about -ω (Rodrigues' formula with the
    rotation vector r = ω dt): R = cos θ I + (1 - cos θ)/θ² r rᵀ - sin θ/θ [r]x.
    """
    r = gyro * dt[:, None]
    angle2 = np.einsum("ij,ij->i", r, r)
    angle = np.sqrt(angle2)
    small = angle < 1e-6  # noqa: PLR2004 - series limits below
    safe = np.where(small, 1.0, angle)
    cos = np.cos(angle)
    outer = np.where(small, 0.5, (1.0 - cos) / (safe * safe))
    sine = np.where(small, 1.0, np.sin(angle) / safe)
    rx, ry, rz = r.T
    ax, ay, az = outer * rx, outer * ry, outer * rz
    sx, sy, sz = sine * rx, sine * ry, sine * rz
    matrices: FloatArray = np.stack(
        (
            cos + ax * rx,
            ax * ry + sz,
            ax * rz - sy,
            ax * ry - sz,
            cos + ay * ry,
            ay * rz + sx,
            ax * rz + sy,
            ay * rz - sx,
            cos + az * rz,
        ),
        axis=1,
    ).reshape(-1, 3, 3)
    return matrices


class Turns:
    """The gyroscope's rotations over a batch, composed once.

    ``filter`` runs g_k = (1-alpha_k) R_k g_{k-1} + alpha_k a_k, k = 0 … n-1,
    where R_k turns a world-fixed vector by the gyroscope over dt_k (alpha_k
    pulls the estimate towards a_k). With Q_k = R_k … R_0 (an inclusive
    prefix scan, log₂ n numpy steps) and c_k = (1-alpha_0) … (1-alpha_k), the
    recursion has the closed form g_k = c_k Q_k (g_{-1} + Σ_{j≤k} alpha_j /
    c_j Q_jᵀ a_j): the rotations, the costly part, are composed here once
    and shared by every filter over the same samples, and each filter is a
    few vector operations. c restarts every ``_LEAK_CHUNK`` samples so that
    1/c_j stays far from overflow.
    """

    def __init__(self, gyro: FloatArray, dt: FloatArray) -> None:
        """Compose the rotations of one batch."""
        products = _rotations(gyro, dt)
        n = products.shape[0]
        step = 1
        while step < n:
            combined = products.copy()
            np.matmul(products[step:], products[: n - step], out=combined[step:])
            products = combined
            step *= 2
        self._products = products
        """Q_k = R_k … R_0 for every k (rotations: Q_kᵀ turns back)."""

    def filter(self, acc: FloatArray, alpha: FloatArray, g0: FloatArray) -> FloatArray:
        """g_k for every sample (``g0``: the estimate before the batch).

        A pull above ``_MAX_PULL`` counts as ``_MAX_PULL`` (the detector's
        stay below 0.4: its time steps are capped well under its time
        constants), so that c_j stays representable over a chunk.
        """
        products = self._products
        alpha = np.minimum(alpha, _MAX_PULL)
        keep = 1.0 - alpha
        # Q_jᵀ a_j: each measurement turned back to the batch's start.
        back = np.einsum("kji,kj->ki", products, acc)
        out = np.empty_like(acc)
        start = g0
        for begin in range(0, acc.shape[0], _LEAK_CHUNK):
            end = begin + _LEAK_CHUNK
            scale = np.cumprod(keep[begin:end])
            pulled = start + np.cumsum(
                (alpha[begin:end] / scale)[:, None] * back[begin:end], axis=0
            )
            chunk = products[begin:end] @ pulled[:, :, None]
            out[begin:end] = scale[:, None] * chunk[:, :, 0]
            if end < acc.shape[0]:
                # The next chunk starts from this one's last estimate, turned back.
                start = products[end - 1].T @ out[end - 1]
        return out


def complementary(
    acc: FloatArray, gyro: FloatArray, dt: FloatArray, alpha: FloatArray, g0: FloatArray
) -> FloatArray:
    """Gravity estimates g_k = (1-alpha_k) R_k g_{k-1} + alpha_k a_k (``Turns``)."""
    return Turns(gyro, dt).filter(acc, alpha, g0)


def leaky_integral(
    values: FloatArray, dt: FloatArray, tau: float, start: float
) -> FloatArray:
    """v_k = v_{k-1} e^{-dt_k/τ} + values_k dt_k for every k (v_{-1} = start).

    Closed form per chunk: v_k = C_k (v_{-1} + Σ_{j≤k} b_j / C_j) with
    C_k = e^{-(T_k)/τ}; chunks keep C within a safe floating-point range.
    """
    out = np.empty_like(values)
    state = start
    for begin in range(0, values.shape[0], _LEAK_CHUNK):
        end = begin + _LEAK_CHUNK
        elapsed = np.cumsum(dt[begin:end])
        decay = np.exp(-elapsed / tau)
        chunk = decay * (state + np.cumsum(values[begin:end] * dt[begin:end] / decay))
        out[begin:end] = chunk
        state = float(chunk[-1])
    return out


def smoothed(
    values: FloatArray,
    dt: FloatArray,
    tau: float | FloatArray,
    start: float | FloatArray,
) -> FloatArray:
    """Exponential moving average: v_k = a_k v_{k-1} + (1 - a_k) x_k, a_k = e^{-dt_k/τ}.

    ``start`` is v_{-1}. Closed form per chunk, as ``leaky_integral``: with
    C_k = e^{-T_k/τ}, v_k = C_k (v_{-1} + Σ_{j≤k} (1 - a_j) x_j / C_j).
    ``values`` may also be (n, k), with ``tau`` and ``start`` per column: k
    averages over the same samples in one pass (numpy's per-call cost, not
    the arithmetic, is what a short batch pays for).
    """
    step = dt if values.ndim == 1 else dt[:, None]
    out = np.empty_like(values)
    state = start
    gain = -np.expm1(-step / tau)
    for begin in range(0, values.shape[0], _LEAK_CHUNK):
        end = begin + _LEAK_CHUNK
        decay = np.exp(-np.cumsum(step[begin:end], axis=0) / tau)
        chunk = decay * (
            state + np.cumsum(values[begin:end] * gain[begin:end] / decay, axis=0)
        )
        out[begin:end] = chunk
        state = chunk[-1]
    return out
