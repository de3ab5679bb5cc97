"""Retro Walk by voice in a real Home Assistant (Assist's built-in agent).

Runs Home Assistant on a config dir set up like the demo's (onboarded, the
simulated "Demo station", ``custom_sentences`` linked to the repository's) and
talks to it through ``POST /api/conversation/process``, in English and Spanish.

Slow (a real start); run alone with `pytest tests/e2e`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .hass_process import HassProcess, wait_for

DOMAIN = "retro_walk"
SETUP_TIMEOUT = 90.0  # for the integration's entities to appear after RUNNING
STATE_TIMEOUT = 30.0  # for a session state change to show

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _session_state_entity(hass: HassProcess) -> str:
    def ready() -> str | None:
        raw = hass.template(
            f'{{{{ integration_entities("{DOMAIN}") | list | tojson }}}}'
        )
        matches = [e for e in json.loads(raw) if e.endswith("_session_state")]
        if not matches:
            return None
        entity_id = min(matches, key=len)
        if hass.state(entity_id) in ("unknown", "unavailable"):
            return None
        return entity_id

    return wait_for("the session state sensor", ready, SETUP_TIMEOUT)


def _speech(response: dict[str, Any]) -> str:
    return str(response["speech"]["plain"]["speech"])


def start_by_voice(hass: HassProcess) -> str:
    """Wait for the station, say "start my retro walk"; return its state sensor."""
    session_state = _session_state_entity(hass)
    assert hass.state(session_state) == "idle"

    response = hass.converse("start my retro walk", "en")
    assert response["response_type"] == "action_done", response
    assert "started" in _speech(response).lower(), response
    wait_for(
        f"{session_state} to leave idle",
        lambda: hass.state(session_state) not in ("idle", "unknown", "unavailable"),
        STATE_TIMEOUT,
    )
    return session_state


def test_conversation(hass_process: HassProcess) -> None:
    """Start in English, ask for the week, pause and stop in Spanish."""
    hass = hass_process
    sentences = hass.config_dir / "custom_sentences"
    assert (sentences / "en" / "retro_walk.yaml").is_file()
    assert (sentences / "es" / "retro_walk.yaml").is_file()

    hass.start()
    session_state = start_by_voice(hass)

    response = hass.converse("how many backward minutes this week", "en")
    assert response["response_type"] == "query_answer", response
    assert re.search(r"\d+ backward minutes this week", _speech(response)), response

    response = hass.converse("¿cómo voy?", "es")
    assert response["response_type"] == "query_answer", response
    assert "llevas" in _speech(response), response

    response = hass.converse("pausa la caminata hacia atrás", "es")
    assert response["response_type"] == "action_done", response
    assert "pausa" in _speech(response).lower(), response
    wait_for(
        f"{session_state} to be paused",
        lambda: hass.state(session_state) == "paused",
        STATE_TIMEOUT,
    )

    # A refused command is a spoken error in the language asked.
    response = hass.converse("pausa la caminata hacia atrás", "es")
    assert response["response_type"] == "error", response
    assert "no está en marcha" in _speech(response), response

    response = hass.converse("termina la caminata hacia atrás", "es")
    assert response["response_type"] == "action_done", response
    assert "minutos hacia atrás" in _speech(response) or "minuto hacia atrás" in (
        _speech(response)
    ), response
    wait_for(
        f"{session_state} to be idle",
        lambda: hass.state(session_state) == "idle",
        STATE_TIMEOUT,
    )

    exit_code = hass.stop()
    assert exit_code == 0, f"Home Assistant exited with {exit_code}\n{hass.tail()}"
