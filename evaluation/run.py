"""Run the evaluation: build recordings, replay them, score, print the tables.

    scripts/evaluate [--cache DIR] [--jobs N] [--split tune|test|both]
                     [--sisfall DIR | --no-sisfall]

Two tables: modelled events spliced into real walking (below), then recorded
falls, stumbles and activities of the SisFall development split
(``evaluation.sisfall``; skipped, saying so, when its folder is absent).

Every recording is written as Sensor Logger push messages and replayed with
``custom_components.retro_walk.replay.replay_file`` — the code path of the
replay tool, hence of the integration's parser and detector. Deterministic:
fixed seeds, no wall-clock input (apart from the cost figure, labelled so).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
import os
from pathlib import Path
import sys

import numpy as np

from custom_components.retro_walk.detection import DetectorConfig, Tier
from custom_components.retro_walk.replay import replay_file

from . import bench, events, recordings, sisfall

DEFAULT_CACHE = Path(".cache/evaluation")
TIER1_WINDOW_S = 2.0
"""A tier-1 detection this soon after the onset counts as detecting the event."""

TARGETS = {
    "tier1_sensitivity": 0.95,
    "tier1_median_ms": 250.0,
    "tier1_p95_ms": 350.0,
    "tier1_false_per_h": 1.0,
    "tier2_sensitivity": 0.90,
    "tier2_false_per_h": 0.1,
    "cost_us": 10.0,
}


@dataclass
class Outcome:
    """What the detector did on one recording."""

    name: str
    group: str
    split: str
    hours: float
    detections: list[tuple[int, int, str]]  # (time_ns, tier, kind)
    onset_ns: int = -1
    falls: bool = False
    skipped: int = 0
    joins_ns: list[int] = field(default_factory=list)


def _replay(job: tuple[str, DetectorConfig]) -> tuple[list[tuple[int, int, str]], int]:
    path, config = job
    result = replay_file(path, config)
    return (
        [(d.time_ns, int(d.tier), d.kind) for d in result.detections],
        result.skipped,
    )


def evaluate(
    config: DetectorConfig, cache: Path, jobs: int, splits: Sequence[str]
) -> list[Outcome]:
    """Build, write and replay the recordings of ``splits``."""
    everything = [r for r in recordings.build(cache) if r.split in splits]
    paths = recordings.write_all(everything, cache / "recordings")
    work = [(str(path), config) for path in paths]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_replay, work, chunksize=4))
    else:
        results = [_replay(job) for job in work]
    outcomes = []
    for recording, (detections, skipped) in zip(everything, results, strict=True):
        outcome = Outcome(
            name=recording.name,
            group=recording.group,
            split=recording.split,
            hours=recording.hours,
            detections=detections,
            skipped=skipped,
            joins_ns=[int(recording.time_ns[0] + j * 1e9) for j in recording.joins_s],
        )
        if recording.onset_index >= 0:
            outcome.onset_ns = recording.onset_ns
            outcome.falls = recording.event is not None and recording.event.falls
        outcomes.append(outcome)
    return outcomes


@dataclass
class Scores:
    """The figures of one split."""

    detected: dict[str, tuple[int, int]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    latencies_by_kind: dict[str, list[float]] = field(default_factory=dict)
    first_kinds: Counter[str] = field(default_factory=Counter)
    tier2_detected: tuple[int, int] = (0, 0)
    tier2_latencies_ms: list[float] = field(default_factory=list)
    tier2_on_stumbles: int = 0
    stumbles: int = 0
    before_onset: int = 0
    real_hours: dict[str, float] = field(default_factory=dict)
    real_false: dict[str, Counter[int]] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    skipped_lines: int = 0
    level_hours: float = 0.0
    level_unsteady: int = 0
    level_splice_alerts: int = 0
    unsteady_detected: tuple[int, int] = (0, 0)
    unsteady_latencies_s: list[float] = field(default_factory=list)
    unsteady_before: int = 0


def score(outcomes: list[Outcome]) -> Scores:
    """Sensitivities, latencies and false alarms of a set of outcomes."""
    s = Scores()
    falls_hit = falls_total = 0
    for o in outcomes:
        s.skipped_lines += o.skipped
        if o.group in recordings.TIER3_GROUPS:
            _score_tier3(s, o)
            continue
        if o.onset_ns < 0:
            s.real_hours[o.group] = s.real_hours.get(o.group, 0.0) + o.hours
            counts = s.real_false.setdefault(o.group, Counter())
            counts.update(tier for _, tier, _ in o.detections)
            continue
        hit, total = s.detected.get(o.group, (0, 0))
        s.before_onset += sum(
            1 for t, tier, _ in o.detections if t < o.onset_ns and tier != Tier.UNSTEADY
        )
        window_end = o.onset_ns + TIER1_WINDOW_S * 1e9
        tier1 = [
            (t, k)
            for t, tier, k in o.detections
            if tier == Tier.PAUSE_NOW and o.onset_ns <= t <= window_end
        ]
        if tier1:
            hit += 1
            latency = (tier1[0][0] - o.onset_ns) / 1e6
            s.latencies_ms.append(latency)
            s.latencies_by_kind.setdefault(o.group, []).append(latency)
            s.first_kinds[tier1[0][1]] += 1
        else:
            s.missed.append(o.name)
        s.detected[o.group] = (hit, total + 1)
        tier2 = [
            t
            for t, tier, _ in o.detections
            if tier == Tier.CONFIRMED_FALL and t >= o.onset_ns
        ]
        if o.falls:
            falls_total += 1
            if tier2:
                falls_hit += 1
                s.tier2_latencies_ms.append((tier2[0] - o.onset_ns) / 1e6)
            else:
                s.missed.append(o.name + " (tier 2)")
        else:
            s.stumbles += 1
            s.tier2_on_stumbles += len(tier2)
    s.tier2_detected = (falls_hit, falls_total)
    return s


def _splice_reach_ns() -> int:
    """How long after a splice a tier-3 alert may still be the splice's doing."""
    config = DetectorConfig()
    reach = config.gait_window_s + (config.unsteady_windows - 1) * config.gait_hop_s
    return int(reach * 1e9)


def _score_tier3(s: Scores, o: Outcome) -> None:
    """Level walking: tier-3 alerts are false; unsteady: they should come."""
    unsteady = [t for t, tier, _ in o.detections if tier == Tier.UNSTEADY]
    if o.group == "level":
        s.level_hours += o.hours
        reach = _splice_reach_ns()
        spliced = [t for t in unsteady if any(0 <= t - j <= reach for j in o.joins_ns)]
        s.level_splice_alerts += len(spliced)
        s.level_unsteady += len(unsteady) - len(spliced)
        return
    hit, total = s.unsteady_detected
    s.unsteady_before += sum(1 for t in unsteady if t < o.onset_ns)
    after = [t for t in unsteady if t >= o.onset_ns]
    if after:
        s.unsteady_latencies_s.append((after[0] - o.onset_ns) / 1e9)
    else:
        s.missed.append(o.name + " (tier 3)")
    s.unsteady_detected = (hit + bool(after), total + 1)


def _pct(hit: int, total: int) -> str:
    return f"{hit}/{total} ({100.0 * hit / total:.1f} %)" if total else "-"


def _rate(count: int, hours: float) -> str:
    return f"{count / hours:.2f}/h ({count} in {hours:.2f} h)" if hours else "-"


def _quantile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def table(by_split: dict[str, Scores], cost_us: float | None) -> str:
    """The results as a markdown table, one column per split."""
    names = list(by_split)
    header = "| Metric | Target | " + " | ".join(names) + " |"
    lines = [header, "|" + "---|" * (len(names) + 2)]

    def row(metric: str, target: str, cell: object) -> None:
        values = [cell(by_split[n]) if callable(cell) else str(cell) for n in names]
        lines.append(f"| {metric} | {target} | " + " | ".join(values) + " |")

    labels = {
        "slip": "slips",
        "trip": "trips",
        "side_fall": "side falls",
        "stumble": "recovered stumbles",
    }
    for kind in events.EVENT_KINDS:
        row(
            f"Tier 1 sensitivity: {labels[kind]}",
            "",
            lambda s, kind=kind: _pct(*s.detected.get(kind, (0, 0))),
        )
    row(
        "**Tier 1 sensitivity, all events**",
        "≥ 95 %",
        lambda s: _pct(
            sum(h for h, _ in s.detected.values()),
            sum(t for _, t in s.detected.values()),
        ),
    )
    row(
        "**Tier 1 latency from onset, median**",
        "≤ 250 ms",
        lambda s: f"{_quantile(s.latencies_ms, 50):.0f} ms",
    )
    row(
        "**Tier 1 latency from onset, p95**",
        "≤ 350 ms",
        lambda s: f"{_quantile(s.latencies_ms, 95):.0f} ms",
    )
    for kind in events.EVENT_KINDS:
        row(
            f"Tier 1 latency, {labels[kind]}: median / p95",
            "",
            lambda s, kind=kind: (
                f"{_quantile(s.latencies_by_kind.get(kind, []), 50):.0f}"
                f" / {_quantile(s.latencies_by_kind.get(kind, []), 95):.0f} ms"
            ),
        )
    row(
        "Tier 1 first kind (spin / drop / free_fall / impact / model)",
        "",
        lambda s: " / ".join(
            str(s.first_kinds[k])
            for k in ("spin", "drop", "free_fall", "impact", "model")
        ),
    )
    groups = {
        "static": "HAPT standing, sitting, sit↔stand",
        "locomotion": "HAPT walking, stairs, turns",
        "gaitpy": "gaitpy lower-back walking (±8 g, no gyro)",
    }
    for group, label in groups.items():
        row(
            f"False tier-1 pauses: {label}",
            "",
            lambda s, group=group: _rate(
                s.real_false.get(group, Counter())[1], s.real_hours.get(group, 0.0)
            ),
        )
    row(
        "**False tier-1 pauses, all real data**",
        "≤ 1/h",
        lambda s: _rate(
            sum(c[1] for c in s.real_false.values()), sum(s.real_hours.values())
        ),
    )
    row("**Tier 2 sensitivity, falls**", "≥ 90 %", lambda s: _pct(*s.tier2_detected))
    row(
        "Tier 2 latency from onset, median / p95",
        "~1.5 s",
        lambda s: (
            f"{_quantile(s.tier2_latencies_ms, 50):.0f} / "
            f"{_quantile(s.tier2_latencies_ms, 95):.0f} ms"
        ),
    )
    row(
        "**False tier-2 alerts, all real data**",
        "≤ 0.1/h",
        lambda s: _rate(
            sum(c[2] for c in s.real_false.values()), sum(s.real_hours.values())
        ),
    )
    row(
        "**Tier 2 on recovered stumbles**",
        "0",
        lambda s: f"{s.tier2_on_stumbles} in {s.stumbles}",
    )
    row(
        "Tier 3 alerts on level walking (HAPT bouts spliced together)",
        "",
        lambda s: _rate(s.level_unsteady, s.level_hours),
    )
    row(
        "… alerts within reach of a splice (not counted above)",
        "",
        lambda s: str(s.level_splice_alerts),
    )
    row(
        "Tier 3 alerts, HAPT walking/stairs/turns and standing/sitting",
        "",
        lambda s: _rate(
            sum(c[3] for c in s.real_false.values()), sum(s.real_hours.values())
        ),
    )
    row(
        "Tier 3 sensitivity, irregular steps (CV 10-25 %)",
        "",
        lambda s: _pct(*s.unsteady_detected),
    )
    row(
        "Tier 3 latency from the first irregular step, median",
        "5-20 s",
        lambda s: f"{_quantile(s.unsteady_latencies_s, 50):.0f} s",
    )
    row(
        "Tier 1-2 detections in the 20 s before events",
        "0",
        lambda s: str(s.before_onset),
    )
    if cost_us is not None:
        lines.append(
            f"| Detector cost per sample (50-sample batches; this machine) | ≤ 10 µs "
            f"| {cost_us:.1f} µs" + " |" * (len(names) - 1) + " |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="scripts/evaluate", description=__doc__)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--split", choices=("tune", "test", "both"), default="both")
    parser.add_argument("--no-bench", action="store_true", help="skip the cost figure")
    parser.add_argument("--verbose", action="store_true", help="list missed events")
    parser.add_argument(
        "--sisfall",
        type=Path,
        default=sisfall.DATA_DIR,
        help="folder of the SisFall development split (default: %(default)s)",
    )
    parser.add_argument(
        "--no-sisfall", action="store_true", help="skip the recorded-motion table"
    )
    parser.add_argument(
        "--only-sisfall", action="store_true", help="only the recorded-motion table"
    )
    parser.add_argument(
        "--tune",
        action="store_true",
        help="grid-search the tier-1 thresholds on the tuning split instead",
    )
    args = parser.parse_args(argv)
    if args.tune:
        from . import tune

        jobs = max(1, args.jobs)
        sys.stdout.write("## Tier 1\n\n")
        sys.stdout.write(tune.report(*tune.tune(args.cache, jobs)) + "\n")
        sys.stdout.write("\n## Tier 3\n\n")
        sys.stdout.write(tune.report3(tune.tune3(args.cache, jobs)) + "\n")
        return 0
    if not args.only_sisfall:
        _modelled(args)
    if not args.no_sisfall:
        sys.stdout.write("\n")
        sys.stdout.write(
            sisfall.main_table(
                sisfall.fold_config, args.sisfall, args.jobs, verbose=args.verbose
            )
            + "\n"
        )
    return 0


def _modelled(args: argparse.Namespace) -> None:
    """The modelled-events table."""
    splits = ("tune", "test") if args.split == "both" else (args.split,)
    config = DetectorConfig()
    outcomes = evaluate(config, args.cache, args.jobs, splits)
    by_split = {
        ("held-out (test)" if name == "test" else "tuning"): score(
            [o for o in outcomes if o.split == name]
        )
        for name in splits
    }
    cost = None if args.no_bench else bench.detector_cost_us()
    sys.stdout.write(table(by_split, cost) + "\n")
    if args.verbose:
        for name, s in by_split.items():
            sys.stderr.write(f"\n{name}: missed {len(s.missed)}\n")
            for item in s.missed:
                sys.stderr.write(f"  {item}\n")
