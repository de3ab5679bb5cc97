"""Two walkers on the demo station, in a real Home Assistant.

The config dir is onboarded like the demo's: the simulated "Demo station"
with its walkers Ana and Luis. Everything goes through the REST API, as an
automation, a dashboard or a phone would: the walker select, start/stop with
a walker, the history filtered by walker, voice, and a refused unknown name.

Slow (a real start); run alone with `pytest tests/e2e`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from .hass_process import HassProcess, wait_for

DOMAIN = "retro_walk"
SELECT = "select.demo_station_walker"
STATE = "sensor.demo_station_session_state"
SETUP_TIMEOUT = 90.0
STATE_TIMEOUT = 30.0

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _status(hass: HassProcess, path: str, body: dict[str, object]) -> int:
    """POST ``body`` and return the HTTP status, errors included."""
    request = urllib.request.Request(
        hass.base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {hass.token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _session(hass: HassProcess, walker: str) -> None:
    hass.call(DOMAIN, "start_session", {"walker": walker})
    wait_for(f"{walker}'s session", lambda: hass.state(STATE) != "idle", STATE_TIMEOUT)
    hass.call(DOMAIN, "stop_session")
    wait_for("idle", lambda: hass.state(STATE) == "idle", STATE_TIMEOUT)


def test_walkers(hass_process: HassProcess) -> None:
    hass = hass_process
    hass.start()
    wait_for(
        "the walker select",
        lambda: hass.state(SELECT) not in ("unknown", "unavailable"),
        SETUP_TIMEOUT,
    )
    select = hass.get(f"/api/states/{SELECT}")
    assert select["attributes"]["options"] == ["Ana", "Luis"]

    def history(walker: str) -> list[dict[str, object]]:
        return hass.call_for_response(
            DOMAIN, "get_history", {"walker": walker, "limit": 1000}
        )["sessions"]

    # (The demo seeds a few weeks of sessions for both.)
    before = {walker: len(history(walker)) for walker in ("Ana", "Luis")}
    sessions_this_week = int(hass.state("sensor.ana_sessions_this_week"))
    walked = {}
    for walker in ("Ana", "Luis"):
        _session(hass, walker)
        assert hass.state(SELECT) == walker
        walked[walker] = history(walker)[0]["session_id"]
    for walker in ("Ana", "Luis"):
        sessions = history(walker)
        assert len(sessions) == before[walker] + 1
        assert {item["walker"] for item in sessions} == {walker}
        assert sessions[0]["session_id"] == walked[walker]
    assert walked["Ana"] != walked["Luis"]

    # Each walker has entities of their own.
    entities = json.loads(
        hass.template(f'{{{{ integration_entities("{DOMAIN}") | list | tojson }}}}')
    )
    for walker in ("ana", "luis"):
        assert f"sensor.{walker}_backward_minutes_this_week" in entities
        assert f"sensor.{walker}_weekly_goal_progress" in entities
    assert int(hass.state("sensor.ana_sessions_this_week")) == sessions_this_week + 1

    # By voice: Luis is selected, "start Ana's retro walk" puts Ana on the belt.
    assert hass.state(SELECT) == "Luis"
    response = hass.converse("start Ana's retro walk", "en")
    assert response["response_type"] == "action_done", response
    wait_for("Ana selected", lambda: hass.state(SELECT) == "Ana", STATE_TIMEOUT)
    hass.call(DOMAIN, "stop_session")

    # An unknown walker is refused (400) and nothing starts.
    wait_for("idle", lambda: hass.state(STATE) == "idle", STATE_TIMEOUT)
    status = _status(hass, f"/api/services/{DOMAIN}/start_session", {"walker": "Marta"})
    assert 400 <= status < 500, status
    assert hass.state(STATE) == "idle"

    exit_code = hass.stop()
    assert exit_code == 0, f"Home Assistant exited with {exit_code}\n{hass.tail()}"
