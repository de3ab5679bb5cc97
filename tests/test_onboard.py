"""The demo's offline onboarding is idempotent, also after the entry migrated."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

REPO_ROOT = Path(__file__).resolve().parents[1]


def _onboard(tmp_path: Path) -> None:
    """Run scripts/onboard.py as the demo does (its own process and loop)."""
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "onboard.py"),
            "--config-dir",
            str(tmp_path / "config"),
            "--token-file",
            str(tmp_path / "token"),
            "--webhook-id-file",
            str(tmp_path / "webhook_id"),
            "--port",
            "18123",
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )


def _entries(config_dir: Path) -> list[dict]:
    path = config_dir / ".storage" / "core.config_entries"
    return [
        entry
        for entry in json.loads(path.read_text())["data"]["entries"]
        if entry["domain"] == "retro_walk"
    ]


def test_onboarding_twice_keeps_one_demo_station(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    _onboard(tmp_path)
    (entry,) = _entries(config_dir)
    # Written as the config flow writes stations today: nothing to migrate.
    assert entry["minor_version"] == 3
    assert [walker["title"] for walker in entry["subentries"]] == ["Ana", "Luis"]
    assert "body_mass" not in entry["data"]
    assert entry["unique_id"] != "demo_station"

    # A demo dir from before 1.2, migrated at its first start: the entry got a
    # random unique id. Onboarding again must recognise it, not add another.
    path = config_dir / ".storage" / "core.config_entries"
    stored = json.loads(path.read_text())
    for item in stored["data"]["entries"]:
        if item["domain"] == "retro_walk":
            item["unique_id"] = "0123456789abcdef0123456789abcdef"
    path.write_text(json.dumps(stored))
    _onboard(tmp_path)
    assert len(_entries(config_dir)) == 1


def test_demo_from_before_walker_profiles_gets_ana_and_luis(tmp_path: Path) -> None:
    """A 1.2 demo entry (one walker in its data) becomes 1.3 with the demo walkers."""
    config_dir = tmp_path / "config"
    _onboard(tmp_path)
    path = config_dir / ".storage" / "core.config_entries"
    stored = json.loads(path.read_text())
    for item in stored["data"]["entries"]:
        if item["domain"] == "retro_walk":
            item["minor_version"] = 2
            item["data"].update(body_mass=70.0, experience="beginner", weekly_goal=60)
            item["subentries"] = []
    path.write_text(json.dumps(stored))
    _onboard(tmp_path)
    (entry,) = _entries(config_dir)
    assert entry["minor_version"] == 3
    assert entry["data"] == {"name": "Demo station", "treadmill_type": "simulated"}
    assert [walker["title"] for walker in entry["subentries"]] == ["Ana", "Luis"]
    # Nothing more to do the next time.
    before = path.read_text()
    _onboard(tmp_path)
    assert path.read_text() == before
