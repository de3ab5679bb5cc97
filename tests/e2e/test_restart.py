"""A session survives a Home Assistant restart safely.

Runs a real Home Assistant twice on the same config dir (set up like the demo:
onboarded, with the simulated "Demo station" entry). A session whose belt is
moving when Home Assistant stops must come back interrupted, keep
the history, and never restart the belt by itself.

Slow (two real starts); run alone with `pytest tests/e2e`.
"""

from __future__ import annotations

import json
import re
import signal
import time
from typing import Any

import pytest

from .hass_process import HassProcess, MotionStream, wait_for

DOMAIN = "retro_walk"
SETUP_TIMEOUT = 60.0  # for the integration's entities to appear after RUNNING
BELT_TIMEOUT = 60.0  # for the simulated belt to start moving
HISTORY_TIMEOUT = 90.0  # for a stopped session to reach the history
STILL_SECONDS = 5.0  # how long the belt must stay still after the restart

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _entities(hass: HassProcess) -> list[str]:
    raw = hass.template(f'{{{{ integration_entities("{DOMAIN}") | list | tojson }}}}')
    return list(json.loads(raw))


def _find(entity_ids: list[str], fragment: str) -> str:
    matches = [eid for eid in entity_ids if fragment in eid]
    assert matches, f"no entity id contains {fragment!r}: {entity_ids}"
    return min(matches, key=len)


def _speed(hass: HassProcess, entity_id: str) -> float | None:
    try:
        return float(hass.state(entity_id))
    except ValueError:
        return None  # unknown / unavailable


def _sessions(hass: HassProcess) -> list[Any]:
    response = hass.call_for_response(DOMAIN, "get_history", {})
    assert isinstance(response, dict), response
    assert isinstance(response.get("sessions"), list), response
    return list(response["sessions"])


def _key(session: Any) -> str:
    return json.dumps(session, sort_keys=True)


def _station_entities(hass: HassProcess) -> tuple[str, str]:
    """Wait for the integration's entities; return (belt speed, session state)."""

    def ready() -> list[str]:
        entity_ids = _entities(hass)
        return entity_ids if any("belt_speed" in e for e in entity_ids) else []

    entity_ids = wait_for("the retro_walk entities", ready, SETUP_TIMEOUT)
    return _find(entity_ids, "belt_speed"), _find(entity_ids, "session_state")


def _start_until_moving(hass: HassProcess, belt: str) -> float:
    hass.call(DOMAIN, "start_session")
    return wait_for(
        f"{belt} > 0",
        lambda: (speed := _speed(hass, belt)) is not None and speed > 0 and speed,
        BELT_TIMEOUT,
    )


def test_session_interrupted_by_restart(hass_process: HassProcess) -> None:
    hass = hass_process

    # First life: one finished session, then one running when HA stops.
    first_start = hass.start()
    belt, session_state = _station_entities(hass)

    _start_until_moving(hass, belt)
    hass.call(DOMAIN, "stop_session")
    finished = wait_for(
        "the first session in the history", lambda: _sessions(hass), HISTORY_TIMEOUT
    )

    speed = _start_until_moving(hass, belt)
    history_before = _sessions(hass)
    assert len(history_before) >= len(finished) >= 1

    exit_code = hass.stop()
    assert exit_code == 0, f"Home Assistant exited with {exit_code}\n{hass.tail()}"

    # Second life, same config dir.
    second_start = hass.start()
    belt, session_state = _station_entities(hass)

    state = wait_for(
        f"{session_state} to be restored",
        lambda: (
            (s := hass.state(session_state)) not in ("unknown", "unavailable") and s
        ),
        SETUP_TIMEOUT,
    )
    # Home Assistant stopped cleanly under a moving session: interrupted.
    assert state == "interrupted", f"{session_state} is {state!r} after restart"

    history_after = _sessions(hass)
    missing = {_key(s) for s in history_before} - {_key(s) for s in history_after}
    assert not missing, f"sessions lost across the restart: {missing}"

    deadline = time.monotonic() + STILL_SECONDS
    while time.monotonic() < deadline:
        assert _speed(hass, belt) == 0, f"{belt} is {hass.state(belt)!r} after restart"
        time.sleep(0.5)
    assert hass.state(session_state) in ("interrupted", "paused")

    # Nothing was pip-installed at runtime: requirements.txt has it all.
    installs = re.findall(r"Attempting install of (\S+)", hass.log_text())
    assert not installs, f"Home Assistant installed requirements at runtime: {installs}"

    hass.stop()
    print(  # noqa: T201 - shown with -s: how long the real starts took
        f"\nstarts: {first_start:.1f} s and {second_start:.1f} s; "
        f"belt reached {speed} before the restart; {len(history_after)} session(s)"
    )


def _seconds(hass: HassProcess, entity_id: str) -> float:
    """A duration sensor's state in seconds, whatever unit it shows."""
    state = hass.get(f"/api/states/{entity_id}")
    unit = state["attributes"].get("unit_of_measurement")
    factor = {"s": 1.0, "min": 60.0, "h": 3600.0}[unit]
    return float(state["state"]) * factor


def _walked(hass: HassProcess, entity_ids: list[str]) -> float:
    """Seconds walked (forwards and backwards; pauses and downtime excluded)."""
    return _seconds(hass, _find(entity_ids, "_forward_time")) + _seconds(
        hass, _find(entity_ids, "_backward_time")
    )


def test_a_crash_loses_at_most_seconds_of_a_session(hass_process: HassProcess) -> None:
    """kill -9 thirty seconds into a session: most of the walking is still there.

    Measured on the walking time, not on the elapsed time: that one counts
    from the stored start and would look right even if nothing had been saved
    since.
    """
    hass = hass_process
    hass.start()
    belt, session_state = _station_entities(hass)
    entity_ids = _entities(hass)

    # The demo station watches its motion stream: keep one flowing.
    with MotionStream(hass) as stream:
        _start_until_moving(hass, belt)
        walked = wait_for(
            "30 s of walking",
            lambda: (seconds := _walked(hass, entity_ids)) >= 30 and seconds,
            BELT_TIMEOUT + 30,
        )
        assert hass.state(session_state) not in ("paused_by_safety", "paused")
        hass.stop(signal.SIGKILL)  # no shutdown, no final save
    assert 200 in stream.statuses

    hass.start()
    belt, session_state = _station_entities(hass)
    state = wait_for(
        f"{session_state} to be restored",
        lambda: (
            (s := hass.state(session_state)) not in ("unknown", "unavailable") and s
        ),
        SETUP_TIMEOUT,
    )
    assert state == "interrupted", f"{session_state} is {state!r} after the crash"
    kept = _walked(hass, entity_ids)
    # Saved at least every 10 s while running: at most that much is lost.
    assert kept >= 18, f"{kept} s of the {walked} s walked survived the crash"
    assert kept <= walked + 2
    assert _speed(hass, belt) == 0
    hass.stop()
    print(f"\nkill -9 after {walked:.0f} s of walking: {kept:.0f} s restored")  # noqa: T201
