"""A session exported as a FIT file and a report, from a real Home Assistant.

Runs Home Assistant on a demo-like config dir, walks a 20-second session on the
simulated demo station, then asks for the FIT file and the clinician's report
through the REST API, as an automation or a script would. The FIT file is read
by an independent decoder (fitdecode), the CSV by the csv module, and the HTML
report is rendered by headless Chromium.

Slow (a real start, 20 s of walking); run alone with `pytest tests/e2e`.
"""

from __future__ import annotations

import csv
from datetime import datetime
import io
from pathlib import Path
import shutil
import time

import fitdecode
import pytest

from .hass_process import HassProcess, wait_for

DOMAIN = "retro_walk"
STATE = "sensor.demo_station_session_state"
SETUP_TIMEOUT = 90.0
CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _fit_messages(path: Path) -> dict[str, list[dict[str, object]]]:
    messages: dict[str, list[dict[str, object]]] = {}
    with fitdecode.FitReader(
        io.BytesIO(path.read_bytes()), check_crc=fitdecode.CrcCheck.RAISE
    ) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                fields = {field.name: field.value for field in frame.fields}
                messages.setdefault(frame.name, []).append(fields)
    return messages


def test_export(hass_process: HassProcess, tmp_path: Path) -> None:
    hass = hass_process
    hass.start()
    wait_for(
        "the station",
        lambda: hass.state(STATE) not in ("unknown", "unavailable"),
        SETUP_TIMEOUT,
    )
    assert hass.state(STATE) == "idle"

    hass.call(DOMAIN, "start_session", {"walker": "Ana"})
    time.sleep(20)
    hass.call(DOMAIN, "stop_session")
    wait_for("idle", lambda: hass.state(STATE) == "idle", 30)
    (session,) = hass.call_for_response(
        DOMAIN, "get_history", {"walker": "Ana", "limit": 1}
    )["sessions"]
    elapsed = (
        datetime.fromisoformat(str(session["ended_at"]))
        - datetime.fromisoformat(str(session["started_at"]))
    ).total_seconds()

    # The last session, as a FIT file.
    path = Path(hass.call_for_response(DOMAIN, "export_session", {})["path"])
    assert path.is_relative_to(hass.config_dir / "retro_walk" / "exports" / "Ana")
    messages = _fit_messages(path)
    (fit_session,) = messages["session"]
    assert fit_session["sport"] == "walking"
    assert abs(float(fit_session["total_elapsed_time"]) - elapsed) <= 2
    assert len(messages["record"]) >= 10
    assert len(messages["lap"]) >= 1
    # The same file was written when the session ended.
    event = hass.get("/api/states/event.demo_station_session")["attributes"]
    assert event["fit_path"] == str(path)

    # The clinician's report.
    report = hass.call_for_response(DOMAIN, "export_report", {"walker": "Ana"})
    rows = list(csv.reader(Path(report["csv"]).read_text("utf-8").splitlines()))
    assert rows[0][0] == "date"
    assert len(rows) >= 2  # a header and at least this session
    html = Path(report["html"])
    assert "<svg" in html.read_text("utf-8")
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(html.as_uri())
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert page.locator("svg").count() == 3
            browser.close()
        assert errors == []
        assert shot.stat().st_size > 10_000

    exit_code = hass.stop()
    assert exit_code == 0, f"Home Assistant exited with {exit_code}\n{hass.tail()}"
