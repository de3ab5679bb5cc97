"""Sessions exported as FIT files and reports, through the station's services."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .common import (
    STATION_DATA,
    STATION_OPTIONS,
    async_add_station,
    async_call,
    async_history,
    async_tick,
    walker_subentry,
)
from .test_fit_export import decode

SESSION_EVENT = "event.living_room_session"


@pytest.fixture(autouse=True)
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Exports go under a config folder of the test's own."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


async def _walk(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int, **data: Any
) -> None:
    """Start a custom session, walk ``seconds`` (a pause inside), stop it."""
    await async_call(hass, "start_session", program="custom", **data)
    await async_tick(hass, freezer, seconds // 2)
    await async_call(hass, "pause_session")
    await async_tick(hass, freezer, 5)
    await async_call(hass, "resume_session")
    await async_tick(hass, freezer, seconds - seconds // 2)
    await async_call(hass, "stop_session")


async def _read(hass: HomeAssistant, path: str | Path) -> bytes:
    """A written file's bytes (read in the executor, as the tests run in the loop)."""
    return await hass.async_add_executor_job(Path(path).read_bytes)


def record_elapsed(record: dict[str, Any]) -> float:
    """Seconds from a history record's start to its end."""
    return (
        datetime.fromisoformat(record["ended_at"])
        - datetime.fromisoformat(record["started_at"])
    ).total_seconds()


async def _export(hass: HomeAssistant, service: str, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


async def test_every_finished_session_is_written_as_a_fit_file(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    config_dir: Path,
) -> None:
    await _walk(hass, freezer, 90)  # warm-up 60 s, then 30 s backwards
    finished = hass.states.get(SESSION_EVENT).attributes
    path = Path(finished["fit_path"])
    assert path.parent == config_dir / "retro_walk" / "exports" / "Ana"
    (record,) = (await async_history(hass))["sessions"]

    messages = decode(await _read(hass, path))
    (session,) = messages["session"]
    assert session["sport"] == "walking"
    assert session["sub_sport"] == "treadmill"
    elapsed = record_elapsed(record)
    assert elapsed == pytest.approx(95)  # 90 s walked, a 5 s pause
    assert session["total_elapsed_time"] == pytest.approx(elapsed, abs=2)
    assert session["total_timer_time"] == pytest.approx(90, abs=2)
    assert session["total_distance"] == pytest.approx(record["distance"], abs=1)
    assert len(messages["record"]) >= 80
    laps = messages["lap"]
    assert [lap["intensity"] for lap in laps] == ["warmup", "active"]
    pauses = [
        event
        for event in messages["event"]
        if event["event"] == "timer" and event["event_type"] == "stop_all"
    ]
    assert len(pauses) == 2  # the pause, and the end


async def test_export_session_on_demand(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _export(hass, "export_session")
    assert err.value.translation_key == "no_sessions"

    await _walk(hass, freezer, 20)
    first = (await async_history(hass))["sessions"][0]["session_id"]
    await async_tick(hass, freezer, 60)
    await _walk(hass, freezer, 40)

    latest = await _export(hass, "export_session")
    messages = decode(await _read(hass, latest["path"]))
    assert messages["session"][0]["total_timer_time"] == pytest.approx(40, abs=2)

    chosen = await _export(hass, "export_session", session_id=first)
    assert chosen["path"] != latest["path"]
    messages = decode(await _read(hass, chosen["path"]))
    assert messages["session"][0]["total_timer_time"] == pytest.approx(20, abs=2)

    with pytest.raises(ServiceValidationError) as err:
        await _export(hass, "export_session", session_id="no-such-session")
    assert err.value.translation_key == "session_not_found"


async def test_no_fit_file_when_switched_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_dir: Path
) -> None:
    await async_add_station(
        hass, STATION_DATA, options={**STATION_OPTIONS, "export_fit": False}
    )
    await _walk(hass, freezer, 20)
    assert "fit_path" not in hass.states.get(SESSION_EVENT).attributes
    exports = config_dir / "retro_walk"
    assert not await hass.async_add_executor_job(exports.exists)


async def test_a_failed_export_never_stops_the_session_ending(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with patch(
        "custom_components.retro_walk.exporter.write_fit",
        side_effect=OSError("disk full"),
    ):
        await _walk(hass, freezer, 20)
        finished = hass.states.get(SESSION_EVENT).attributes
        assert finished["event_type"] == "finished"
        assert "fit_path" not in finished
        assert "could not be exported as a FIT file: disk full" in caplog.text
        assert hass.states.get("sensor.living_room_session_state").state == "idle"
        with pytest.raises(HomeAssistantError) as err:
            await _export(hass, "export_session")
        assert err.value.translation_key == "export_failed"


async def test_export_report(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_dir: Path
) -> None:
    await async_add_station(
        hass,
        STATION_DATA,
        walkers=[walker_subentry("Ana"), walker_subentry("Luis")],
    )
    await _walk(hass, freezer, 90, walker="Ana")
    await _walk(hass, freezer, 90, walker="Luis")

    paths = await _export(hass, "export_report", walker="Ana")
    csv_path, html_path = Path(paths["csv"]), Path(paths["html"])
    assert csv_path.parent == config_dir / "retro_walk" / "exports" / "Ana"
    rows = list(csv.reader((await _read(hass, csv_path)).decode().splitlines()))
    header, *sessions = rows
    assert header[:4] == ["date", "start_time", "program", "minutes_backward"]
    assert len(sessions) == 1  # Ana's only
    assert float(sessions[0][3]) == pytest.approx(0.5, abs=0.05)
    html = (await _read(hass, html_path)).decode()
    assert html.count("<svg") == 3
    assert "Ana" in html

    # Without a walker: the selected one (Luis walked last).
    paths = await _export(hass, "export_report")
    assert Path(paths["csv"]).parent.name == "Luis"

    with pytest.raises(ServiceValidationError) as err:
        await _export(hass, "export_report", walker="Marta")
    assert err.value.translation_key == "unknown_walker"
    with pytest.raises(ServiceValidationError) as err:
        await _export(
            hass, "export_report", walker="Ana", start="2026-11-20", end="2026-11-01"
        )
    assert err.value.translation_key == "start_after_end"


async def test_report_of_a_station_without_walkers(hass: HomeAssistant) -> None:
    await async_add_station(hass, STATION_DATA, walkers=[])
    with pytest.raises(ServiceValidationError) as err:
        await _export(hass, "export_report")
    assert err.value.translation_key == "no_walker"
