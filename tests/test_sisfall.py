"""The SisFall part of the evaluation, on small fake trials (no real data)."""

from __future__ import annotations

from dataclasses import replace
import io
import json
import lzma
from pathlib import Path

import numpy as np
import pytest

from custom_components.retro_walk.detection import DetectorConfig, Tier
from custom_components.retro_walk.detection.model import FEATURES, Model
from custom_components.retro_walk.detection.signals import smoothed
from evaluation import run, sisfall, train

G = 9.80665


def _board_trial(seconds: float, *, fall_at_s: float | None = None) -> np.ndarray:
    """Board counts (6, n): standing upright, or walking then a forward fall.

    The walk is the pelvis's yaw sway (40 °/s at 1 Hz about the vertical),
    enough for the detector to see a walker on the move.
    """
    n = int(seconds * 100)
    t = np.arange(n) / 100.0
    angle = np.zeros(n)
    rate = np.zeros(n)
    if fall_at_s is not None:
        moving = (t >= fall_at_s) & (t < fall_at_s + 0.6)
        rate[moving] = np.radians(200.0)  # 120° in 0.6 s about the board x axis
        angle = np.cumsum(rate) / 100.0
    acc = np.zeros((3, n))
    acc[1] = -np.cos(angle)  # board +y down: upright reads y ≈ -1 g
    acc[2] = -np.sin(angle)  # prone reads z ≈ -1 g
    if fall_at_s is not None:
        impact = int((fall_at_s + 0.65) * 100)
        acc[1, impact] -= 4.0
    gyro = np.zeros((3, n))
    gyro[0] = -np.degrees(rate)
    if fall_at_s is not None:
        gyro[1] = np.where(t < fall_at_s, 40.0 * np.sin(2 * np.pi * t), 0.0)
    gyro += np.array([[-2.6], [1.0], [-0.35]])  # the subject's bias, °/s
    counts = np.concatenate(
        (acc * sisfall.ACC_COUNTS_PER_G, gyro * sisfall.GYRO_COUNTS_PER_DPS)
    )
    return np.rint(counts).astype(np.int32)


def _write_split(folder: Path, trials: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    deltas = {
        name: np.diff(a, axis=1, prepend=0).astype(np.int16)
        for name, a in trials.items()
    }
    np.savez(buffer, **deltas)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / sisfall.DATA_FILE).write_bytes(lzma.compress(buffer.getvalue()))


@pytest.fixture
def split(tmp_path: Path) -> Path:
    folder = tmp_path / "sisfall-dev"
    _write_split(
        folder,
        {
            "D01_SA01_R01": _board_trial(20.0),
            "D07_SA01_R01": _board_trial(12.0),
            "F01_SA01_R01": _board_trial(15.0, fall_at_s=7.0),
        },
    )
    return folder


def test_trials_in_phone_frame_si_units_without_bias(
    split: Path, tmp_path: Path
) -> None:
    trials = {t.name: t for t in sisfall.trials(split, tmp_path / "cache")}
    assert list(trials) == ["D01_SA01_R01", "D07_SA01_R01", "F01_SA01_R01"]
    standing = trials["D01_SA01_R01"]
    # Upright phone in portrait: y ≈ +1 g; the bias is gone from the gyroscope.
    np.testing.assert_allclose(standing.acc.mean(axis=0), [0.0, G, 0.0], atol=0.02)
    np.testing.assert_allclose(standing.gyro, 0.0, atol=0.002)
    fall = trials["F01_SA01_R01"]
    assert fall.code == "F01"
    assert fall.subject == "SA01"
    # x = -x_board for the gyroscope as for the accelerometer.
    assert fall.gyro[:, 0].max() == pytest.approx(np.radians(200.0), rel=0.01)
    # Cached: a second load reads the decoded counts.
    assert list((tmp_path / "cache").glob("counts-*.npz"))
    again = sisfall.trials(split, tmp_path / "cache")
    np.testing.assert_array_equal(again[2].acc, fall.acc)


def test_truth_onset_45_and_impact(split: Path, tmp_path: Path) -> None:
    fall = sisfall.trials(split, tmp_path)[2]
    truth = sisfall.truth(fall)
    assert truth.reached_45
    assert 695 <= truth.onset <= 710  # leaves the sway range as it starts
    assert 718 <= truth.at_45 <= 728  # 45° at 200°/s: 0.225 s in
    assert truth.impact == 765
    assert sisfall.stumble_moment(fall) >= 700


def test_session_lead_in_and_messages(split: Path, tmp_path: Path) -> None:
    trials = sisfall.trials(split, tmp_path)
    leads = sisfall.lead_ins(trials)
    assert leads["SA01"][0].shape == (int(sisfall.LEAD_IN_S * 100), 3)
    s = sisfall.session(3, trials[2], leads["SA01"])
    assert s.trial_start == 1200
    assert (np.diff(s.time_ns) == 10_000_000).all()
    styles = [sisfall.style(i) for i in range(4)]
    assert [st.platform for st in styles] == ["android", "ios", "android", "ios"]
    assert all(0.1 <= st.batch_s <= 0.2 for st in styles)


def test_outcomes_score_and_table(split: Path, tmp_path: Path) -> None:
    outcomes = sisfall.outcomes(
        lambda _subject: DetectorConfig(), split, tmp_path, jobs=1
    )
    fall = next(o for o in outcomes if o.code == "F01")
    assert fall.truth is not None
    assert any(tier == Tier.PAUSE_NOW for _, tier, _ in fall.found)
    assert any(tier == Tier.CONFIRMED_FALL for _, tier, _ in fall.found)
    scores = sisfall.score(outcomes)
    walking = scores.falls["walking"]
    assert (walking.trials, walking.tier1, walking.tier2) == (1, 1, 1)
    assert walking.leads_ms[0] > 0
    assert scores.hours["D07"] == pytest.approx(12.0 / 3600)
    text = sisfall.table({"x": scores})
    assert "| **Walking falls (F01-F07)**: tier 1 | ≥ 97 % | 1/1 (100.0 %) |" in text
    assert "**False tier 1, walking (D01-D02)** | ≤ 1/h | 0.0/h" in text


def test_score_counts_windows() -> None:
    truth = sisfall.Truth(onset=500, at_45=530, impact=570, reached_45=True, sway_deg=8)
    outcomes = [
        sisfall.Outcome(
            "F02_SA02_R01",
            [(1000, 1, "spin"), (5400, 1, "drop"), (6000, 2, "fall")],
            15.0,
            truth,
        ),
        sisfall.Outcome("F09_SA02_R01", [(9000, 1, "impact")], 15.0, truth),
        sisfall.Outcome(
            "D18_SA02_R01", [(3000, 1, "spin"), (4200, 3, "stumble")], 12.0, None, 3100
        ),
        sisfall.Outcome("D03_SA02_R01", [(-50, 1, "drop"), (10, 1, "impact")], 100.0),
    ]
    s = sisfall.score(outcomes)
    walking = s.falls["walking"]
    assert (walking.tier1, walking.early, walking.tier2) == (1, 1, 1)
    assert walking.delays_ms == [400.0]
    assert walking.leads_ms == [300.0]
    assert s.falls["sitting"].tier1 == 0
    assert (s.stumble_tier1, s.stumble_tier2) == (1, 0)
    assert s.stumble_tier3_delays_s == [pytest.approx(1.1)]
    assert s.false["D03"][Tier.PAUSE_NOW] == 1  # the lead-in's does not count


def test_fold_config_and_folds() -> None:
    assert {sisfall.fold_of(f"SA{n:02d}") for n in range(1, 13)} == set(
        range(sisfall.FOLDS)
    )
    assert isinstance(sisfall.fold_config("SA01"), DetectorConfig)


def test_missing_split_is_skipped_saying_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not sisfall.available(tmp_path)
    run.main(["--only-sisfall", "--sisfall", str(tmp_path), "--jobs", "1"])
    assert "SisFall development split not found" in capsys.readouterr().out


def test_training_is_reproducible_and_writes_loadable_weights(
    split: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train, "EPOCHS", 30)
    samples = train.extract(split, tmp_path / "cache")
    fall = next(s for s in samples if s.code == "F01")
    assert fall.features.shape == (fall.ts.shape[0], len(FEATURES))
    assert (fall.labels == 1).any()
    assert (fall.labels[fall.ts < fall.onset_s - 1.0] == 0).all()
    # Cached features give the same samples.
    again = train.extract(split, tmp_path / "cache")
    np.testing.assert_array_equal(again[2].features, fall.features)
    model = train.fit(samples)
    assert train.fit(samples) == model  # seeded
    figures = train.choose(samples, model)
    assert figures.threshold in train.THRESHOLDS
    # The weights module is valid Python giving the same model.
    namespace: dict[str, object] = {}
    source = train._weights_module(model, figures.threshold)
    exec(  # noqa: S102 - our own generated module
        compile(source.replace("from .model import Model", ""), "w", "exec"),
        {"Model": Model, "Final": object, "annotations": None},
        namespace,
    )
    assert namespace["MODEL"] == model
    # The folds file round-trips into detector settings.
    folds = tmp_path / "folds.json"
    folds.write_text(
        json.dumps(
            {"0": {**train._model_json(model, 0.9), "rules": {"lying_hold_s": 8}}}
        )
    )
    loaded = sisfall.load_fold_configs(folds)
    config = replace(DetectorConfig(), **loaded[0])  # type: ignore[arg-type]
    assert config.model == model
    assert config.lying_hold_s == 8.0


def test_one_axis_of_the_rule_grid_is_chosen_again_per_fold(
    split: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folds = tmp_path / "folds.json"
    raw = json.loads(sisfall.FOLDS_FILE.read_text())
    raw["0"]["rules"]["lying_moving_s"] = float("inf")  # "off", as Python writes it
    folds.write_text(json.dumps(raw))
    raw["0"]["rules"]["lying_moving_s"] = "inf"  # … and as it is kept
    monkeypatch.setattr(sisfall, "FOLDS_FILE", folds)
    report = train.tune_axis("impact", split, tmp_path / "cache", jobs=1)
    lines = report.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "fold 0",
        "fold 1",
        "fold 2",
        "fold 3",
        "every subject, the other rules at their defaults",
    ]
    # Strict JSON (no Infinity), read back as the same settings.
    chosen = json.loads(folds.read_text(), parse_constant=pytest.fail)
    loaded = sisfall.load_fold_configs(folds)
    assert loaded[0]["lying_moving_s"] == float("inf")
    options = [o["impact_tilt_deg"] for o in train.RULE_GRID["impact"]]
    for fold, entry in chosen.items():
        rules = entry["rules"]
        assert rules["impact_tilt_deg"] in options
        # The other rules and the model are the fold's own, untouched.
        before = {k: v for k, v in raw[fold]["rules"].items() if k != "impact_tilt_deg"}
        assert {k: v for k, v in rules.items() if k != "impact_tilt_deg"} == before
        assert entry["model"] == raw[fold]["model"]


def test_smoothed_is_batch_independent() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=700)
    dt = rng.uniform(0.005, 0.03, size=700)
    whole = smoothed(values, dt, 0.1, 0.5)
    first = smoothed(values[:300], dt[:300], 0.1, 0.5)
    rest = smoothed(values[300:], dt[300:], 0.1, float(first[-1]))
    np.testing.assert_allclose(np.concatenate((first, rest)), whole, rtol=1e-9)
    # v_k = a v_{k-1} + (1 - a) x_k
    a = np.exp(-dt[1] / 0.1)
    assert whole[1] == pytest.approx(a * whole[0] + (1 - a) * values[1])


def test_smoothed_columns_equal_one_average_each() -> None:
    """The detector's moving averages in one pass: each column as if alone."""
    rng = np.random.default_rng(2)
    values = rng.normal(size=(600, 3))
    dt = rng.uniform(0.005, 0.03, size=600)
    taus = np.array([0.1, 0.5, 1.0])
    start = np.array([0.5, -1.0, 2.0])
    together = smoothed(values, dt, taus, start)
    for k in range(3):
        alone = smoothed(values[:, k], dt, float(taus[k]), float(start[k]))
        np.testing.assert_array_equal(together[:, k], alone)
    # Split across batches (and chunks) as the detector carries its state.
    first = smoothed(values[:290], dt[:290], taus, start)
    rest = smoothed(values[290:], dt[290:], taus, first[-1])
    np.testing.assert_allclose(np.concatenate((first, rest)), together, rtol=1e-9)
