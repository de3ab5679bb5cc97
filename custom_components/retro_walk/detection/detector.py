"""Tiered instability detector for a motion sensor on the lower back.

Pure Python and numpy (no Home Assistant import): the integration, the replay
tool, the evaluation and the benchmarks all run this one implementation.

Signals, per sample, vectorised over a batch with the state of the previous
batch carried over (splitting a stream into messages changes nothing):

- **gravity direction**: a complementary filter in the device frame. Each
  sample turns the previous estimate by the gyroscope (exact rotation over
  the sample interval) and pulls it, with time constant ``attitude_tau_s``,
  towards the mean acceleration of the last ``attitude_mean_tau_s`` (an
  average carried in the device frame and turned by the gyroscope the same
  way), less and less as that mean's magnitude leaves 1 g, so impacts and
  free fall do not drag it. Over a stride the walker's own accelerations
  average out; pulling towards single samples near 1 g (the setting 0) tilts
  the estimate in brisk walking.
- **tilt**: the angle between that direction and the walker's *upright
  reference*, the mean acceleration direction over the calibration period
  (``calibration_s``; walking accelerations average out, samples turning
  faster than 1.5 rad/s are left out). Until the period ends the reference is
  the mean so far. The walker's gravity magnitude is calibrated likewise.
- **tilting rate**: the angular velocity without its component about the
  vertical. Turning on the spot is rotation about the vertical (3-7 rad/s at
  the waist); falls and stumbles turn the trunk about a horizontal axis.
- **vertical speed**: the acceleration along the gravity direction minus the
  calibrated gravity, integrated with a leak (``drop_tau_s``): how fast the
  pelvis is going down, the cue of the earliest pre-impact detectors.
- **acceleration magnitude** in g.

Tiers and kinds (``Detection.kind``):

1. *Pause now* (``Tier.PAUSE_NOW``):
   ``spin``
       tilting rate ≥ ``spin_rate`` held ≥ ``spin_hold_s``, with, within
       ``coincidence_s``, tilt ≥ ``spin_tilt_deg`` or acceleration
       < ``low_g`` held ≥ ``low_g_hold_s`` (DESIGN.md's rule; the tuned
       defaults ask 80 ms rather than 60 and 22.5° rather than 25°).
   ``drop``
       the pelvis going down faster than ``drop_speed`` while the trunk is
       tilted ≥ ``drop_tilt_deg`` and still tilting at ≥ ``drop_rate``.
   ``free_fall``
       acceleration < ``free_fall_g`` held ≥ ``free_fall_hold_s``: deeper
       and longer than any drop seen in walking or on stairs.
   ``model``
       the learned rule (``model.py``): a small network's probability over
       per-sample features ≥ ``model_threshold`` held ≥ ``model_hold_s``.
   ``impact``
       acceleration ≥ ``impact_g`` while the trunk is tilted ≥
       ``impact_tilt_deg`` or within ``impact_context_s`` of a spin, low-g
       or drop phase; or ≥ ``lone_impact_g`` within ``lone_impact_window_s``
       after a tilting rate ≥ ``lone_impact_rate`` (a stumble's foot
       strike). A lone spike while upright, without the turn, is a heel
       strike or a knock on the phone (the gaitpy walking recording has
       3.8 g and 6.7 g ones).
   ``spin``, ``drop``, ``free_fall`` and ``impact`` pause only while the
   activity (RMS departure of the acceleration from 1 g over ~1 s, up to the
   sample before) stays below ``rules_max_activity_g``: jogging lands at
   2-4 g with flight phases near 0 g. Only the kinds in ``tier1_kinds``
   pause; the others still count as dynamic phases for tier 2.
2. *Confirmed fall* (``Tier.CONFIRMED_FALL``):
   ``fall``
       tilt ≥ ``fall_tilt_deg`` held ≥ ``fall_hold_s``, reached within
       ``fall_context_s`` of a dynamic phase (spin, low g, drop or impact:
       sitting down or bending over gets there slowly, without one); or an
       impact followed within ``still_window_s`` by stillness (rotation
       < ``still_rate``, acceleration within ``still_g`` of 1 g, tilt ≥
       ``still_tilt_deg``) held ≥ ``still_hold_s``; either only for a walker
       who was on the move within ``fall_moving_s`` before that posture
       began.
   ``lying``
       tilt ≥ ``lying_tilt_deg`` held ≥ ``lying_hold_s``, however it came
       about, for a walker on the move within ``lying_moving_s`` before
       going horizontal, or held ≥ ``lying_rest_hold_s`` whatever the walker
       did before (not fired again for a fall already confirmed, i.e. one
       that fired tier 2 within ``fall_context_s`` before the walker went
       horizontal).
3. *Unsteady* (``Tier.UNSTEADY``):
   ``stumble``
       the walker is upright again (tilt < ``recovered_tilt_deg`` held
       ``recovered_hold_s``) ``recovered_after_s`` to ``recovered_window_s``
       after a tier-1 pause, with no tier 2 since: a recovered stumble.
   ``unsteady``: see ``gait.py`` for the
   window features. The walker's baseline is the median of their first
   ``baseline_windows`` gait windows (from the start of the session). A
   window is unsteady when its stride regularity is
   ``unsteady_regularity_drop`` below the baseline or its stride-time CV
   reaches both ``unsteady_cv_ratio`` x baseline and ``unsteady_cv_min``;
   ``unsteady_windows`` unsteady gait windows in a row fire (a window
   without gait breaks the row, and so does a window holding a tier-1 or
   tier-2 detection: a fall is not a gait).

"Held ≥ d" counts the time since the condition was last false, so n samples
at period p hold n·p (3 samples at 50 Hz hold 60 ms), within 5 ms of clock
jitter. Each tier fires at most once per ``refractory_s`` (tier 3 once per
``unsteady_refractory_s``), except that ``rearm`` (the belt runs again
after a pause) lets tiers 1 and 2 fire at once; every rule is edge
triggered, so a condition that stays true (lying still) fires once. For
the first second of a stream the gravity estimate is still converging: tilt
and vertical speed count as zero.

Which samples are used is the sample clock's decision (``clock.py``): not
newer than the newest one used (a message delivered twice or late), a lone
jump ahead, or, given the receive time, too far from it: dropped and counted
in ``dropped``. A gap longer than ``max_gap_s`` restarts the short-term state
(filters, runs, gait windows) but keeps the calibration once it is complete;
a gap before that restarts the calibration too, so the upright reference
comes from one unbroken stretch (a stale first message cannot set it). Holes
longer than ``clock.CONTINUITY_S`` restart the gait windows (the grid does
not interpolate across them), so the work per message is bounded by its
samples, not by the time they span; ``work`` counts it (rows through the
per-sample pipeline, gait grid points and window rows, feature rows).

The defaults come from ``scripts/evaluate --tune`` on the tuning half of the
evaluation data; ``docs/evaluation.md`` has the protocol and the results.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import IntEnum
import itertools
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from .clock import SampleClock
from .gait import GaitTracker, GaitWindow
from .model import ACTIVITY_TAU_S, FAST_TAU_S, TILT_TAU_S, Model, probability
from .model_weights import MODEL, MODEL_HOLD_S, MODEL_THRESHOLD
from .samples import SampleBatch
from .signals import (
    NEG_INF,
    STANDARD_GRAVITY,
    Turns,
    at_run_start,
    held_for,
    last_true,
    leaky_integral,
    rising,
    row_norm,
    smoothed,
)

type FloatArray = npt.NDArray[np.float64]
type BoolArray = npt.NDArray[np.bool_]
type IntArray = npt.NDArray[np.int64]

_NS: Final = 1_000_000_000
_FEATURE_LOOKBACK_S: Final = 0.5
_MAX_FILTER_DT_S: Final = 0.1
_CALIBRATION_MAX_RATE: Final = 1.5
"""rad/s: samples tilting faster do not enter the upright reference."""
_WARMUP_S: Final = 2.0
"""The gravity estimate converges faster this long after a stream starts …"""
_WARMUP_TAU_S: Final = 0.25
_SETTLE_S: Final = 1.0
"""… and tilt and vertical speed count as zero this long, while it converges."""
_MOVING_TAU_S: Final = 0.25
"""s: the rotation-rate RMS that tells a walker on the move from one at rest."""
_GATE_TAUS: Final = np.array([ACTIVITY_TAU_S, _MOVING_TAU_S])
"""τ of the moving averages the gates need: activity, rotation."""
_FEATURE_TAUS: Final = np.array(
    [ACTIVITY_TAU_S, _MOVING_TAU_S, TILT_TAU_S, FAST_TAU_S, FAST_TAU_S, ACTIVITY_TAU_S]
)
"""… and those the learned rule's features add: tilt, rate, acceleration,
rotation RMS."""
_EPS: Final = 0.005
"""s: durations count as reached within this (client clock jitter)."""
_TAIL_ROWS: Final = 512
"""Most rows kept for the features' look-back (0.5 s at 1 kHz)."""


class Tier(IntEnum):
    """How urgent a detection is."""

    PAUSE_NOW = 1
    CONFIRMED_FALL = 2
    UNSTEADY = 3


@dataclass(frozen=True, slots=True)
class Detection:
    """One detection: its tier, kind, the sample time it fired at, features."""

    tier: Tier
    kind: str
    time_ns: int
    features: dict[str, float]


@dataclass(frozen=True)
class DetectorConfig:
    """Thresholds of the detector; the defaults are the evaluated ones."""

    calibration_s: float = 10.0
    """Upright reference and gravity magnitude come from this first part."""
    refractory_s: float = 5.0
    """A tier fires at most once in this long."""
    max_gap_s: float = 1.0
    """A longer pause between samples restarts the short-term state."""
    attitude_tau_s: float = 1.0
    """Time constant pulling the gravity estimate towards the accelerometer."""
    attitude_gate_g: float = 0.25
    """The pull fades to nothing as the acceleration leaves 1 g by this much."""
    attitude_mean_tau_s: float = 0.5
    """Above 0: the pull is towards the *mean* acceleration over about this
    long (an average carried in the device frame, turned by the gyroscope),
    gated on its magnitude, rather than towards each sample's. Over a stride
    the walker's own accelerations average out; single samples near 1 g do
    not (0 = off, the instantaneous pull)."""

    spin_rate: float = 3.0
    """rad/s of tilting (non-vertical) rotation."""
    spin_hold_s: float = 0.08
    spin_tilt_deg: float = 22.5
    low_g: float = 0.5
    low_g_hold_s: float = 0.1
    coincidence_s: float = 0.3
    """Spin and tilt/low-g count together when this close in time."""
    drop_speed: float = 0.8
    """m/s downwards."""
    drop_tilt_deg: float = 15.0
    drop_rate: float = 1.5
    drop_tau_s: float = 0.5
    free_fall_g: float = 0.3
    free_fall_hold_s: float = 0.15
    impact_g: float = 3.0
    impact_context_s: float = 1.0
    impact_tilt_deg: float = 45.0
    """An impact with no dynamic phase before it pauses only this far from
    upright, where landing is a fall. Going down stairs quickly and
    collapsing into a chair strike 3 g leaning 20-35°: at 22.5°
    (``spin_tilt_deg``, as before) they made 10 of SisFall's 55 false
    pauses on other activities; 35° and 60° gave the same figures as 45°."""
    lone_impact_g: float = 4.0
    """… or, at any tilt, an impact of at least this within
    ``lone_impact_window_s`` after a tilting rate ≥ ``lone_impact_rate``:
    a stumble's foot strike, which turns the trunk at 3-7 rad/s and lands
    at 3-6 g while barely tilting. At 3 or 3.5 g jogging strides pass (26 /
    13 pauses an hour on SisFall); a heel strike or a knock on the phone
    (the gaitpy recording's 3.8 g and 6.7 g spikes) comes without the turn.
    inf = off."""
    lone_impact_rate: float = 3.0
    lone_impact_window_s: float = 0.3
    tier1_kinds: tuple[str, ...] = ("impact", "spin", "drop", "free_fall", "model")
    """The tier-1 rules that may fire (the others still count as a dynamic
    phase for tier 2's context)."""
    rules_max_activity_g: float = 0.6
    """``impact``, ``spin``, ``drop`` and ``free_fall`` pause only while the
    activity (RMS departure of the acceleration from 1 g over ~1 s) stays
    below this: jogging's flight phases and landings are none of theirs
    (walking stays below ~0.5 g, jogging above ~0.5 g)."""
    walking_rate: float = 0.15
    """rad/s: tier 1 pauses only while the rotation rate's RMS over ~0.25 s
    has stayed at or above this for the last ``walking_hold_s``: the walker
    is on the move. On SisFall, walking keeps it above 0.3 rad/s (young and
    older adults, slow and quick; 0.1 % of samples dip below 0.15), and so
    does the walk before every fall and stumble; standing still before
    sitting down, lying down or bending does not. A belt needs pausing under
    a walker who steps; a fall from standing still or sitting is tier 2's.
    Samples without a gyroscope reading (a client without one sends zeros)
    never count as at rest. 0 = off (tier 1 whatever the walker was doing)."""
    walking_hold_s: float = 1.5
    model: Model | None = MODEL
    """The learned tier-1 rule (``model.py``); ``None`` switches it off."""
    model_threshold: float = MODEL_THRESHOLD
    """Probability the model must reach …"""
    model_hold_s: float = MODEL_HOLD_S
    """… and hold this long."""

    fall_tilt_deg: float = 50.0
    fall_hold_s: float = 0.5
    fall_context_s: float = 3.0
    still_rate: float = 0.5
    still_g: float = 0.15
    still_tilt_deg: float = 50.0
    """Impact then stillness counts only this far from upright: on SisFall
    95 % of falls lie past 75° a second after the impact, while sitting down
    hard or collapsing into a chair lands at 20-45° (at 20° they made half
    the false alerts)."""
    still_hold_s: float = 1.0
    still_window_s: float = 3.0
    lying_tilt_deg: float = 70.0
    lying_hold_s: float = 5.0
    fall_moving_s: float = 1.0
    """Tier 2's ``fall`` confirms only a walker who was on the move (tier
    1's gate, ``walking_rate``, open) within this long before the posture
    began: the trunk past ``fall_tilt_deg``, or the stillness after an
    impact. Sitting down hard or lying down quickly from a seat or from
    standing still gets there from rest; a walking fall does not. A stream
    that starts (or restarts after a gap) counts as on the move until its
    tilt is known (fail safe: a walker found lying after a gap is alerted).
    inf = off."""
    lying_moving_s: float = 1.0
    """The same for ``lying``, from the moment the trunk passed
    ``lying_tilt_deg``. inf = off."""
    lying_rest_hold_s: float = 15.0
    """Lying flat this long fires ``lying`` however the walker got there: the
    backstop for a walker who faints from rest (standing on a paused belt, or
    seated), whom the rules above leave alone. Chosen for the product, not
    measured: SisFall's trials are too short to show it."""

    gait_window_s: float = 8.0
    gait_hop_s: float = 2.0
    gait_min_std_g: float = 0.06
    gait_min_regularity: float = 0.1
    """A window whose stride regularity stays below this is no gait (it
    breaks a row of unsteady windows rather than adding to it): sitting
    down, standing up, getting into a car. On SisFall's daily activities
    that cuts tier 3 from 77 to 28/h; on the modelled irregular steps
    tier 3 stays 39 of 42 (both halves)."""
    baseline_windows: int = 4
    unsteady_regularity_drop: float = 0.25
    unsteady_cv_ratio: float = 4.0
    unsteady_cv_min: float = 0.16
    unsteady_windows: int = 3
    unsteady_refractory_s: float = 30.0
    """Tier 3 prompts at most this often (it asks the walker to slow down)."""
    recovered_after_s: float = 0.5
    recovered_window_s: float = 2.0
    recovered_tilt_deg: float = 20.0
    recovered_hold_s: float = 0.3
    """Tier 3 ``stumble``: upright again (tilt < ``recovered_tilt_deg`` held
    ``recovered_hold_s``) between ``recovered_after_s`` and
    ``recovered_window_s`` after a tier-1 pause, with no tier 2 since."""


@dataclass(slots=True)
class _Signals:
    """Per-sample signals of one stretch of a batch."""

    times: IntArray
    ts: FloatArray
    acc_g: FloatArray
    rate: FloatArray
    gyro_norm: FloatArray
    tilt: FloatArray
    speed: FloatArray  # vertical, m/s, up positive
    model: FloatArray  # the learned rule's log-odds (-inf without a model)
    activity: FloatArray  # RMS departure from 1 g over ~1 s, to the sample before
    walking: BoolArray  # rotation RMS ≥ ``walking_rate`` for ``walking_hold_s``
    since_moving: FloatArray  # time since ``walking`` was last true


@dataclass(slots=True)
class _Stream:
    """Short-term state of a stretch of samples without a gap."""

    start_s: float
    last_s: float
    gravity: FloatArray
    mean_acc: FloatArray
    speed: float = 0.0
    runs: dict[str, float] = field(default_factory=dict)
    """Per rule condition: time of the last sample where it was false."""
    open_runs: set[str] = field(default_factory=set)
    last: dict[str, float] = field(default_factory=dict)
    rules: dict[str, bool] = field(default_factory=dict)
    tail: FloatArray = field(default_factory=lambda: np.empty((0, 3)))
    unsteady_run: int = 0
    smooth: dict[str, float] = field(default_factory=dict)
    """Moving-average states (the model's features, the activity, the motion)."""
    last_tilted: float = NEG_INF
    """Time of the last sample tilted ≥ ``recovered_tilt_deg``."""
    last_unmoving: float = NEG_INF
    """Time of the last sample whose rotation activity was below
    ``walking_rate`` (unknown at a stream's start: counted as on the move)."""
    last_moving: float = NEG_INF
    """Time of the last sample on the move (``_Signals.walking``). A stream
    starts with the end of its settling second: what the walker did before
    it is unknown, and counts as on the move until the tilt is known."""
    at_start: dict[str, float] = field(default_factory=dict)
    """Per tier-2 posture: ``since_moving`` when its run began (NaN: none open)."""
    pending: float | None = None
    """Time of a tier-1 pause the walker may still recover from."""


class Detector:
    """Consumes sample batches in time order and returns what fired."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        """Create a detector for one session (``reset`` starts another)."""
        self.config = config or DetectorConfig()
        self._min_tilt = min(
            self.config.spin_tilt_deg,
            self.config.drop_tilt_deg,
            self.config.fall_tilt_deg,
            self.config.still_tilt_deg,
            self.config.lying_tilt_deg,
        )
        # Below this tilting rate no rule's state moves (a spin, or the turn
        # before a lone impact).
        self._quiet_rate = (
            min(self.config.spin_rate, self.config.lone_impact_rate)
            if self.config.lone_impact_g < math.inf
            else self.config.spin_rate
        )
        self._gait = GaitTracker(
            self.config.gait_window_s,
            self.config.gait_hop_s,
            self.config.gait_min_std_g,
            min_regularity=self.config.gait_min_regularity,
        )
        self.clock = SampleClock()
        self._model = None if self.config.model is None else self.config.model.arrays()
        self._model_logit = (
            math.log(self.config.model_threshold / (1.0 - self.config.model_threshold))
            if 0.0 < self.config.model_threshold < 1.0
            else math.inf
        )
        self.feature_log: list[tuple[IntArray, FloatArray, BoolArray]] | None = None
        """Set to a list to collect every sample's model features (training),
        with the times and whether tier 1 may fire (the walker on the move)."""
        self.reset()

    def reset(self) -> None:
        """Start a new session: forget everything, calibrate again."""
        self.clock.reset()
        self.work = 0
        """Rows processed so far (see the module docstring): a cost measure."""
        self._origin_ns: int | None = None
        self._last_ns: int | None = None
        self._stream: _Stream | None = None
        self._calibration_start_s = 0.0
        self._ref_sum = np.zeros(3)
        self._ref_norm_sum = 0.0
        self._ref_count = 0
        self._fired: dict[Tier, float] = dict.fromkeys(Tier, NEG_INF)
        self._rearmed_after = NEG_INF
        """Tier-1 and tier-2 detections up to this time hold nothing back."""
        self._gait_quiet_until = NEG_INF
        self._baseline: list[GaitWindow] = []
        self._baseline_regularity = math.nan
        self._baseline_cv = math.nan

    def rearm(self) -> None:
        """The walker walks on (the belt runs again): tiers 1 and 2 may fire at once.

        A tier's refractory keeps one incident from being reported twice; it
        must not outlast the pause that incident caused. A walker who resumes
        two seconds after a slip and slips again is paused again. Tier 3
        keeps its refractory: it prompts, it protects nothing.
        """
        self._rearmed_after = max(
            self._fired[Tier.PAUSE_NOW], self._fired[Tier.CONFIRMED_FALL]
        )

    @property
    def calibrated(self) -> bool:
        """The calibration period is over: the upright reference is fixed."""
        return (
            self._origin_ns is not None
            and self._last_ns is not None
            and (self._last_ns - self._origin_ns) / _NS - self._calibration_start_s
            >= self.config.calibration_s
        )

    @property
    def dropped(self) -> Counter[str]:
        """Samples the clock refused, by reason (``clock.DROP_REASONS``)."""
        return self.clock.dropped

    @property
    def baseline_ready(self) -> bool:
        """The walker's gait baseline exists, so tier 3 can fire."""
        return len(self._baseline) >= self.config.baseline_windows

    @property
    def last_time_ns(self) -> int | None:
        """Time of the newest sample processed, epoch ns."""
        return self._last_ns

    def process(
        self, batch: SampleBatch, *, received_ns: int | None = None
    ) -> list[Detection]:
        """Run the samples of one batch; detections come in time order.

        ``received_ns``: when the message arrived, epoch ns by the receiver's
        clock; samples implausibly far from it are dropped (``clock.py``).
        ``None`` trusts the recorded times (replay, evaluation).
        """
        return self.run(*self.admit(batch, received_ns=received_ns))

    def admit(
        self, batch: SampleBatch, *, received_ns: int | None = None
    ) -> tuple[IntArray, FloatArray]:
        """The samples of one batch that the clock lets through (cheap).

        Returns their times and rows (acceleration then rotation rate, shape
        (n, 6)) for ``run``. A caller may admit several small messages, each
        with its own receive time, and run them together: the results are the
        same as running each at once, and the per-sample cost stops depending
        on how small the phone's batches are.
        """
        return self.clock.admit(
            batch.time_ns, np.concatenate((batch.acc, batch.gyro), axis=1), received_ns
        )

    def run(self, times: IntArray, rows: FloatArray) -> list[Detection]:
        """Analyse admitted samples (from ``admit``, in order)."""
        if times.shape[0] == 0:
            return []
        if self._origin_ns is None:
            self._origin_ns = int(times[0])
        acc = rows[:, :3]
        gyro = rows[:, 3:]
        max_gap = int(self.config.max_gap_s * _NS)
        cuts = [0, *(int(i) + 1 for i in np.flatnonzero(np.diff(times) > max_gap))]
        cuts.append(times.shape[0])
        detections: list[Detection] = []
        for begin, end in itertools.pairwise(cuts):
            detections += self._segment(
                times[begin:end], acc[begin:end], gyro[begin:end]
            )
        self._last_ns = int(times[-1])
        return detections

    # --- one stretch of samples without a gap ---------------------------------

    def _segment(
        self, times: IntArray, acc: FloatArray, gyro: FloatArray
    ) -> list[Detection]:
        cfg = self.config
        origin = self._origin_ns if self._origin_ns is not None else int(times[0])
        ts = (times - origin) / _NS
        self.work += int(ts.shape[0])
        stream = self._stream
        if stream is None or ts[0] - stream.last_s > cfg.max_gap_s:
            if (
                stream is not None
                and stream.last_s - self._calibration_start_s < cfg.calibration_s
            ):
                self._restart_calibration(float(ts[0]))
            stream = self._stream = _Stream(
                start_s=float(ts[0]),
                last_s=float(ts[0]),
                gravity=acc[0].copy(),
                mean_acc=acc[0].copy(),
                # Unknown past: on the move until the posture is known.
                last_moving=float(ts[0]) + _SETTLE_S,
            )
            self._gait.restart(float(ts[0]))
        dt = np.empty_like(ts)
        dt[0] = ts[0] - stream.last_s
        dt[1:] = np.diff(ts)
        np.clip(dt, 0.0, _MAX_FILTER_DT_S, out=dt)

        acc_norm = row_norm(acc)
        acc_g: FloatArray = acc_norm * (1.0 / STANDARD_GRAVITY)
        age = ts - stream.start_s
        gravity = self._gravity(stream, (age, dt), acc, acc_g, gyro)
        stream.gravity = gravity[-1].copy()
        g_norm = row_norm(gravity)
        down = gravity / np.where(g_norm > 0, g_norm, 1.0)[:, None]
        about_vertical = np.einsum("ij,ij->i", gyro, down)
        rate = row_norm(gyro - about_vertical[:, None] * down)

        tilt, g_ref = self._calibrate(ts, acc, acc_norm, rate, down)
        vertical = np.einsum("ij,ij->i", acc, down) - g_ref
        settling = age < _SETTLE_S
        if settling[0]:
            tilt = np.where(settling, 0.0, tilt)
            vertical = np.where(settling, 0.0, vertical)
        speed = leaky_integral(vertical, dt, cfg.drop_tau_s, stream.speed)
        stream.speed = float(speed[-1])
        gyro_norm = row_norm(gyro)
        logit, activity, moving, features = self._model_logit_of(
            stream, times, dt, (tilt, rate, speed, acc_g, gyro_norm)
        )
        walking, since_moving = self._on_the_move(stream, ts, moving, gyro_norm)
        signals = _Signals(
            times=times,
            ts=ts,
            acc_g=acc_g,
            rate=rate,
            gyro_norm=gyro_norm,
            tilt=tilt,
            speed=speed,
            model=logit,
            activity=activity,
            walking=walking,
            since_moving=since_moving,
        )
        if self.feature_log is not None and features is not None:
            self.feature_log.append((times, features, signals.walking))
        detections = self._rules(stream, signals)
        detections += self._recovered(stream, signals, detections)
        detections += self._unsteady(stream, signals, vertical / STANDARD_GRAVITY)
        recent = ts >= ts[-1] - _FEATURE_LOOKBACK_S
        start = max(int(np.argmax(recent)), ts.shape[0] - _TAIL_ROWS)
        tail = np.stack((ts[start:], acc_g[start:], rate[start:]), axis=1)
        if start == 0:
            old = stream.tail
            tail = np.concatenate(
                (old[old[:, 0] >= ts[-1] - _FEATURE_LOOKBACK_S], tail), axis=0
            )[-_TAIL_ROWS:]
            self.work += int(old.shape[0])
        stream.tail = tail
        stream.last_s = float(ts[-1])
        detections.sort(key=lambda detection: detection.time_ns)
        return detections

    def _on_the_move(
        self,
        stream: _Stream,
        ts: FloatArray,
        moving: FloatArray,
        gyro_norm: FloatArray,
    ) -> tuple[BoolArray, FloatArray]:
        """Per sample: on the move for ``walking_hold_s``, and since when not.

        The first gates tier 1; the second, tier 2's posture rules.
        """
        cfg = self.config
        # A client without a gyroscope sends zeros: no sign of rest, so no gate.
        unmoving = last_true(
            (moving < cfg.walking_rate) & (gyro_norm > 0.0), ts, stream.last_unmoving
        )
        stream.last_unmoving = float(unmoving[-1])
        walking: BoolArray = ts - unmoving >= cfg.walking_hold_s - _EPS
        last_moving = last_true(walking, ts, stream.last_moving)
        stream.last_moving = float(last_moving[-1])
        return walking, ts - last_moving

    def _gravity(
        self,
        stream: _Stream,
        times: tuple[FloatArray, FloatArray],
        acc: FloatArray,
        acc_g: FloatArray,
        gyro: FloatArray,
    ) -> FloatArray:
        """The gravity estimate of every sample (``attitude_*`` settings)."""
        cfg = self.config
        age, dt = times
        turns = Turns(gyro, dt)
        target = acc
        target_g = acc_g
        if cfg.attitude_mean_tau_s > 0.0:
            beta = np.minimum(dt / cfg.attitude_mean_tau_s, 1.0)
            target = turns.filter(acc, beta, stream.mean_acc)
            stream.mean_acc = target[-1].copy()
            target_g = row_norm(target) * (1.0 / STANDARD_GRAVITY)
        weight = np.clip(1.0 - np.abs(target_g - 1.0) / cfg.attitude_gate_g, 0.0, 1.0)
        tau = np.where(age < _WARMUP_S, _WARMUP_TAU_S, cfg.attitude_tau_s)
        alpha = np.minimum(dt / tau, 1.0) * weight
        return turns.filter(target, alpha, stream.gravity)

    def _model_logit_of(
        self,
        stream: _Stream,
        times: IntArray,
        dt: FloatArray,
        signals: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray | None]:
        """The learned rule's log-odds, the activity, the motion and features.

        Log-odds of ``model.FEATURES``; the activity is the RMS departure of
        the acceleration from 1 g over ~1 s (up to the sample before), the
        motion the RMS rotation rate over ~0.25 s; the features themselves
        when there is a model or a ``feature_log`` (else ``None``).
        """
        tilt, rate, speed, acc_g, gyro_norm = signals
        departure = acc_g - 1.0
        squared = departure * departure
        gyro2 = gyro_norm * gyro_norm
        need_features = self._model is not None or self.feature_log is not None
        # Every moving average over this batch in one pass: (name, input, τ).
        inputs = [("acc2", squared), ("moving", gyro2)]
        if need_features:
            inputs += [("tilt", tilt), ("rate", rate), ("acc", acc_g), ("gyro2", gyro2)]
        taus = _FEATURE_TAUS if need_features else _GATE_TAUS
        state = stream.smooth
        before = state.get("acc2", float(squared[0]))
        averages = smoothed(
            np.stack([values for _, values in inputs], axis=1),
            dt,
            taus,
            np.array([state.get(name, float(values[0])) for name, values in inputs]),
        )
        for (name, _), value in zip(inputs, averages[-1].tolist(), strict=True):
            state[name] = value
        activity = np.sqrt(averages[:, 0])
        # The rules are gated by the activity up to the sample before: an
        # impact or a stumble does not count against itself.
        prior = np.empty_like(activity)
        prior[0] = math.sqrt(before)
        prior[1:] = activity[:-1]
        moving = np.sqrt(averages[:, 1])
        if not need_features:
            return np.full(times.shape, NEG_INF), prior, moving, None
        features = np.stack(
            (
                tilt,
                tilt - averages[:, 2],
                rate,
                averages[:, 3],
                speed,
                acc_g,
                averages[:, 4],
                activity,
                np.sqrt(averages[:, 5]),
                gyro_norm,
            ),
            axis=1,
        )
        if self._model is None:
            return np.full(times.shape, NEG_INF), prior, moving, features
        return self._model.logit(features), prior, moving, features

    def _restart_calibration(self, start_s: float) -> None:
        """Calibrate afresh from ``start_s`` (a gap before calibration ended)."""
        self._calibration_start_s = start_s
        self._ref_sum = np.zeros(3)
        self._ref_norm_sum = 0.0
        self._ref_count = 0

    def _calibrate(
        self,
        ts: FloatArray,
        acc: FloatArray,
        acc_norm: FloatArray,
        rate: FloatArray,
        down: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """Tilt (degrees) from the upright reference, and the gravity magnitude."""
        use = (ts - self._calibration_start_s < self.config.calibration_s) & (
            rate < _CALIBRATION_MAX_RATE
        )
        if use.any():
            sums = self._ref_sum + np.cumsum(acc * use[:, None], axis=0)
            norm_sums = self._ref_norm_sum + np.cumsum(acc_norm * use)
            counts = self._ref_count + np.cumsum(use)
            self._ref_sum = sums[-1].copy()
            self._ref_norm_sum = float(norm_sums[-1])
            self._ref_count = int(counts[-1])
            known = counts > 0
            sum_norm = row_norm(sums)
            reference = sums / np.where(sum_norm > 0, sum_norm, 1.0)[:, None]
            # Before the first usable sample the estimate is its own reference.
            reference = np.where(known[:, None], reference, down)
            g_ref = np.where(known, norm_sums / np.maximum(counts, 1), acc_norm)
        elif self._ref_count > 0 and (norm := float(np.linalg.norm(self._ref_sum))):
            reference = np.broadcast_to(self._ref_sum / norm, down.shape)
            g_ref = np.full(ts.shape, self._ref_norm_sum / self._ref_count)
        else:
            reference = down
            g_ref = acc_norm
        cosine = np.clip(np.einsum("ij,ij->i", down, reference), -1.0, 1.0)
        return np.degrees(np.arccos(cosine)), g_ref

    def _quiet(self, stream: _Stream, s: _Signals) -> bool:
        """Nothing in this stretch can start or continue any rule.

        Every rule needs a sample past one of these thresholds (``drop`` and
        the tilt rules need the tilt, the spin rule a spin); when none is
        passed and no run or rule is open from before, nothing can fire and
        no state changes, so the rules need not run.
        """
        cfg = self.config
        return (
            not stream.open_runs
            and not any(stream.rules.values())
            and float(s.rate.max()) < self._quiet_rate
            and float(s.acc_g.min()) >= max(cfg.low_g, cfg.free_fall_g)
            and float(s.acc_g.max()) < cfg.impact_g
            and float(s.tilt.max()) < self._min_tilt
            and float(s.model.max()) < self._model_logit
        )

    def _rules(self, stream: _Stream, s: _Signals) -> list[Detection]:  # noqa: PLR0915
        if self._quiet(stream, s):
            # Every condition was false throughout: the default "last false"
            # (the stream's previous sample) is right for all of them.
            stream.runs.clear()
            return []
        cfg = self.config
        ts = s.ts
        runs, last = stream.runs, stream.last

        def held(name: str, cond: BoolArray) -> FloatArray:
            result, runs[name] = held_for(cond, ts, runs.get(name, stream.last_s))
            if cond[-1]:
                stream.open_runs.add(name)
            else:
                stream.open_runs.discard(name)
            return result

        def latest(name: str, flag: BoolArray) -> FloatArray:
            result = last_true(flag, ts, last.get(name, NEG_INF))
            last[name] = float(result[-1])
            return result

        spin_q = held("spin", s.rate >= cfg.spin_rate) >= cfg.spin_hold_s - _EPS
        low_q = held("low", s.acc_g < cfg.low_g) >= cfg.low_g_hold_s - _EPS
        big = s.acc_g >= cfg.impact_g
        drop = (
            (s.speed <= -cfg.drop_speed)
            & (s.tilt >= cfg.drop_tilt_deg)
            & (s.rate >= cfg.drop_rate)
        )
        last_spin = latest("spin", spin_q)
        last_low = latest("low", low_q)
        last_phase = np.maximum(np.maximum(last_spin, last_low), latest("drop", drop))
        last_big = latest("impact", big)
        last_dynamic = np.maximum(last_phase, last_big)
        tilted = s.tilt >= cfg.spin_tilt_deg
        spin_rule = (ts - last_spin <= cfg.coincidence_s) & (
            tilted | (ts - last_low <= cfg.coincidence_s)
        )
        free_rule = (
            held("free", s.acc_g < cfg.free_fall_g) >= cfg.free_fall_hold_s - _EPS
        )
        impact_rule = big & (
            (s.tilt >= cfg.impact_tilt_deg) | (ts - last_phase <= cfg.impact_context_s)
        )
        if cfg.lone_impact_g < math.inf:
            # A stumble's foot strike: a hard impact just after a turn.
            turned = latest("turn", s.rate >= cfg.lone_impact_rate)
            impact_rule |= (s.acc_g >= cfg.lone_impact_g) & (
                ts - turned <= cfg.lone_impact_window_s
            )

        def moving_before(name: str, cond: BoolArray, within: float) -> BoolArray:
            since, stream.at_start[name] = at_run_start(
                cond, s.since_moving, stream.at_start.get(name, math.nan)
            )
            return since <= within

        fallen = s.tilt >= cfg.fall_tilt_deg
        fall_held = held("fall", fallen)
        fall_rule = (
            (fall_held >= cfg.fall_hold_s - _EPS)
            & (ts - fall_held - last_dynamic <= cfg.fall_context_s)
            & moving_before("fall", fallen, cfg.fall_moving_s)
        )
        still = (
            (s.gyro_norm < cfg.still_rate)
            & (np.abs(s.acc_g - 1.0) < cfg.still_g)
            & (s.tilt >= cfg.still_tilt_deg)
        )
        still_held = held("still", still)
        still_rule = (
            (still_held >= cfg.still_hold_s - _EPS)
            & (ts - still_held - last_big <= cfg.still_window_s)
            & moving_before("still", still, cfg.fall_moving_s)
        )
        lying = s.tilt >= cfg.lying_tilt_deg
        lying_held = held("lying", lying)
        lying_rule = (
            (lying_held >= cfg.lying_hold_s - _EPS)
            & moving_before("lying", lying, cfg.lying_moving_s)
        ) | (lying_held >= cfg.lying_rest_hold_s - _EPS)
        lying_start = ts - lying_held

        candidates: list[tuple[int, int, Tier, str]] = []
        calm = (s.activity < cfg.rules_max_activity_g) & s.walking
        ordered = (
            ("impact", Tier.PAUSE_NOW, impact_rule & calm),
            ("spin", Tier.PAUSE_NOW, spin_rule & calm),
            ("drop", Tier.PAUSE_NOW, drop & calm),
            ("free_fall", Tier.PAUSE_NOW, free_rule & calm),
            (
                "model",
                Tier.PAUSE_NOW,
                (held("model", s.model >= self._model_logit) >= cfg.model_hold_s - _EPS)
                & s.walking,
            ),
            ("fall", Tier.CONFIRMED_FALL, fall_rule | still_rule),
            ("lying", Tier.CONFIRMED_FALL, lying_rule),
        )
        for priority, (kind, tier, cond) in enumerate(ordered):
            if tier == Tier.PAUSE_NOW and kind not in cfg.tier1_kinds:
                continue  # switched off: it still counts as a phase for tier 2
            edges = rising(cond, stream.rules.get(kind, False))
            stream.rules[kind] = bool(cond[-1])
            candidates.extend(
                (index, priority, tier, kind)
                for index in map(int, np.flatnonzero(edges))
            )
        candidates.sort()
        detections = []
        for index, _priority, tier, kind in candidates:
            now = float(ts[index])
            before = self._fired[tier]
            if before > self._rearmed_after and now - before < cfg.refractory_s:
                continue
            if (
                kind == "lying"
                and self._fired[tier] >= lying_start[index] - cfg.fall_context_s
            ):
                continue  # the fall that laid the walker down was confirmed
            self._fired[tier] = now
            # Gait windows holding this event say nothing about the gait.
            self._gait_quiet_until = max(
                self._gait_quiet_until, now + cfg.gait_window_s
            )
            detections.append(
                Detection(
                    tier=tier,
                    kind=kind,
                    time_ns=int(s.times[index]),
                    features=self._features(stream, s, index),
                )
            )
        return detections

    def _features(self, stream: _Stream, s: _Signals, index: int) -> dict[str, float]:
        """Key values over the half second up to a detection."""
        since = s.ts[index] - _FEATURE_LOOKBACK_S
        start = int(np.searchsorted(s.ts[: index + 1], since, side="left"))
        recent = np.stack(
            (
                s.ts[start : index + 1],
                s.acc_g[start : index + 1],
                s.rate[start : index + 1],
            ),
            axis=1,
        )
        if start == 0:
            recent = np.concatenate((stream.tail, recent), axis=0)
            recent = recent[recent[:, 0] >= since]
        self.work += int(recent.shape[0])
        return {
            "peak_gyro": round(float(recent[:, 2].max()), 3),
            "tilt_deg": round(float(s.tilt[index]), 1),
            "min_acc_g": round(float(recent[:, 1].min()), 3),
            "max_acc_g": round(float(recent[:, 1].max()), 3),
            "vertical_speed": round(float(s.speed[index]), 3),
            "model_p": round(float(probability(s.model[index : index + 1])[0]), 3),
        }

    # --- tier 3 -----------------------------------------------------------------

    def _claim_unsteady(self, now: float) -> bool:
        """Whether a tier-3 notice may fire at ``now`` (marked as fired if so)."""
        cfg = self.config
        if now - self._fired[Tier.UNSTEADY] < max(
            cfg.refractory_s, cfg.unsteady_refractory_s
        ):
            return False
        self._fired[Tier.UNSTEADY] = now
        return True

    def _recovered(
        self, stream: _Stream, s: _Signals, detections: list[Detection]
    ) -> list[Detection]:
        """Tier 3 ``stumble``: a tier-1 pause the walker recovered from."""
        cfg = self.config
        last_tilted = last_true(
            s.tilt >= cfg.recovered_tilt_deg, s.ts, stream.last_tilted
        )
        stream.last_tilted = float(last_tilted[-1])
        pauses = [stream.pending] if stream.pending is not None else []
        pauses += [
            (d.time_ns - (self._origin_ns or 0)) / _NS
            for d in detections
            if d.tier == Tier.PAUSE_NOW
        ]
        stream.pending = None
        found: list[Detection] = []
        for pause in pauses:
            ok = (
                (s.ts >= pause + cfg.recovered_after_s - _EPS)
                & (s.ts <= pause + cfg.recovered_window_s)
                & (s.ts - last_tilted >= cfg.recovered_hold_s - _EPS)
            )
            if not ok.any():
                if s.ts[-1] < pause + cfg.recovered_window_s:
                    stream.pending = pause
                continue
            index = int(np.argmax(ok))
            now = float(s.ts[index])
            if pause <= self._fired[Tier.CONFIRMED_FALL] <= now:
                continue  # it was a fall
            if not self._claim_unsteady(now):
                continue
            found.append(
                Detection(
                    tier=Tier.UNSTEADY,
                    kind="stumble",
                    time_ns=int(s.times[index]),
                    features={
                        "after_pause_s": round(now - pause, 2),
                        "tilt_deg": round(float(s.tilt[index]), 1),
                    },
                )
            )
        return found

    def _unsteady(
        self, stream: _Stream, s: _Signals, vertical_g: FloatArray
    ) -> list[Detection]:
        cfg = self.config
        detections = []
        before = self._gait.work
        windows = self._gait.feed(s.ts, vertical_g)
        self.work += self._gait.work - before
        for index, window in windows:
            if not window.gait or s.ts[index] < self._gait_quiet_until:
                stream.unsteady_run = 0
                continue
            if not self.baseline_ready:
                self._add_baseline(window)
                continue
            irregular = (
                window.regularity
                <= self._baseline_regularity - cfg.unsteady_regularity_drop
            )
            variable = not math.isnan(window.stride_cv) and window.stride_cv >= max(
                cfg.unsteady_cv_ratio * self._baseline_cv, cfg.unsteady_cv_min
            )
            if not (irregular or variable):
                stream.unsteady_run = 0
                continue
            stream.unsteady_run += 1
            if stream.unsteady_run < cfg.unsteady_windows:
                continue
            stream.unsteady_run = 0
            now = float(s.ts[index])
            if not self._claim_unsteady(now):
                continue
            detections.append(
                Detection(
                    tier=Tier.UNSTEADY,
                    kind="unsteady",
                    time_ns=int(s.times[index]),
                    features={
                        "stride_regularity": round(window.regularity, 3),
                        "baseline_regularity": round(self._baseline_regularity, 3),
                        "stride_cv": _rounded(window.stride_cv),
                        "baseline_cv": _rounded(self._baseline_cv),
                        "stride_s": round(window.stride_s, 2),
                    },
                )
            )
        return detections

    def _add_baseline(self, window: GaitWindow) -> None:
        self._baseline.append(window)
        if not self.baseline_ready:
            return
        self._baseline_regularity = float(
            np.median([w.regularity for w in self._baseline])
        )
        cvs = [w.stride_cv for w in self._baseline if not math.isnan(w.stride_cv)]
        # Without a measured variability the CV rule compares to its floor only.
        self._baseline_cv = float(np.median(cvs)) if cvs else 0.0


def _rounded(value: float) -> float:
    """Round a CV for the features; -1 stands for "not measured"."""
    return -1.0 if math.isnan(value) else round(value, 4)
