"""The demo's seeded history: real session records, plausible, never over a user's."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import importlib.util
import itertools
import json
from pathlib import Path
import sys
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.retro_walk.session import (
    SPEED_CAP_KMH,
    STARTER_MAX_SPEED_KMH,
    EndReason,
    Experience,
    PhaseKind,
    ProgramKind,
    SessionRecord,
    suggest_backward_minutes,
    weekly_summary,
)
from tests.test_onboard import _entries, _onboard

REPO_ROOT = Path(__file__).resolve().parents[1]
MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 11, 29, 15, 37, tzinfo=MADRID)  # a Sunday
ANA = "01JRWDEMOWALKERANA00000000"
LUIS = "01JRWDEMOWALKERLUIS0000000"
EXPERIENCE = {ANA: Experience.BEGINNER, LUIS: Experience.INTERMEDIATE}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, REPO_ROOT / "scripts" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


demo_history = _load("demo_history")


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """The seeded sessions, as stored."""
    return demo_history.generate_records(NOW)


@pytest.fixture(scope="module")
def parsed(records: list[dict[str, Any]]) -> dict[str, list[SessionRecord]]:
    """The seeded sessions read back by the integration, per walker."""
    per_walker: dict[str, list[SessionRecord]] = defaultdict(list)
    for item in records:
        record = SessionRecord.from_dict(item)
        assert record.as_dict() == item  # nothing lost or added
        assert record.walker_id is not None
        per_walker[record.walker_id].append(record)
    return per_walker


def test_sessions_of_both_walkers_over_weeks(
    records: list[dict[str, Any]], parsed: dict[str, list[SessionRecord]]
) -> None:
    assert set(parsed) == {ANA, LUIS}
    assert {r.walker for r in parsed[ANA]} == {"Ana"}
    assert {r.walker for r in parsed[LUIS]} == {"Luis"}
    assert 35 <= len(records) <= 60
    starts = [r["started_at"] for r in records]
    assert starts == sorted(starts)
    assert len({r["session_id"] for r in records}) == len(records)
    # Seven weeks and this one, up to yesterday.
    first = datetime.fromtimestamp(starts[0], MADRID)
    last = datetime.fromtimestamp(records[-1]["ended_at"], MADRID)
    assert timedelta(weeks=6) < NOW - first < timedelta(weeks=8)
    assert last.date() < NOW.date()
    for own in parsed.values():
        weeks = defaultdict(int)
        for record in own:
            started = datetime.fromtimestamp(record.started_at, MADRID)
            weeks[started.isocalendar()[:2]] += 1
            # Plausible local times, one station: sessions never overlap.
            assert 6 <= started.hour <= 21
        assert len(weeks) == 8
        assert all(1 <= count <= 4 for count in weeks.values())
    for before, after in itertools.pairwise(records):
        assert before["ended_at"] < after["started_at"]


def test_programs_follow_the_suggestions(
    parsed: dict[str, list[SessionRecord]],
) -> None:
    for walker_id, own in parsed.items():
        experience = EXPERIENCE[walker_id]
        for index, record in enumerate(own):
            suggested = suggest_backward_minutes(own[:index], experience)
            if record.program is ProgramKind.STARTER:
                suggested = min(max(suggested, 2.0), 3.0)
            assert record.target_backward_minutes == suggested
        # Starting where a first session starts, growing over the weeks.
        assert own[0].target_backward_minutes == (2.0 if walker_id == ANA else 3.0)
        assert own[-1].target_backward_minutes >= 3 * own[0].target_backward_minutes
        assert all(r.target_backward_minutes <= 15.0 for r in own)
    assert parsed[ANA][0].program is ProgramKind.STARTER
    assert ProgramKind.INTERVALS in {r.program for r in parsed[ANA]}
    assert ProgramKind.RATIO in {r.program for r in parsed[LUIS]}


def test_speeds_within_caps(parsed: dict[str, list[SessionRecord]]) -> None:
    for walker_id, own in parsed.items():
        cap = SPEED_CAP_KMH[EXPERIENCE[walker_id]]
        peaks = []
        for record in own:
            assert record.laps
            assert all(0 < lap.peak_speed <= cap for lap in record.laps)
            peak = record.peak_backward_speed
            assert peak is not None
            if record.program is ProgramKind.STARTER:
                assert peak <= STARTER_MAX_SPEED_KMH + 0.05
            peaks.append(peak)
        # Faster backwards in the last weeks than in the first.
        assert sum(peaks[-4:]) / 4 > sum(peaks[:4]) / 4 + 0.3


def test_pauses_safety_and_notes(parsed: dict[str, list[SessionRecord]]) -> None:
    every = [record for own in parsed.values() for record in own]
    safety = [r for r in every if r.safety_pauses]
    assert 2 <= len(safety) <= 4
    for record in safety:
        tier1 = [e for e in record.safety_events if e.tier == 1]
        assert tier1
        assert all(e.kind in {"impact", "spin", "drop", "free_fall"} for e in tier1)
        assert any(span.reason.startswith("safety:") for span in record.pause_log)
        # The next session steps back (suggest_backward_minutes).
    assert sum(r.pauses - r.safety_pauses for r in every) >= 2
    assert sum(1 for r in every for e in r.safety_events if e.tier == 3) >= 3
    assert any(r.end_reason is EndReason.STOPPED for r in every)
    assert sum(r.completed for r in every) >= len(every) - 3
    for record in every:
        assert record.backward_time > 0
        assert record.energy > 0
        assert record.distance > record.backward_distance > 0
        kinds = [lap.kind for lap in record.laps]
        assert kinds[0] is PhaseKind.WARM_UP
        assert PhaseKind.BACKWARD in kinds
        assert all(span.end is not None for span in record.pause_log)


def test_deterministic(records: list[dict[str, Any]]) -> None:
    assert demo_history.generate_records(NOW) == records
    assert demo_history.generate_records(NOW, seed=1) != records


def _station(tmp_path: Path, sessions: list[Any] | None = None) -> tuple[Path, Path]:
    """A config dir with the demo entry (and a history file if given)."""
    config_dir = tmp_path / "config"
    storage = config_dir / ".storage"
    storage.mkdir(parents=True)
    entry = {
        "domain": "retro_walk",
        "entry_id": "01TESTENTRY",
        "title": "Demo station",
        "unique_id": demo_history.ENTRY_UNIQUE_ID,
        "subentries": [
            {
                "subentry_id": ANA,
                "subentry_type": "walker",
                "title": "Ana",
                "data": {"body_mass": 62.0, "experience": "beginner"},
            },
            {
                "subentry_id": LUIS,
                "subentry_type": "walker",
                "title": "Luis",
                "data": {"body_mass": 84.0, "experience": "intermediate"},
            },
        ],
    }
    (storage / "core.config_entries").write_text(
        json.dumps({"version": 1, "data": {"entries": [entry]}})
    )
    path = storage / "retro_walk.01TESTENTRY"
    if sessions is not None:
        path.write_text(
            json.dumps(
                {
                    "version": 1,
                    "minor_version": 1,
                    "key": "retro_walk.01TESTENTRY",
                    "data": {
                        "sessions": sessions,
                        "active": None,
                        "settings": {"walker": LUIS},
                        "unreadable": [],
                    },
                }
            )
        )
    return config_dir, path


def test_seed_writes_a_station_without_history_once(tmp_path: Path) -> None:
    config_dir, path = _station(tmp_path)
    count = demo_history.seed(config_dir, NOW)
    assert count > 30
    stored = json.loads(path.read_text())
    assert stored["key"] == "retro_walk.01TESTENTRY"
    assert (stored["version"], stored["minor_version"]) == (1, 1)
    assert stored["data"]["sessions"] == demo_history.generate_records(NOW)
    assert stored["data"]["active"] is None
    assert path.stat().st_mode & 0o077 == 0

    # Emptied since (the user deleted it): the marker keeps it empty.
    stored["data"]["sessions"] = []
    path.write_text(json.dumps(stored))
    assert demo_history.seed(config_dir, NOW) == 0
    assert json.loads(path.read_text())["data"]["sessions"] == []


def test_seed_keeps_an_empty_history_settings(tmp_path: Path) -> None:
    config_dir, path = _station(tmp_path, sessions=[])
    assert demo_history.seed(config_dir, NOW) > 30
    data = json.loads(path.read_text())["data"]
    assert data["settings"] == {"walker": LUIS}
    assert data["sessions"]


def test_seed_never_overwrites_sessions(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    mine = [records[0]]
    config_dir, path = _station(tmp_path, sessions=mine)
    before = path.read_text()
    assert demo_history.seed(config_dir, NOW) == 0
    assert path.read_text() == before
    assert not (config_dir / demo_history.SEED_MARKER).exists()


def test_seed_without_a_demo_station(tmp_path: Path) -> None:
    assert demo_history.seed(tmp_path, NOW) == 0


def test_hourly_statistics_match_the_weekly_sensor(
    records: list[dict[str, Any]],
) -> None:
    first = datetime.fromtimestamp(records[0]["started_at"], MADRID)
    start = demo_history.week_start_of(first)
    end = NOW.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    parsed = [SessionRecord.from_dict(r) for r in records]
    for walker_id in (ANA, LUIS):
        rows = demo_history.hourly_statistics(
            records, walker_id, start=start, end=end, tz=MADRID
        )
        minutes = rows[demo_history.WEEKLY_MINUTES_KEY]
        sessions = rows[demo_history.WEEKLY_SESSIONS_KEY]
        assert len(minutes) == len(sessions) == (end - start).total_seconds() / 3600
        own = [r for r in parsed if r.walker_id == walker_id]
        for row, count in zip(minutes, sessions, strict=True):
            hour_end = datetime.fromisoformat(row["start"]) + timedelta(hours=1)
            done = [r for r in own if r.ended_at < hour_end.timestamp()]
            # What the sensor (weekly_summary) showed at the end of that hour.
            week = weekly_summary(
                done,
                now=hour_end.astimezone(MADRID) - timedelta(seconds=1),
                goal_minutes=45,
            )
            assert row["state"] == week.backward_minutes
            assert count["state"] == week.sessions
            assert row["last_reset"] == week.week_start.astimezone(UTC).isoformat()
        # Sums only grow, by every session walked; imported, they end at 0.
        demo_history.offset_sums(minutes, None)
        sums = [row["sum"] for row in minutes]
        assert sums == sorted(sums)
        assert sums[-1] == 0
        walked = sum(round(r.backward_minutes, 1) for r in own)
        assert sums[-1] - sums[0] == pytest.approx(walked, abs=0.5)
        demo_history.offset_sums(minutes, (0.0, 12.5))
        assert minutes[-1]["sum"] == 12.5


def test_onboard_seeds_the_demo_station(tmp_path: Path) -> None:
    """scripts/onboard.py seeds the new station's history (once)."""
    _onboard(tmp_path)
    config_dir = tmp_path / "config"
    (entry,) = _entries(config_dir)
    path = config_dir / ".storage" / f"retro_walk.{entry['entry_id']}"
    data = json.loads(path.read_text())["data"]
    assert len(data["sessions"]) > 30
    assert {s["walker_id"] for s in data["sessions"]} == {ANA, LUIS}
    before = path.read_text()
    _onboard(tmp_path)
    assert path.read_text() == before
