"""Retro Walk on the Home Assistant release users run today, in a real process.

The suite's venv has the homeassistant that pytest-homeassistant-custom-component
pins (2026.10.4); users already run the next release. ``scripts/ha-release``
builds a second venv with it (2026.11.0 by default, ``RW_HA_RELEASE`` to
choose), and this test starts that Home Assistant on a config dir set up like
the demo's: the station must load, an Assist sentence must start a session,
and nothing may be installed at run time or logged against the integration.

Slow (a real start, and the venv the first time); run alone with
`pytest tests/e2e/test_current_release.py`.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import subprocess
from typing import TYPE_CHECKING

import pytest

from .conftest import prepare_hass_process
from .hass_process import REPO_ROOT, wait_for
from .test_conversation import STATE_TIMEOUT, start_by_voice

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .hass_process import HassProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


def _release_python() -> str:
    """The release venv's interpreter (built on first use, minutes)."""
    if python := os.environ.get("RW_HA_RELEASE_PYTHON"):
        return python
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "ha-release")],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def release_hass(tmp_path: Path, socket_enabled: None) -> Iterator[HassProcess]:
    """Home Assistant of the current release, in a process of its own."""
    process = prepare_hass_process(tmp_path, _release_python())
    try:
        yield process
    finally:
        process.kill()


def _release_version(python: str) -> str:
    return subprocess.run(
        [
            python,
            "-c",
            "from homeassistant.const import __version__; print(__version__)",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()


def test_station_and_voice_on_the_current_release(release_hass: HassProcess) -> None:
    hass = release_hass
    hass.start()
    config = hass.get("/api/config")
    assert config["version"] == _release_version(hass.python)
    # Newer than the release the unit tests run against.
    assert tuple(map(int, config["version"].split(".")[:2])) >= (2026, 11), config
    assert "retro_walk" in config["components"]

    session_state = start_by_voice(hass)
    hass.call("retro_walk", "stop_session")
    wait_for(
        f"{session_state} to be idle",
        lambda: hass.state(session_state) == "idle",
        STATE_TIMEOUT,
    )

    exit_code = hass.stop()
    assert exit_code == 0, f"Home Assistant exited with {exit_code}\n{hass.tail()}"
    log = (hass.config_dir / "home-assistant.log").read_text(encoding="utf-8")
    # Everything was pinned: Home Assistant installed nothing at run time.
    assert "Attempting install" not in log, log
    # Nothing logged against the integration above INFO: no errors, and no
    # deprecation ("will stop working in Home Assistant …") warnings.
    problems = [
        line
        for line in log.splitlines()
        if re.match(r"\S+ \S+ (WARNING|ERROR|CRITICAL) ", line)
        and "retro_walk" in line
        and "has not been tested by Home Assistant" not in line
    ]
    assert problems == [], "\n".join(problems)
