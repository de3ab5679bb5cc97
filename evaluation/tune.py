"""Grid search of the tier-1 thresholds on the tuning split only.

    scripts/evaluate --tune

The rule for choosing, fixed before the held-out split was scored: a grid
point is eligible when its false pauses on the tuning subjects' real data
stay ≤ 1/h (or, when no point manages that, at the fewest any point with
enough sensitivity gets) and its tier-1 sensitivity on the tuning events is
≥ 95 %; among
those the lowest p95 latency wins, then the lowest median, then the higher
(more conservative) thresholds. The winner became ``DetectorConfig``'s
defaults. ``BASE``, DESIGN.md's rule without this detector's ``drop`` rule,
is scored for comparison. Only the tuning recordings are written.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
import itertools
import json
import math
from pathlib import Path

import numpy as np

from custom_components.retro_walk.detection import (
    Detector,
    DetectorConfig,
    MessageError,
    SampleBatch,
    Tier,
    parse_message,
)

from . import recordings

GRID: dict[str, tuple[float, ...]] = {
    "spin_hold_s": (0.06, 0.08),
    "spin_tilt_deg": (20.0, 22.5, 25.0),
    "drop_speed": (0.8, 0.9),
    "drop_tilt_deg": (15.0, 18.0),
    "drop_rate": (1.5, 2.0),
}
BASE: dict[str, float] = {
    "spin_hold_s": 0.06,
    "spin_tilt_deg": 25.0,
    "drop_speed": math.inf,
}
# Tier 3 plays no part in tier 1: its windows are switched off to save time.
_NO_GAIT: dict[str, float] = {"gait_hop_s": 1e9}
WINDOW_NS = 2_000_000_000
MAX_FALSE_PER_H = 1.0
MIN_SENSITIVITY = 0.95

_loaded: list[tuple[float, int, list[SampleBatch]]] = []


@dataclass(frozen=True)
class Point:
    """The tier-1 figures of one grid point on the tuning split."""

    values: dict[str, float]
    false: int
    false_per_h: float
    sensitivity: float
    median_ms: float
    p95_ms: float


def _load(paths: list[tuple[str, float, int]]) -> None:
    """Parse every recording once per worker process."""
    for path, hours, onset in paths:
        batches = []
        with Path(path).open("rb") as stream:
            for line in stream:
                try:
                    batches.append(parse_message(json.loads(line)))
                except MessageError:
                    continue  # e.g. a last message holding only gyroscope samples
        _loaded.append((hours, onset, batches))


def _score(config: DetectorConfig) -> tuple[int, float, list[float], int]:
    false = 0
    hours = 0.0
    latencies: list[float] = []
    events = 0
    for recording_hours, onset, batches in _loaded:
        detector = Detector(config)
        first = [
            d
            for batch in batches
            for d in detector.process(batch)
            if d.tier == Tier.PAUSE_NOW
        ]
        if onset < 0:
            hours += recording_hours
            false += len(first)
            continue
        events += 1
        hits = [d.time_ns for d in first if onset <= d.time_ns <= onset + WINDOW_NS]
        if hits:
            latencies.append((hits[0] - onset) / 1e6)
    return false, hours, latencies, events


def _run(
    job: tuple[list[tuple[str, float, int]], list[dict[str, float]]],
) -> list[Point]:
    paths, grid = job
    if not _loaded:
        _load(paths)
    points = []
    for values in grid:
        config = replace(DetectorConfig(), **values, **_NO_GAIT)
        false, hours, latencies, events = _score(config)
        points.append(
            Point(
                values=values,
                false=false,
                false_per_h=false / hours,
                sensitivity=len(latencies) / events,
                median_ms=float(np.median(latencies)) if latencies else float("inf"),
                p95_ms=float(np.percentile(latencies, 95))
                if latencies
                else float("inf"),
            )
        )
    return points


def tune(cache: Path, jobs: int) -> tuple[Point, list[Point]]:
    """Score DESIGN.md's rule and the whole grid on the tuning split; best first."""
    tuning = [
        r
        for r in recordings.build(cache)
        if r.split == "tune" and r.group not in recordings.TIER3_GROUPS
    ]
    written = recordings.write_all(tuning, cache / "recordings")
    paths = [
        (str(path), r.hours, r.onset_ns if r.event is not None else -1)
        for path, r in zip(written, tuning, strict=True)
    ]
    names = list(GRID)
    grid = [BASE] + [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*GRID.values())
    ]
    shares = [grid[i::jobs] for i in range(jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        points = [
            p for part in pool.map(_run, [(paths, s) for s in shares]) for p in part
        ]
    base = next(p for p in points if p.values is BASE or p.values == BASE)
    rest = [p for p in points if p is not base]

    sensitive = [p for p in rest if p.sensitivity >= MIN_SENSITIVITY]
    # The false-pause limit, or the fewest any sensitive point achieves if
    # no point meets it (the tuning data is only ~2 h: one pause is 0.5/h).
    limit = max(
        MAX_FALSE_PER_H, min((p.false_per_h for p in sensitive), default=math.inf)
    )

    def rank(point: Point) -> tuple[bool, float, float, tuple[float, ...]]:
        eligible = point.false_per_h <= limit and point.sensitivity >= MIN_SENSITIVITY
        conservative = tuple(-point.values[n] for n in names)
        return (not eligible, point.p95_ms, point.median_ms, conservative)

    return base, sorted(rest, key=rank)


def report(base: Point, points: list[Point]) -> str:
    """The grid as a markdown table, best first, after DESIGN.md's rule."""
    names = list(GRID)
    points = [base, *points]
    lines = [
        "| " + " | ".join(names) + " | false/h | sensitivity | median ms | p95 ms |",
        "|" + "---|" * (len(names) + 4),
    ]
    lines.extend(
        "| "
        + " | ".join(f"{p.values.get(n, math.nan):g}" for n in names)
        + f" | {p.false_per_h:.2f} | {100 * p.sensitivity:.1f} % | {p.median_ms:.0f} | {p.p95_ms:.0f} |"
        for p in points
    )
    return "\n".join(lines)


GRID3: dict[str, tuple[float, ...]] = {
    "unsteady_regularity_drop": (0.2, 0.25, 0.3, 0.35),
    "unsteady_cv_min": (0.08, 0.12, 0.16),
    "unsteady_cv_ratio": (2.5, 4.0),
    "unsteady_windows": (3, 4, 5),
}


@dataclass(frozen=True)
class Point3:
    """The tier-3 figures of one grid point on the tuning split."""

    values: dict[str, float]
    false: int
    hours: float
    sensitivity: float
    median_s: float


def _run3(
    job: tuple[list[tuple[str, float, int, str, list[int]]], list[dict[str, float]]],
) -> list[Point3]:
    paths, grid = job
    loaded = []
    for path, hours, onset, group, joins in paths:
        batches = []
        with Path(path).open("rb") as stream:
            for line in stream:
                try:
                    batches.append(parse_message(json.loads(line)))
                except MessageError:
                    continue
        loaded.append((hours, onset, group, joins, batches))
    points = []
    for values in grid:
        config = replace(DetectorConfig(), **values)
        false = 0
        hours = 0.0
        latencies = []
        sessions = 0
        reach = (
            config.gait_window_s + (config.unsteady_windows - 1) * config.gait_hop_s
        ) * 1e9
        for recording_hours, onset, group, joins, batches in loaded:
            detector = Detector(config)
            times = [
                d.time_ns
                for batch in batches
                for d in detector.process(batch)
                if d.tier == Tier.UNSTEADY
            ]
            if group == "level":
                hours += recording_hours
                # Alerts a splice of two walking bouts may explain do not count.
                false += sum(
                    1 for t in times if not any(0 <= t - j <= reach for j in joins)
                )
                continue
            sessions += 1
            after = [t for t in times if t >= onset]
            if after:
                latencies.append((after[0] - onset) / 1e9)
        points.append(
            Point3(
                values=values,
                false=false,
                hours=hours,
                sensitivity=len(latencies) / max(sessions, 1),
                median_s=float(np.median(latencies)) if latencies else math.inf,
            )
        )
    return points


def tune3(cache: Path, jobs: int) -> list[Point3]:
    """Score the tier-3 grid on the tuning split; best first.

    Best: the fewest alerts on level walking, then the highest sensitivity,
    the shortest median latency and the stricter values.
    """
    tuning = [
        r
        for r in recordings.build(cache)
        if r.split == "tune" and r.group in recordings.TIER3_GROUPS
    ]
    written = recordings.write_all(tuning, cache / "recordings")
    paths = [
        (
            str(path),
            r.hours,
            r.onset_ns if r.onset_index >= 0 else -1,
            r.group,
            [int(r.time_ns[0] + j * 1e9) for j in r.joins_s],
        )
        for path, r in zip(written, tuning, strict=True)
    ]
    names = list(GRID3)
    grid = [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*GRID3.values())
    ]
    shares = [grid[i::jobs] for i in range(jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        points = [
            p for part in pool.map(_run3, [(paths, s) for s in shares]) for p in part
        ]

    def rank(point: Point3) -> tuple[int, float, float, tuple[float, ...]]:
        return (
            point.false,
            -point.sensitivity,
            point.median_s,
            tuple(-point.values[n] for n in names),
        )

    return sorted(points, key=rank)


def report3(points: list[Point3]) -> str:
    """The tier-3 grid as a markdown table, best first."""
    names = list(GRID3)
    lines = [
        "| "
        + " | ".join(names)
        + " | alerts on level walking | sensitivity | median s |",
        "|" + "---|" * (len(names) + 3),
    ]
    lines.extend(
        "| "
        + " | ".join(f"{p.values[n]:g}" for n in names)
        + f" | {p.false} in {p.hours:.2f} h | {100 * p.sensitivity:.1f} % | {p.median_s:.0f} |"
        for p in points
    )
    return "\n".join(lines)
