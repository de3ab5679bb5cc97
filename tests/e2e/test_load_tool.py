"""The clinic load test (``python -m benchmarks.load``) still runs, briefly.

Benchmarks are not tests: the figures are printed, never asserted. But the tool
broke unnoticed once (stations gained walker subentries that the broker's
entry copied), so a short run of each transport checks that it sets up, streams
and reports: two stations, 3 s, a real Home Assistant (and a real Mosquitto).
"""

from __future__ import annotations

import pytest

from benchmarks import load

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.mark.parametrize("transport", ["http", "mqtt"])
def test_load_tool_streams_and_reports(
    transport: str, socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--stations", "2", "--rate", "50", "--batch-ms", "200"]
    assert load.main([*arguments, "--seconds", "3", "--transport", transport]) == 0
    out = capsys.readouterr().out
    assert f"2 stations x 50 Hz in 200 ms batches for 3 s over {transport}" in out
    assert "Home Assistant CPU:" in out
    assert "memory (RSS):" in out
    assert "dropped pushes: 0\n" in out
    assert "stations paused by their safety loop: 0 of 2" in out
