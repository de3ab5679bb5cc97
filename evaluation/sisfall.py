"""Recorded falls, stumbles and daily activities: the SisFall development split.

    scripts/evaluate [--sisfall DIR]

SisFall (Sucerquia, López, Vargas-Bonilla, *Sensors* 17(1):198, 2017): one
IMU at the waist, 100 Hz here. ``../shared/datasets/sisfall-dev/`` holds the
development split (SA01-SA12 every fall, stumble and activity; SE01-SE05,
SE07, SE08 activities). It is read from there at run time, never copied into
the repository; the decoded counts are cached under ``.cache/sisfall/``. When
the folder is absent this part is skipped, saying so.

Each trial becomes one session of the integration:

- **frame and units**: board axes (+x right, +y down, +z forward) turned to
  a phone upright on the belt (x = -x_board, y = -y_board, z = z_board, both
  sensors), 1024 counts = 1 g → m/s², 14.375 counts = 1 °/s → rad/s, with the
  subject's gyroscope bias removed (the median rate over the subject's still
  samples: 1 s windows whose acceleration norm varies < 0.01 g SD).
- **calibration lead-in**: a session starts with the walker upright, so each
  trial is preceded by ``LEAD_IN_S`` of the same subject's own slow walking
  (D01 R01, from 1 s in), on one continuous 100 Hz timeline. The detector
  calibrates on it; only the trial itself is scored.
- **messages**: Sensor Logger push messages as the integration receives them
  (``sensorlogger.messages``), Android (``totalacceleration`` + gyroscope on a
  clock a few ms off) and iOS (``accelerometer`` + ``gravity``, half with
  iOS's default sign) alternating, 0.10-0.20 s per message, replayed through
  ``replay.replay_lines``: ``parse_message`` + ``Detector.process``.

Ground truth (offline, non-causal, from the trial alone):

- **trunk angle**: the gravity direction of a gyro-led complementary filter
  (accelerometer correction with a 1 s time constant, only while the
  acceleration is within 0.1 g of 1 g), against the mean direction before
  the fall (below); ``TRUTH_*`` constants.
- **45°**: the first sample at or beyond 45° (a fall that never gets there:
  its largest angle).
- **normal sway**: the trunk angle over the trial up to 1.5 s before the 45°
  moment; the reference direction is its mean, the sway limit its 95th
  percentile (at least 5°).
- **onset**: the last sample within the sway limit before the 45° moment.
- **impact**: the peak acceleration magnitude between the onset and 1.5 s
  after the 45° moment.
- **stumble moment** (D18): the peak rotation rate of the trial.

Scores: a fall's tier 1 counts from 1 s before its onset to 1 s after its
impact (delay = detection - onset, lead = impact - detection, negative when
it fired after the impact); tier 2 from 1 s before the onset to the end. On
activities every tier-1 or tier-2 detection is false (per hour of trial, the
lead-in not counted); D18 stumbles are scored for tier 1 (should fire), tier
2 (false) and tier 3 (delay after the stumble moment).

Cross-validation by subject: ``fold_of`` puts each subject in one of
``FOLDS`` folds; a setting tuned on SisFall (``tune_sisfall``) is chosen on
the other folds' subjects for every fold, and each trial is scored with its
own fold's choice (``FOLD_CONFIGS``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
import io
import json
import lzma
from pathlib import Path
import sys

import numpy as np
import numpy.typing as npt

from custom_components.retro_walk.detection import Detector, DetectorConfig, Tier
from custom_components.retro_walk.detection.model import Model
from custom_components.retro_walk.detection.signals import complementary, row_norm
from custom_components.retro_walk.replay import replay_lines

from .sensorlogger import ClientStyle, messages

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]

DATA_DIR = Path("../shared/datasets/sisfall-dev")
"""Relative to the repository root (``scripts/evaluate`` runs from there)."""
DATA_FILE = "sisfall_dev_100hz.npz.xz"
CACHE = Path(".cache/sisfall")
G = 9.80665
RATE_HZ = 100.0
ACC_COUNTS_PER_G = 1024.0
GYRO_COUNTS_PER_DPS = 14.375
PHONE_FROM_BOARD = np.array([-1.0, -1.0, 1.0])
"""x = -x_board, y = -y_board, z = z_board: a proper rotation (det +1)."""
LEAD_IN_CODE = "D01"
LEAD_IN_SKIP_S = 1.0
LEAD_IN_S = 12.0
EPOCH_START_NS = 1_735_718_400 * 1_000_000_000  # 2025-01-01T08:00:00Z
STYLE_SEED = 5005
FOLDS = 4

TRUTH_TAU_S = 1.0
TRUTH_GATE_G = 0.1
FALL_DEG = 45.0
SWAY_MARGIN_S = 1.5
SWAY_PERCENTILE = 95.0
SWAY_MIN_DEG = 5.0
IMPACT_AFTER_S = 1.5
HIT_BEFORE_ONSET_S = 1.0
HIT_AFTER_IMPACT_S = 1.0
TIER3_WITHIN_S = 2.0

WALKING_FALLS = tuple(f"F{n:02d}" for n in range(1, 8))
SITTING_FALLS = tuple(f"F{n:02d}" for n in range(8, 16))
STUMBLES = "D18"
ACTIVITY_GROUPS: dict[str, tuple[str, ...]] = {
    "walking (D01-D02)": ("D01", "D02"),
    "jogging (D03-D04)": ("D03", "D04"),
    "jumping (D19)": ("D19",),
    "other activities (D05-D17)": (
        "D05",
        "D06",
        "D07",
        "D08",
        "D09",
        "D10",
        "D11",
        "D12",
        "D13",
        "D15",
        "D16",
        "D17",
    ),
}
ACTIVITY_LABELS = {
    "D01": "walking slowly",
    "D02": "walking quickly",
    "D03": "jogging slowly",
    "D04": "jogging quickly",
    "D05": "stairs, slowly",
    "D06": "stairs, quickly",
    "D07": "sit in a half-height chair, slowly",
    "D08": "sit in a half-height chair, quickly",
    "D09": "sit in a low chair, slowly",
    "D10": "sit in a low chair, quickly",
    "D11": "collapse into a chair",
    "D12": "sit, lie down slowly, sit again",
    "D13": "sit, lie down quickly, sit again",
    "D15": "bend at the knees",
    "D16": "bend without bending the knees",
    "D17": "get into and out of a car",
    "D19": "gentle jump",
}
TARGETS = {
    "walking_tier1": 0.97,
    "lead_median_ms": 400.0,
    "lead_p5_ms": 100.0,
    "walking_tier2": 0.95,
    "stumble_tier1": 0.90,
    "walking_false_per_h": 1.0,
    "other_false_per_h": 5.0,
    "jogging_false_per_h": 10.0,
    "tier2_false_per_h": 0.5,
}


@dataclass(frozen=True)
class Trial:
    """One trial in the phone frame, SI units, the subject's gyro bias removed."""

    name: str
    acc: FloatArray  # m/s², (n, 3)
    gyro: FloatArray  # rad/s, (n, 3)

    @property
    def code(self) -> str:
        """Activity or fall code, e.g. ``F02``."""
        return self.name.split("_")[0]

    @property
    def subject(self) -> str:
        """Subject id, e.g. ``SA03``."""
        return self.name.split("_")[1]


@dataclass(frozen=True)
class Truth:
    """Offline landmarks of a trial (sample indices into the trial)."""

    onset: int
    at_45: int
    impact: int
    reached_45: bool
    sway_deg: float


FOLDS_FILE = Path(__file__).with_name("sisfall_folds.json")
"""Per fold, the learned tier-1 rule trained and thresholded on the other
folds' subjects only (``scripts/train_detector``, ``evaluation/train.py``)."""


def load_fold_configs(path: Path = FOLDS_FILE) -> dict[int, dict[str, object]]:
    """``FOLD_CONFIGS`` from the folds file (empty without one)."""
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    result: dict[int, dict[str, object]] = {}
    for fold, entry in raw.items():
        weights = entry["model"]
        model = Model(
            mean=tuple(weights["mean"]),
            scale=tuple(weights["scale"]),
            hidden=tuple(tuple(row) for row in weights["hidden"]),
            hidden_bias=tuple(weights["hidden_bias"]),
            out=tuple(weights["out"]),
            out_bias=float(weights["out_bias"]),
        )
        result[int(fold)] = {
            "model": model,
            "model_threshold": float(entry["model_threshold"]),
            "model_hold_s": float(entry["model_hold_s"]),
            **rule_values(entry.get("rules", {})),
        }
    return result


def rule_values(rules: Mapping[str, object]) -> dict[str, object]:
    """Detector settings from JSON values (lists become tuples, numbers floats).

    An infinite value ("off") is written as the string "inf".
    """
    return {
        name: tuple(value) if isinstance(value, (list, tuple)) else float(value)  # type: ignore[arg-type]
        for name, value in rules.items()
    }


FOLD_CONFIGS: dict[int, dict[str, object]] = load_fold_configs()
"""Per fold, the settings chosen without that fold's subjects (empty: the
detector's defaults)."""


def fold_config(subject: str) -> DetectorConfig:
    """The detector settings a subject is scored with (cross-validation)."""
    return replace(DetectorConfig(), **FOLD_CONFIGS.get(fold_of(subject), {}))


def fold_of(subject: str) -> int:
    """The cross-validation fold of a subject (SA and SE spread evenly)."""
    return (int(subject[2:]) - 1) % FOLDS


def available(data_dir: Path = DATA_DIR) -> bool:
    """The development split is there to read."""
    return (data_dir / DATA_FILE).is_file()


def load_counts(
    data_dir: Path = DATA_DIR, cache: Path = CACHE
) -> dict[str, npt.NDArray[np.int16]]:
    """Every trial's raw counts, (6, n) int16, decoded once into ``cache``."""
    source = data_dir / DATA_FILE
    stat = source.stat()
    cached = cache / f"counts-{stat.st_size}-{int(stat.st_mtime)}.npz"
    if not cached.is_file():
        with lzma.open(source) as stream:
            packed = np.load(io.BytesIO(stream.read()))
            counts = {
                name: np.cumsum(packed[name].astype(np.int32), axis=1).astype(np.int16)
                for name in packed.files
            }
        cache.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".tmp.npz")
        np.savez(partial, **counts)  # type: ignore[arg-type]
        partial.replace(cached)
        return counts
    with np.load(cached) as stored:
        return {name: stored[name] for name in stored.files}


def gyro_biases(counts: Mapping[str, npt.NDArray[np.int16]]) -> dict[str, FloatArray]:
    """Per subject, the median gyroscope counts over still samples."""
    still: dict[str, list[npt.NDArray[np.int16]]] = {}
    window = int(RATE_HZ)
    for name, trial in counts.items():
        norm = np.sqrt((trial[:3].astype(np.float64) ** 2).sum(axis=0))
        if norm.shape[0] < 2 * window:
            continue
        sums = np.cumsum(np.concatenate(([0.0], norm)))
        squares = np.cumsum(np.concatenate(([0.0], norm * norm)))
        mean = (sums[window:] - sums[:-window]) / window
        var = (squares[window:] - squares[:-window]) / window - mean * mean
        quiet = np.sqrt(np.maximum(var, 0.0)) < 0.01 * ACC_COUNTS_PER_G
        starts = np.flatnonzero(quiet[::window]) * window
        if starts.shape[0]:
            rows = np.concatenate([trial[3:, s : s + window] for s in starts], axis=1)
            still.setdefault(name.split("_")[1], []).append(rows)
    return {
        subject: np.median(np.concatenate(parts, axis=1), axis=1).astype(np.float64)
        for subject, parts in still.items()
    }


def trials(data_dir: Path = DATA_DIR, cache: Path = CACHE) -> list[Trial]:
    """Every trial of the split, in name order."""
    counts = load_counts(data_dir, cache)
    biases = gyro_biases(counts)
    result = []
    for name in sorted(counts):
        raw = counts[name].astype(np.float64)
        bias = biases.get(name.split("_")[1], np.zeros(3))
        acc = raw[:3].T * (G / ACC_COUNTS_PER_G) * PHONE_FROM_BOARD
        gyro = np.radians((raw[3:].T - bias) / GYRO_COUNTS_PER_DPS) * PHONE_FROM_BOARD
        result.append(Trial(name, acc, gyro))
    return result


def trunk_angle(acc: FloatArray, gyro: FloatArray) -> FloatArray:
    """Offline unit gravity direction per sample (gyro-led, gated correction)."""
    n = acc.shape[0]
    dt = np.full(n, 1.0 / RATE_HZ)
    acc_g = row_norm(acc) / G
    weight = np.clip(1.0 - np.abs(acc_g - 1.0) / TRUTH_GATE_G, 0.0, 1.0)
    alpha = dt / TRUTH_TAU_S * weight
    start = acc[: min(50, n)].mean(axis=0)
    gravity = complementary(acc, gyro, dt, alpha, start)
    down: FloatArray = gravity / row_norm(gravity)[:, None]
    return down


def _angle(down: FloatArray, reference: FloatArray) -> FloatArray:
    unit = reference / np.linalg.norm(reference)
    angle: FloatArray = np.degrees(np.arccos(np.clip(down @ unit, -1.0, 1.0)))
    return angle


def truth(trial: Trial) -> Truth:
    """Onset, 45° moment and impact of a fall (see the module docstring)."""
    down = trunk_angle(trial.acc, trial.gyro)
    tilt = _angle(down, trial.acc[: int(RATE_HZ)].mean(axis=0))
    over = np.flatnonzero(tilt >= FALL_DEG)
    reached = over.shape[0] > 0
    at_45 = int(over[0]) if reached else int(np.argmax(tilt))
    normal = max(at_45 - int(SWAY_MARGIN_S * RATE_HZ), int(0.5 * RATE_HZ))
    tilt = _angle(down, down[:normal].mean(axis=0))
    if reached:
        over = np.flatnonzero(tilt >= FALL_DEG)
        at_45 = int(over[0]) if over.shape[0] else at_45
    sway = max(float(np.percentile(tilt[:normal], SWAY_PERCENTILE)), SWAY_MIN_DEG)
    inside = np.flatnonzero(tilt[:at_45] <= sway)
    onset = int(inside[-1]) if inside.shape[0] else 0
    end = min(trial.acc.shape[0], at_45 + int(IMPACT_AFTER_S * RATE_HZ))
    impact = onset + int(np.argmax(row_norm(trial.acc[onset:end])))
    return Truth(onset, at_45, impact, reached, sway)


def stumble_moment(trial: Trial) -> int:
    """The sample of the trial's peak rotation rate."""
    return int(np.argmax(row_norm(trial.gyro)))


# --- sessions as Sensor Logger messages -----------------------------------------


def lead_ins(all_trials: Sequence[Trial]) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Per subject, the calibration lead-in: their own slow walking."""
    begin = int(LEAD_IN_SKIP_S * RATE_HZ)
    end = begin + int(LEAD_IN_S * RATE_HZ)
    return {
        t.subject: (t.acc[begin:end], t.gyro[begin:end])
        for t in all_trials
        if t.code == LEAD_IN_CODE and t.name.endswith("_R01")
    }


def style(index: int) -> ClientStyle:
    """Android and iOS alternating, 0.10-0.20 s messages (seeded per trial)."""
    rng = np.random.default_rng((STYLE_SEED, index))
    batch_s = float(rng.choice([0.10, 0.12, 0.15, 0.18, 0.20]))
    if index % 2 == 0:
        return ClientStyle(
            "android",
            batch_s=batch_s,
            gyro_offset_ns=int(rng.integers(1, 10)) * 1_000_000,
        )
    return ClientStyle("ios", negate=index % 4 == 1, batch_s=batch_s)


@dataclass(frozen=True)
class Session:
    """A trial with its lead-in on one timeline."""

    time_ns: IntArray
    acc: FloatArray
    gyro: FloatArray
    trial_start: int
    """Index of the trial's first sample."""

    def trial_ns(self, index: int) -> int:
        """Epoch ns of the trial's sample ``index``."""
        return int(self.time_ns[self.trial_start + index])


def session(
    index: int, trial: Trial, lead_in: tuple[FloatArray, FloatArray]
) -> Session:
    """The session the integration would see for ``trial``."""
    acc = np.concatenate((lead_in[0], trial.acc))
    gyro = np.concatenate((lead_in[1], trial.gyro))
    step = int(1e9 / RATE_HZ)
    start = EPOCH_START_NS + index * 3_600 * 1_000_000_000
    time_ns = (start + np.arange(acc.shape[0]) * step).astype(np.int64)
    return Session(time_ns, acc, gyro, lead_in[0].shape[0])


type Found = list[tuple[int, int, str]]
"""Detections: (time relative to the trial start in ms, tier, kind)."""


def _replay(
    job: tuple[int, Trial, tuple[FloatArray, FloatArray], DetectorConfig],
) -> Found:
    index, trial, lead_in, config = job
    s = session(index, trial, lead_in)
    lines = messages(s.time_ns, s.acc, s.gyro, style(index), trial.name, RATE_HZ)
    result = replay_lines(lines, Detector(config))
    zero = s.trial_ns(0)
    return [
        ((d.time_ns - zero) // 1_000_000, int(d.tier), d.kind)
        for d in result.detections
    ]


def _run_direct(
    job: tuple[int, Trial, tuple[FloatArray, FloatArray], DetectorConfig],
) -> Found:
    """As ``_replay``, but the arrays straight into the detector (faster, for tuning)."""
    index, trial, lead_in, config = job
    s = session(index, trial, lead_in)
    detector = Detector(config)
    rows = np.concatenate((s.acc, s.gyro), axis=1)
    detections = []
    for begin in range(0, rows.shape[0], 500):
        detections += detector.run(
            s.time_ns[begin : begin + 500], rows[begin : begin + 500]
        )
    zero = s.trial_ns(0)
    return [((d.time_ns - zero) // 1_000_000, int(d.tier), d.kind) for d in detections]


# --- scoring ----------------------------------------------------------------------


@dataclass
class Outcome:
    """What the detector did on one trial, with the trial's ground truth."""

    name: str
    found: Found
    duration_s: float
    truth: Truth | None = None
    stumble_ms: int = -1

    @property
    def code(self) -> str:
        """The trial's code."""
        return self.name.split("_")[0]


def outcomes(
    configs: Callable[[str], DetectorConfig],
    data_dir: Path = DATA_DIR,
    cache: Path = CACHE,
    jobs: int = 1,
    *,
    direct: bool = False,
) -> list[Outcome]:
    """Replay every trial; ``configs`` gives the detector settings per subject.

    ``direct``: feed the arrays to the detector rather than Sensor Logger
    messages through the parser (faster; for tuning).
    """
    everything = trials(data_dir, cache)
    leads = lead_ins(everything)
    work = [
        (index, trial, leads[trial.subject], configs(trial.subject))
        for index, trial in enumerate(everything)
    ]
    run = _run_direct if direct else _replay
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            found = list(pool.map(run, work, chunksize=8))
    else:
        found = [run(job) for job in work]
    result = []
    for trial, detections in zip(everything, found, strict=True):
        outcome = Outcome(trial.name, detections, trial.acc.shape[0] / RATE_HZ)
        if trial.code.startswith("F"):
            outcome.truth = truth(trial)
        elif trial.code == STUMBLES:
            outcome.stumble_ms = int(stumble_moment(trial) * 1000 / RATE_HZ)
        result.append(outcome)
    return result


@dataclass
class FallScores:
    """Tier 1 and 2 on one set of falls."""

    trials: int = 0
    tier1: int = 0
    tier2: int = 0
    delays_ms: list[float] = field(default_factory=list)
    leads_ms: list[float] = field(default_factory=list)
    onset_to_impact_ms: list[float] = field(default_factory=list)
    early: int = 0
    """Tier-1 detections before the counting window (walking before the fall)."""
    missed: list[str] = field(default_factory=list)


@dataclass
class Scores:
    """Every figure of the real-data table."""

    falls: dict[str, FallScores] = field(default_factory=dict)
    stumbles: int = 0
    stumble_tier1: int = 0
    stumble_tier2: int = 0
    stumble_tier3_delays_s: list[float] = field(default_factory=list)
    stumble_tier1_delays_ms: list[float] = field(default_factory=list)
    hours: dict[str, float] = field(default_factory=dict)
    false: dict[str, Counter[int]] = field(default_factory=dict)
    kinds: dict[str, Counter[str]] = field(default_factory=dict)


def _score_fall(s: FallScores, o: Outcome) -> None:
    assert o.truth is not None  # noqa: S101 - falls have one
    ms = 1000.0 / RATE_HZ
    onset, impact = o.truth.onset * ms, o.truth.impact * ms
    s.trials += 1
    s.onset_to_impact_ms.append(impact - onset)
    begin = onset - HIT_BEFORE_ONSET_S * 1000
    tier1 = [
        t
        for t, tier, _ in o.found
        if tier == Tier.PAUSE_NOW and begin <= t <= impact + HIT_AFTER_IMPACT_S * 1000
    ]
    s.early += sum(1 for t, tier, _ in o.found if tier == Tier.PAUSE_NOW and t < begin)
    if tier1:
        s.tier1 += 1
        s.delays_ms.append(tier1[0] - onset)
        s.leads_ms.append(impact - tier1[0])
    else:
        s.missed.append(o.name)
    if any(tier == Tier.CONFIRMED_FALL and t >= begin for t, tier, _ in o.found):
        s.tier2 += 1
    else:
        s.missed.append(o.name + " (tier 2)")


def score(all_outcomes: Sequence[Outcome]) -> Scores:
    """The figures of a set of outcomes."""
    s = Scores()
    for o in all_outcomes:
        code = o.code
        if o.truth is not None:
            group = "walking" if code in WALKING_FALLS else "sitting"
            for key in (group, code):
                _score_fall(s.falls.setdefault(key, FallScores()), o)
            continue
        if code == STUMBLES:
            s.stumbles += 1
            tier1 = [t for t, tier, _ in o.found if tier == Tier.PAUSE_NOW and t >= 0]
            if tier1:
                s.stumble_tier1 += 1
                s.stumble_tier1_delays_ms.append(tier1[0] - o.stumble_ms)
            s.stumble_tier2 += sum(
                1 for t, tier, _ in o.found if tier == Tier.CONFIRMED_FALL and t >= 0
            )
            tier3 = [
                t
                for t, tier, _ in o.found
                if tier == Tier.UNSTEADY and t >= o.stumble_ms - 1000
            ]
            if tier3:
                s.stumble_tier3_delays_s.append((tier3[0] - o.stumble_ms) / 1000)
            continue
        s.hours[code] = s.hours.get(code, 0.0) + o.duration_s / 3600
        counts = s.false.setdefault(code, Counter())
        kinds = s.kinds.setdefault(code, Counter())
        for t, tier, kind in o.found:
            if t >= 0 and tier in {Tier.PAUSE_NOW, Tier.CONFIRMED_FALL}:
                counts[tier] += 1
                kinds[kind] += 1
    return s


def _pct(hit: int, total: int) -> str:
    return f"{hit}/{total} ({100.0 * hit / total:.1f} %)" if total else "-"


def _q(values: Sequence[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}" if values else "-"


def _rate(count: int, hours: float) -> str:
    return f"{count / hours:.1f}/h ({count} in {hours:.2f} h)" if hours else "-"


def _group_rate(s: Scores, codes: Sequence[str], tier: int) -> tuple[int, float]:
    count = sum(s.false.get(c, Counter())[tier] for c in codes)
    return count, sum(s.hours.get(c, 0.0) for c in codes)


def table(columns: Mapping[str, Scores]) -> str:
    """The real-data results, one column per detector (markdown)."""
    names = list(columns)
    lines = [
        "| Recorded motion (SisFall dev split) | Target | " + " | ".join(names) + " |",
        "|" + "---|" * (len(names) + 2),
    ]

    def row(label: str, target: str, cell: Callable[[Scores], str]) -> None:
        lines.append(
            f"| {label} | {target} | "
            + " | ".join(cell(columns[n]) for n in names)
            + " |"
        )

    def fall(key: str) -> Callable[[Scores], FallScores]:
        return lambda s: s.falls.get(key, FallScores())

    for key, label, targets in (
        ("walking", "**Walking falls (F01-F07)**", ("≥ 97 %", "≥ 400 / ≥ 100 ms")),
        ("sitting", "**Chair and sitting falls (F08-F15)**", ("", "")),
    ):
        get = fall(key)
        row(
            f"{label}: tier 1",
            targets[0],
            lambda s, g=get: _pct(g(s).tier1, g(s).trials),
        )
        row(
            "… lead before impact, median / 5th percentile",
            targets[1],
            lambda s, g=get: f"{_q(g(s).leads_ms, 50)} / {_q(g(s).leads_ms, 5)} ms",
        )
        row(
            "… delay after onset, median / 95th percentile",
            "",
            lambda s, g=get: f"{_q(g(s).delays_ms, 50)} / {_q(g(s).delays_ms, 95)} ms",
        )
        row(
            "… tier 2",
            "≥ 95 %" if key == "walking" else "",
            lambda s, g=get: _pct(g(s).tier2, g(s).trials),
        )
        row(
            "… onset to impact (ground truth), median",
            "",
            lambda s, g=get: f"{_q(g(s).onset_to_impact_ms, 50)} ms",
        )
    for code in (*WALKING_FALLS, *SITTING_FALLS):
        get = fall(code)
        row(
            f"{code}: tier 1 · lead median / p5 · delay median · tier 2",
            "",
            lambda s, g=get: (
                f"{_pct(g(s).tier1, g(s).trials)} · {_q(g(s).leads_ms, 50)} /"
                f" {_q(g(s).leads_ms, 5)} ms · {_q(g(s).delays_ms, 50)} ms ·"
                f" {_pct(g(s).tier2, g(s).trials)}"
            ),
        )
    row(
        "Tier 1 before a fall, > 1 s before its onset (F05: during the jog)",
        "",
        lambda s: str(
            sum(s.falls.get(k, FallScores()).early for k in ("walking", "sitting"))
        ),
    )
    row(
        "**Stumbles (D18): tier 1**",
        "≥ 90 %",
        lambda s: _pct(s.stumble_tier1, s.stumbles),
    )
    row(
        "… tier 1 after the peak rotation, median",
        "",
        lambda s: f"{_q(s.stumble_tier1_delays_ms, 50)} ms",
    )
    row("… false tier 2", "0", lambda s: f"{s.stumble_tier2} in {s.stumbles}")
    row(
        "… tier 3 after the stumble: within 2 s / median",
        "1-2 s",
        lambda s: (
            f"{sum(1 for d in s.stumble_tier3_delays_s if d <= TIER3_WITHIN_S)}/{s.stumbles}"
            f" / {np.median(s.stumble_tier3_delays_s):.1f} s"
            if s.stumble_tier3_delays_s
            else f"0/{s.stumbles}"
        ),
    )
    group_targets = {
        "walking (D01-D02)": "≤ 1/h",
        "jogging (D03-D04)": "≤ 10/h",
        "other activities (D05-D17)": "≤ 5/h",
    }
    for group, codes in ACTIVITY_GROUPS.items():
        row(
            f"**False tier 1, {group}**",
            group_targets.get(group, ""),
            lambda s, c=codes: _rate(*_group_rate(s, c, Tier.PAUSE_NOW)),
        )
    every = [c for codes in ACTIVITY_GROUPS.values() for c in codes]
    row(
        "**False tier 2, all activities (D01-D17, D19)**",
        "≤ 0.5/h",
        lambda s: _rate(*_group_rate(s, every, Tier.CONFIRMED_FALL)),
    )
    for code in every:
        row(
            f"{code} {ACTIVITY_LABELS[code]}: false tier 1 · tier 2",
            "",
            lambda s, c=code: (
                f"{_rate(*_group_rate(s, (c,), Tier.PAUSE_NOW))} ·"
                f" {_group_rate(s, (c,), Tier.CONFIRMED_FALL)[0]}"
            ),
        )
    return "\n".join(lines)


def kinds_report(s: Scores) -> str:
    """Which rules fired falsely, per activity (for --verbose)."""
    return "\n".join(
        f"{code}: {dict(kinds)}" for code, kinds in sorted(s.kinds.items()) if kinds
    )


def skipped_note(data_dir: Path) -> str:
    """What is printed when the development split is absent."""
    return (
        f"SisFall development split not found at {data_dir / DATA_FILE}:"
        " the recorded-motion table is skipped.\n"
    )


def main_table(
    configs: Callable[[str], DetectorConfig],
    data_dir: Path,
    jobs: int,
    *,
    verbose: bool = False,
) -> str:
    """Replay, score and format (the part ``scripts/evaluate`` prints)."""
    if not available(data_dir):
        return skipped_note(data_dir)
    scores = score(outcomes(configs, data_dir, CACHE, jobs))
    if verbose:
        sys.stderr.write(kinds_report(scores) + "\n")
        for key, fall in scores.falls.items():
            if key in {"walking", "sitting"} and fall.missed:
                sys.stderr.write(f"{key} missed: {', '.join(fall.missed)}\n")
    return table({"this detector, by-subject cross-validation": scores})
