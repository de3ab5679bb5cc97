"""Gait regularity over sliding windows, for the *unsteady* tier.

The vertical acceleration (along the gravity estimate, in g, gravity
removed) is resampled onto a fixed ``GRID_HZ`` grid by linear interpolation,
so irregular client timestamps and 50 or 100 Hz clients look the same. A hole
longer than ``max_hole_s`` between samples is not interpolated: the windows
start again after it, so the grid never holds more than a few points per
sample and the work (``GaitTracker.work``) is bounded by the samples, not by
the time they span. Every
``hop_s`` a ``window_s`` window is analysed:

- gait or not: the standard deviation must reach ``min_std_g``
  (standing still, or holding the rails without stepping, is not gait), and
  the stride regularity ``min_regularity`` (sitting down, standing up or
  getting into a car move the pelvis without a repeating stride);
- stride regularity: the unbiased autocorrelation at the stride lag, the
  first autocorrelation peak between 0.7 and 2.5 s within 0.1 of the highest
  there (Moe-Nilssen & Helbostad 2004: 1 for a perfectly repeating gait,
  lower as strides differ);
- stride-time variability: step peaks of the smoothed signal (at least 0.6
  step apart, the step being the first autocorrelation peak before the
  stride) give stride times (every second peak); their robust coefficient of
  variation is 1.4826 · MAD / median, so one missed or extra peak does not
  dominate.
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
import math
from typing import Final

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]

GRID_HZ: Final = 50.0
_STRIDE_MIN_S: Final = 0.7
_STRIDE_MAX_S: Final = 2.5
_MIN_STRIDES: Final = 4
_STEP_MIN_S: Final = 0.25
_STEP_MIN_CORRELATION: Final = 0.2
_PEAK_TOLERANCE: Final = 0.1
_MAD_TO_SD: Final = 1.4826
_MAX_HOLE_S: Final = 0.1
"""s: the grid interpolates across shorter holes only (``clock.CONTINUITY_S``)."""


@dataclass(frozen=True, slots=True)
class GaitWindow:
    """What one window says about the gait."""

    gait: bool
    regularity: float = math.nan
    stride_cv: float = math.nan
    stride_s: float = math.nan


def autocorrelation(x: FloatArray, max_lag: int) -> FloatArray:
    """Unbiased autocorrelation normalised to 1 at lag 0, lags 0 … max_lag."""
    n = x.shape[0]
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    raw = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    unbiased = raw / (n - np.arange(max_lag + 1))
    if unbiased[0] <= 0:
        return np.zeros(max_lag + 1)
    result: FloatArray = unbiased / unbiased[0]
    return result


def stride_cv(x: FloatArray, step_lag: int) -> float:
    """Robust coefficient of variation of stride times (nan: too few steps)."""
    smooth = np.convolve(x, np.ones(5) / 5.0, mode="same")
    inner = smooth[1:-1]
    floor = 0.5 * float(smooth.std())
    candidates = (
        np.flatnonzero((inner > smooth[:-2]) & (inner >= smooth[2:]) & (inner > floor))
        + 1
    )
    min_distance = max(1, int(0.6 * step_lag))
    peaks: list[int] = []
    for peak in map(int, candidates):
        if peaks and peak - peaks[-1] < min_distance:
            if smooth[peak] > smooth[peaks[-1]]:
                peaks[-1] = peak
            continue
        peaks.append(peak)
    if len(peaks) < _MIN_STRIDES + 2:
        return math.nan
    index = np.asarray(peaks)  # all within 1 … n-2: local maxima of ``inner``
    left = smooth[index - 1]
    mid = smooth[index]
    right = smooth[index + 1]
    # Parabolic interpolation places each peak between grid points.
    curvature = left - 2.0 * mid + right
    concave = curvature < 0
    offset = np.where(
        concave, 0.5 * (left - right) / np.where(concave, curvature, -1.0), 0.0
    )
    times = index + offset
    strides = times[2:] - times[:-2]
    median = float(np.median(strides))  # > 0: peaks are at least a step apart
    return _MAD_TO_SD * float(np.median(np.abs(strides - median))) / median


def analyse(x: FloatArray, min_std_g: float, min_regularity: float = 0.0) -> GaitWindow:
    """Gait features of one window of vertical acceleration (g)."""
    centred = x - x.mean()
    if float(centred.std()) < min_std_g:
        return GaitWindow(gait=False)
    lag_min = round(_STRIDE_MIN_S * GRID_HZ)
    lag_max = min(round(_STRIDE_MAX_S * GRID_HZ), x.shape[0] // 2)
    corr = autocorrelation(centred, lag_max)
    stride_lag = _first_peak_near_max(corr, lag_min, lag_max)
    regularity = float(corr[stride_lag])
    if regularity < min_regularity:
        return GaitWindow(gait=False)
    # The step: the first autocorrelation peak before the stride. A gait so
    # symmetric that the stride peak found is a step has none: then the
    # stride lag is the step period.
    step_min = round(_STEP_MIN_S * GRID_HZ)
    steps = [
        lag
        for lag in _local_maxima(corr, step_min, stride_lag - 1)
        if corr[lag] >= _STEP_MIN_CORRELATION
    ]
    step_lag = steps[0] if steps else stride_lag
    return GaitWindow(
        gait=True,
        regularity=regularity,
        stride_cv=stride_cv(centred, step_lag),
        stride_s=stride_lag / GRID_HZ,
    )


def _local_maxima(corr: FloatArray, low: int, high: int) -> list[int]:
    """Lags in [low, high] where ``corr`` has a local maximum."""
    low, high = max(low, 1), min(high, corr.shape[0] - 2)
    if high < low:
        return []
    middle = corr[low : high + 1]
    peaks = (middle >= corr[low - 1 : high]) & (middle >= corr[low + 1 : high + 2])
    return [low + int(i) for i in np.flatnonzero(peaks)]


def _first_peak_near_max(corr: FloatArray, low: int, high: int) -> int:
    """The stride lag: the first peak in [low, high] nearly as high as the top.

    Taking the plain maximum would, for a very regular gait, as often pick two
    strides as one (all multiples of the period correlate alike).
    """
    top = float(corr[low : high + 1].max())
    for lag in _local_maxima(corr, low, high):
        if corr[lag] >= top - _PEAK_TOLERANCE:
            return lag
    return low + int(np.argmax(corr[low : high + 1]))


class GaitTracker:
    """Resamples one stream of samples and analyses its windows as they fill."""

    def __init__(
        self,
        window_s: float,
        hop_s: float,
        min_std_g: float,
        max_hole_s: float = _MAX_HOLE_S,
        min_regularity: float = 0.0,
    ) -> None:
        """Set the window geometry; ``restart`` before the first samples."""
        self._window = round(window_s * GRID_HZ)
        self._hop = max(1, round(hop_s * GRID_HZ))
        self._min_std_g = min_std_g
        self._min_regularity = min_regularity
        self._max_hole_s = max_hole_s
        self.work = 0
        """Grid points made and window points analysed so far."""
        self.restart(0.0)

    def restart(self, start_s: float) -> None:
        """Forget the samples: a new stream starts at ``start_s``."""
        self._next_s = start_s
        self._last_s = start_s
        self._last_value = math.nan
        self._grid: FloatArray = np.empty(0)
        self._produced = 0

    def feed(
        self, ts: FloatArray, vertical: FloatArray
    ) -> list[tuple[int, GaitWindow]]:
        """Add samples; returns (index of the completing sample, window) pairs."""
        if math.isnan(self._last_value):
            self._last_value = float(vertical[0])
            self._last_s = float(ts[0])
        previous = np.concatenate(([self._last_s], ts[:-1]))
        holes = np.flatnonzero(ts - previous > self._max_hole_s)
        if holes.shape[0] == 0:
            return self._feed(ts, vertical, 0)
        starts = holes.tolist()
        results = self._feed(ts[: starts[0]], vertical[: starts[0]], 0)
        for begin, end in itertools.pairwise([*starts, ts.shape[0]]):
            self.restart(float(ts[begin]))
            results += self._feed(ts[begin:end], vertical[begin:end], begin)
        return results

    def _feed(
        self, ts: FloatArray, vertical: FloatArray, first_index: int
    ) -> list[tuple[int, GaitWindow]]:
        """``feed`` for samples without a hole; indices offset by ``first_index``."""
        if ts.shape[0] == 0:
            return []
        if math.isnan(self._last_value):
            self._last_value = float(vertical[0])
            self._last_s = float(ts[0])
        step = 1.0 / GRID_HZ
        results: list[tuple[int, GaitWindow]] = []
        if ts[-1] >= self._next_s:
            count = int((ts[-1] - self._next_s) // step) + 1
            grid_ts = self._next_s + step * np.arange(count)
            values = np.interp(
                grid_ts,
                np.concatenate(([self._last_s], ts)),
                np.concatenate(([self._last_value], vertical)),
            )
            self._next_s = float(grid_ts[-1] + step)
            grid = np.concatenate((self._grid, values))
            before = self._produced
            self._produced += count
            self.work += count
            window, hop = self._window, self._hop
            # Windows end when the grid count reaches window + j·hop.
            first = window + hop * max(0, -(-(before + 1 - window) // hop))
            for produced in range(first, self._produced + 1, hop):
                end = grid.shape[0] - (self._produced - produced)
                index = int(np.searchsorted(ts, grid_ts[produced - before - 1]))
                self.work += window
                results.append(
                    (
                        first_index + min(index, ts.shape[0] - 1),
                        analyse(
                            grid[end - window : end],
                            self._min_std_g,
                            self._min_regularity,
                        ),
                    )
                )
            self._grid = grid[-window:]
        self._last_s = float(ts[-1])
        self._last_value = float(vertical[-1])
        return results
