"""Motion pushes over a real network path into a real Home Assistant.

The test client hands every body over in one piece. Here a raw socket sends
them the way networks do: in 1448-byte TCP segments with pauses (a phone on
Wi-Fi), chunked, nested absurdly deep, or announcing more than it sends.
Runs a real `python -m homeassistant` on the demo's config (its station's
Sensor Logger webhook on).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import sys
import time
from types import ModuleType

import pytest

from tests.sensorlogger import message

from .hass_process import HOST, REPO_ROOT, HassProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _netpush() -> ModuleType:
    path = REPO_ROOT / "scripts" / "netpush.py"
    spec = importlib.util.spec_from_file_location("netpush", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


netpush = _netpush()


def _body(samples: int = 50) -> bytes:
    """A valid Sensor Logger push of ``samples`` samples, stamped now."""
    return json.dumps(message(time.time_ns() - samples * 10**7, count=samples)).encode()


def _accepted(reply: object) -> bool:
    return getattr(reply, "status", 0) == 200 and json.loads(reply.body)["accepted"]  # type: ignore[attr-defined]


def test_pushes_as_networks_deliver_them(hass_process: HassProcess) -> None:
    hass = hass_process
    hass.start()
    wait_for(
        "the webhook",
        lambda: hass.push(message(time.time_ns(), count=5)) == 200,
        90,
    )
    path = hass.webhook_path
    log = Path(hass.config_dir / "home-assistant.log")

    # A phone on Wi-Fi: one MSS at a time, 5 ms apart, 10 of 10 accepted.
    body = _body(50)
    assert len(body) > 6000
    replies = [
        netpush.post_segmented(HOST, hass.port, path, body, pause=0.005)
        for _ in range(10)
    ]
    assert [r.status for r in replies] == [200] * 10, replies
    assert all(_accepted(r) for r in replies)

    # Slower still: 200 ms between segments.
    reply = netpush.post_segmented(HOST, hass.port, path, _body(30), pause=0.2)
    assert _accepted(reply), reply

    # Chunked transfer encoding.
    reply = netpush.post_chunked(HOST, hass.port, path, _body(50), chunk=700)
    assert _accepted(reply), reply

    # 100,000 levels deep: a 400, no traceback.
    nested = b"[" * 100_000 + b"]" * 100_000
    for _ in range(5):
        reply = netpush.post_segmented(HOST, hass.port, path, nested, pause=0)
        assert reply.status == 400, reply
        assert json.loads(reply.body)["error"] == "invalid_json"

    # More announced than sent, then the client gives up: refused, and the
    # station keeps taking pushes meanwhile.
    reply = netpush.post_overstated(HOST, hass.port, path, _body(20), close_after=1.0)
    assert reply.status in (400, 0), reply
    # More announced than sent, and the client just waits: cut off after 10 s.
    reply = netpush.post_overstated(HOST, hass.port, path, _body(20), timeout=30)
    assert reply.status == 408, reply
    assert 9 <= reply.seconds <= 20, reply.seconds
    assert _accepted(netpush.post_segmented(HOST, hass.port, path, _body(20)))

    # Too large, announced: refused before reading.
    reply = netpush.post_overstated(
        HOST, hass.port, path, b"{}", extra=2 * 1024 * 1024, close_after=0.5
    )
    assert reply.status == 413, reply

    exit_code = hass.stop()
    assert exit_code == 0
    text = log.read_text(encoding="utf-8")
    assert "Traceback" not in text
    assert "RecursionError" not in text
    assert hass.webhook_id not in text, "the webhook's secret id was logged"
