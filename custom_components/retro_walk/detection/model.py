"""A small learned tier-1 rule: a tiny neural network over per-sample features.

Pure numpy. The detector computes ``FEATURES`` for every sample (causally,
with their filter states carried across batches, so batching changes
nothing) and the model turns them into a probability that the walker is
falling or stumbling right now; ``DetectorConfig.model_threshold`` held for
``model_hold_s`` fires tier 1 (kind ``model``).

The weights are trained by ``scripts/train_detector`` from the SisFall
development split only (``evaluation/train.py`` describes the labels and the
protocol) and written to ``model_weights.py``; the evaluation scores each
subject with a model trained without that subject's cross-validation fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]

FEATURES: Final = (
    "tilt_deg",
    "tilt_rise_deg",
    "rate",
    "rate_fast",
    "speed",
    "acc_g",
    "acc_fast_g",
    "acc_activity_g",
    "gyro_activity",
    "gyro_norm",
)
"""Per sample: tilt from the upright reference; tilt minus its 0.5 s moving
average; tilting rate (rad/s) and its 0.1 s moving average; vertical speed
(m/s, up positive); acceleration magnitude (g) and its 0.1 s moving average;
RMS over ~1 s of the acceleration's departure from 1 g and of the rotation
rate (how vigorous the current activity is); rotation rate magnitude."""

FAST_TAU_S: Final = 0.1
TILT_TAU_S: Final = 0.5
ACTIVITY_TAU_S: Final = 1.0
_CLIP: Final = 8.0
"""Standardised features are clipped to ± this (a wild sample stays bounded)."""


@dataclass(frozen=True)
class Model:
    """Weights of a one-hidden-layer tanh network with a sigmoid output.

    ``hidden`` is (hidden units) rows of (features) weights; with no hidden
    units the model is a logistic regression on the standardised features.
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    hidden: tuple[tuple[float, ...], ...]
    hidden_bias: tuple[float, ...]
    out: tuple[float, ...]
    out_bias: float

    def arrays(self) -> _Arrays:
        """The weights as numpy arrays (made once per detector)."""
        return _Arrays(
            np.asarray(self.mean, dtype=np.float64),
            1.0 / np.asarray(self.scale, dtype=np.float64),
            np.asarray(self.hidden, dtype=np.float64).reshape(
                len(self.hidden_bias), len(self.mean)
            ),
            np.asarray(self.hidden_bias, dtype=np.float64),
            np.asarray(self.out, dtype=np.float64),
            float(self.out_bias),
        )


@dataclass(frozen=True, slots=True)
class _Arrays:
    mean: FloatArray
    inv_scale: FloatArray
    hidden: FloatArray
    hidden_bias: FloatArray
    out: FloatArray
    out_bias: float

    def logit(self, features: FloatArray) -> FloatArray:
        """The model's log-odds for each row of ``features`` (n, len(FEATURES))."""
        x = np.clip((features - self.mean) * self.inv_scale, -_CLIP, _CLIP)
        if self.hidden.shape[0]:
            x = np.tanh(x @ self.hidden.T + self.hidden_bias)
        result: FloatArray = x @ self.out + self.out_bias
        return result


def probability(logit: FloatArray) -> FloatArray:
    """Sigmoid, safe for any logit."""
    result: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * logit))
    return result
