"""The evaluation's recordings: real sessions and sessions with injected events.

Real data (false-alarm rates):

- HAPT *static* sessions: from the first ``standing`` sample of an experiment
  up to the first ``stand_to_lie`` transition: standing, stand-to-sit,
  sitting, sit-to-stand, standing (about one minute each).
- HAPT *locomotion* sessions: from the first walking sample to the last
  walking/stairs sample: walking, walking upstairs and downstairs, with the
  unlabelled turns and pauses between bouts (about three minutes each).
- gaitpy: the lower-back walking of the demo file, without the first and last
  20 s where the device is being put on and taken off.

Lying down (HAPT ``lying`` and the transitions to and from it) is left out of
the false-alarm sets: a walker lying down is what tier 2 is for.

Event sessions: 20 s of a locomotion session (the calibration and ordinary
walking), then an event injected at a moment of level walking, then 8 s.

Tier 3 (unsteady gait) is for continuous walking, as on a treadmill; HAPT
walks in 12-20 s bouts between turns and stairs. *Level* sessions join an
experiment's level-walking bouts (0.5 s trimmed at each end) and count only
tier-3 alerts — each splice is a jump in the gait's phase, so an alert whose
windows hold a splice is counted apart, as the splice's; *unsteady* sessions are the same
with every step from 20 s on stretched or shortened at random (stride-time
CV 10-25 %, see ``events.irregular_gait``); gaitpy gets both treatments.

Subjects are split at random with a fixed seed into a tuning half and a
held-out half; events for each half come from their own seeds and are
injected only into that half's subjects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from . import datasets, events
from .sensorlogger import ClientStyle, write_recording

SPLIT_SEED = 20250501
EVENT_SEEDS = {"tune": 1001, "test": 2002}
STYLE_SEED = 3003
UNSTEADY_SEED = 4004
UNSTEADY_FROM_S = 20.0
LEVEL_MIN_S = 36.0
EVENTS_PER_KIND = 40
EPOCH_START_NS = 1_714_550_400 * 1_000_000_000  # 2024-05-01T08:00:00Z
RATE_HZ = 50.0
PRE_EVENT_S = 20.0
POST_EVENT_S = 8.0
GAITPY_TRIM_S = 20.0

LOCOMOTION_LABELS = (1, 2, 3)
TIER3_GROUPS = ("level", "unsteady")
"""Recordings scored for tier 3 only (their data is in the other sets too)."""
LEVEL_WALKING = 1

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.int64]


@dataclass
class Recording:
    """One recording file to replay, with what is known about it."""

    name: str
    group: str  # "static" | "locomotion" | "gaitpy" | event kind
    split: str  # "tune" | "test"
    subject: int
    acc: FloatArray  # m/s², Android sign convention
    gyro: FloatArray | None
    labels: IntArray | None = None
    event: events.Injected | None = None
    onset_index: int = -1
    joins_s: list[float] = field(default_factory=list)
    """Where walking bouts were spliced together (s from the start)."""
    style: ClientStyle = field(default_factory=lambda: ClientStyle("android"))
    time_ns: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def hours(self) -> float:
        """Duration in hours."""
        return float(self.time_ns[-1] - self.time_ns[0]) / 3.6e12

    @property
    def onset_ns(self) -> int:
        """Epoch ns of the event onset."""
        return int(self.time_ns[self.onset_index])


def split_subjects(subjects: list[int]) -> dict[int, str]:
    """Half the subjects for tuning, half held out (seeded permutation)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(sorted(subjects))
    half = len(order) // 2
    return {int(s): ("tune" if i < half else "test") for i, s in enumerate(order)}


def _sessions(experiment: datasets.Experiment) -> list[tuple[str, int, int]]:
    labels = experiment.labels
    result = []
    standing = np.flatnonzero(labels == 5)  # noqa: PLR2004
    to_lie = np.flatnonzero(labels == 11)  # noqa: PLR2004
    if standing.size and to_lie.size and standing[0] < to_lie[0]:
        result.append(("static", int(standing[0]), int(to_lie[0])))
    moving = np.flatnonzero(np.isin(labels, LOCOMOTION_LABELS))
    if moving.size:
        result.append(("locomotion", int(moving[0]), int(moving[-1]) + 1))
    return result


def _styles(count: int) -> list[ClientStyle]:
    """Alternate Android and iOS clients, batch periods and clock offsets."""
    rng = np.random.default_rng(STYLE_SEED)
    styles = []
    for i in range(count):
        batch_s = float(rng.choice([0.5, 1.0, 2.0]))
        if i % 2 == 0:
            styles.append(
                ClientStyle(
                    "android",
                    batch_s=batch_s,
                    gyro_offset_ns=int(rng.integers(0, 10)) * 1_000_000,
                )
            )
        else:
            styles.append(ClientStyle("ios", negate=i % 4 == 1, batch_s=batch_s))
    return styles


def build(cache: Path) -> list[Recording]:
    """Every recording of the evaluation, not yet timed or written."""
    experiments = datasets.load_hapt(cache)
    split = split_subjects(sorted({e.subject for e in experiments}))
    recordings: list[Recording] = []
    locomotion: dict[str, list[Recording]] = {"tune": [], "test": []}
    for experiment in experiments:
        for group, begin, end in _sessions(experiment):
            recording = Recording(
                name=f"hapt-s{experiment.subject:02d}-e{experiment.index}-{group}",
                group=group,
                split=split[experiment.subject],
                subject=experiment.subject,
                acc=experiment.acc_g[begin:end] * datasets.STANDARD_GRAVITY,
                gyro=experiment.gyro[begin:end],
                labels=experiment.labels[begin:end],
            )
            recordings.append(recording)
            if group == "locomotion":
                locomotion[recording.split].append(recording)
    _, gaitpy_acc = datasets.load_gaitpy(cache)
    trim = int(GAITPY_TRIM_S * RATE_HZ)
    gaitpy = Recording(
        name="gaitpy-demo",
        group="gaitpy",
        split="test",
        subject=0,
        acc=gaitpy_acc[trim:-trim] * datasets.STANDARD_GRAVITY,
        gyro=None,
    )
    recordings.append(gaitpy)
    level = [_level(e, split[e.subject]) for e in experiments]
    level_sessions = [r for r in level if r is not None]
    recordings += level_sessions
    recordings += _unsteady([*level_sessions, gaitpy])
    for split_name, seed in EVENT_SEEDS.items():
        recordings += _event_recordings(locomotion[split_name], split_name, seed)
    for index, (recording, style) in enumerate(
        zip(recordings, _styles(len(recordings)), strict=True)
    ):
        recording.style = style
        recording.time_ns = _timeline(index, recording.acc.shape[0])
    return recordings


def _level(experiment: datasets.Experiment, split_name: str) -> Recording | None:
    """The experiment's level-walking bouts joined into one session."""
    walking = experiment.labels == LEVEL_WALKING
    edges = np.flatnonzero(np.diff(np.concatenate(([0], walking.astype(int), [0]))))
    trim = int(0.5 * RATE_HZ)
    pieces = [
        slice(begin + trim, end - trim)
        for begin, end in zip(edges[::2], edges[1::2], strict=True)
        if end - begin > 4 * trim
    ]
    if sum(p.stop - p.start for p in pieces) < LEVEL_MIN_S * RATE_HZ:
        return None
    return Recording(
        name=f"level-s{experiment.subject:02d}-e{experiment.index}",
        group="level",
        split=split_name,
        subject=experiment.subject,
        acc=np.concatenate([experiment.acc_g[p] for p in pieces])
        * datasets.STANDARD_GRAVITY,
        gyro=np.concatenate([experiment.gyro[p] for p in pieces]),
        joins_s=[
            float(x) / RATE_HZ
            for x in np.cumsum([p.stop - p.start for p in pieces])[:-1]
        ],
    )


def _unsteady(sources: list[Recording]) -> list[Recording]:
    """Copies of walking sessions whose steps turn irregular at 20 s."""
    rng = np.random.default_rng(UNSTEADY_SEED)
    result = []
    start = int(UNSTEADY_FROM_S * RATE_HZ)
    for source in sources:
        cv = float(rng.uniform(0.10, 0.25))
        acc, gyro = events.irregular_gait(
            source.acc, source.gyro, RATE_HZ, start, cv, rng
        )
        result.append(
            Recording(
                name=f"unsteady-{source.name}",
                group="unsteady",
                split=source.split,
                subject=source.subject,
                acc=acc,
                gyro=gyro,
                onset_index=start,
                joins_s=source.joins_s,
            )
        )
    return result


def _timeline(index: int, count: int) -> IntArray:
    """Epoch ns at 50 Hz with ±1 ms jitter, a different hour per recording."""
    rng = np.random.default_rng(index)
    step = int(1e9 / RATE_HZ)
    jitter = rng.integers(-1_000_000, 1_000_001, count)
    times = EPOCH_START_NS + index * 3_600 * 1_000_000_000 + np.arange(count) * step
    return (times + jitter).astype(np.int64)


def _event_recordings(
    sources: list[Recording], split_name: str, seed: int
) -> list[Recording]:
    rng = np.random.default_rng(seed)
    result = []
    pre = int(PRE_EVENT_S * RATE_HZ)
    post = int(POST_EVENT_S * RATE_HZ)
    for kind in events.EVENT_KINDS:
        for number in range(EVENTS_PER_KIND):
            source = sources[int(rng.integers(len(sources)))]
            assert source.labels is not None  # noqa: S101
            assert source.gyro is not None  # noqa: S101
            # An onset in level walking: the 2 s before it walking too, room
            # for the 20 s before and 8 s after inside the session.
            walking = source.labels == LEVEL_WALKING
            window = np.convolve(walking, np.ones(100), mode="full")[: walking.size]
            candidates = np.flatnonzero(
                (window >= 100) & (np.arange(walking.size) >= pre)  # noqa: PLR2004
            )
            candidates = candidates[candidates + post < walking.size]
            onset = int(candidates[int(rng.integers(candidates.size))])
            begin = onset - pre
            t_s = np.arange(onset + post + 1 - begin) / RATE_HZ
            injected = events.inject(
                kind,
                rng,
                t_s,
                source.acc[begin : onset + post + 1],
                source.gyro[begin : onset + post + 1],
                pre,
                after_s=POST_EVENT_S,
            )
            result.append(
                Recording(
                    name=f"event-{split_name}-{kind}-{number:02d}",
                    group=kind,
                    split=split_name,
                    subject=source.subject,
                    acc=injected.acc,
                    gyro=injected.gyro,
                    event=injected,
                    onset_index=pre,
                )
            )
    return result


def write_all(recordings: list[Recording], directory: Path) -> list[Path]:
    """Write every recording as Sensor Logger messages; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.jsonl"):
        old.unlink()
    paths = []
    for recording in recordings:
        path = directory / f"{recording.name}.jsonl"
        write_recording(
            path,
            recording.time_ns,
            recording.acc,
            recording.gyro,
            recording.style,
            session_id=recording.name,
            rate_hz=RATE_HZ,
        )
        paths.append(path)
    return paths
