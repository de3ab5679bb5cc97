"""Choose tier-1 thresholds on SisFall, cross-validated by subject.

    scripts/evaluate --tune-sisfall

Every grid point is run once on every trial (each session as one batch: the
detector's results do not depend on batching). For each fold the point with
the fewest errors on the *other* folds' subjects is chosen; an error is a
walking fall (F01-F07) without tier 1, a stumble (D18) without tier 1, or a
false tier 1 on an activity other than jumping (D19, which has no target).
Ties go to the earlier grid point. The choices printed are what
``sisfall.FOLD_CONFIGS`` holds; the point chosen on all subjects is the
detector's default.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
import itertools
from pathlib import Path

from custom_components.retro_walk.detection import (
    Detector,
    DetectorConfig,
    SampleBatch,
    Tier,
)

from . import sisfall

GRID: dict[str, tuple[float, ...]] = {
    "spin_rate": (2.5, 3.0),
    "spin_tilt_deg": (15.0, 22.5),
    "drop_speed": (0.8, 1.1),
    "drop_tilt_deg": (15.0, 25.0),
    "impact_pauses": (1.0, 0.0),
}
"""``impact_pauses`` 0: the pre-impact rules alone (no tier-1 ``impact``)."""

type Grid = list[dict[str, float]]


def _typed(values: dict[str, float]) -> dict[str, float | bool]:
    return {k: bool(v) if k == "impact_pauses" else v for k, v in values.items()}


def grid() -> Grid:
    """Every combination of ``GRID``."""
    names = list(GRID)
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*GRID.values())
    ]


def _run(job: tuple[int, sisfall.Trial, tuple[object, object], Grid]) -> list[int]:
    """Errors of each grid point on one trial."""
    index, trial, lead_in, points = job
    s = sisfall.session(index, trial, lead_in)  # type: ignore[arg-type]
    batch = SampleBatch(s.time_ns, s.acc, s.gyro, None, trial.name, "tune", 0)
    zero = s.trial_ns(0)
    truth = sisfall.truth(trial) if trial.code in sisfall.WALKING_FALLS else None
    errors = []
    for values in points:
        found = [
            ((d.time_ns - zero) / 1e6, d.tier)
            for d in Detector(DetectorConfig(**_typed(values))).process(batch)  # type: ignore[arg-type]
            if d.tier == Tier.PAUSE_NOW and d.time_ns >= zero
        ]
        if truth is not None:
            begin = (truth.onset / sisfall.RATE_HZ - sisfall.HIT_BEFORE_ONSET_S) * 1e3
            end = (truth.impact / sisfall.RATE_HZ + sisfall.HIT_AFTER_IMPACT_S) * 1e3
            errors.append(0 if any(begin <= t <= end for t, _ in found) else 1)
        elif trial.code == sisfall.STUMBLES:
            errors.append(0 if found else 1)
        elif trial.code.startswith("D") and trial.code != "D19":
            errors.append(len(found))
        else:
            errors.append(0)
    return errors


def tune(data_dir: Path, jobs: int) -> tuple[dict[int, dict[str, float]], str]:
    """Per fold, the point chosen on the other folds; and a report."""
    trials = sisfall.trials(data_dir)
    leads = sisfall.lead_ins(trials)
    points = grid()
    work = [(i, t, leads[t.subject], points) for i, t in enumerate(trials)]
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        errors = list(pool.map(_run, work, chunksize=16))  # type: ignore[arg-type]
    folds = [sisfall.fold_of(t.subject) for t in trials]
    chosen: dict[int, dict[str, float]] = {}
    lines = []
    for fold in [*range(sisfall.FOLDS), -1]:
        totals = [
            sum(e[p] for e, f in zip(errors, folds, strict=True) if f != fold)
            for p in range(len(points))
        ]
        best = min(range(len(points)), key=lambda p: (totals[p], p))
        lines.append(
            f"fold {fold if fold >= 0 else 'all'}: {points[best]}"
            f" ({totals[best]} errors on the other subjects)"
        )
        if fold >= 0:
            chosen[fold] = points[best]
    return chosen, "\n".join(lines)
