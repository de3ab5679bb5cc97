"""Fixtures for the end-to-end tests: a real Home Assistant in a subprocess.

These tests never use pytest-homeassistant-custom-component's ``hass`` fixtures.
Its plugin still loads (it is a pytest entry point) and blocks sockets in every
test; the tests here request pytest-socket's ``socket_enabled`` fixture, and
the plugin's host allow-list already admits 127.0.0.1, the only address used.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from .hass_process import ONBOARD, HassProcess, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the unit tests' autouse fixture of this name: no ``hass`` here."""


def prepare_hass_process(tmp_path: Path, python: str) -> HassProcess:
    """An onboarded config dir like the demo's, run by ``python``'s Home Assistant."""
    config_dir = tmp_path / "config"
    token_file = tmp_path / "token"
    webhook_file = tmp_path / "webhook_id"
    port = free_port()
    subprocess.run(
        [
            python,
            str(ONBOARD),
            "--config-dir",
            str(config_dir),
            "--token-file",
            str(token_file),
            "--webhook-id-file",
            str(webhook_file),
            "--port",
            str(port),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    return HassProcess(
        config_dir=config_dir,
        token=token_file.read_text(encoding="utf-8").strip(),
        port=port,
        logs=tmp_path,
        python=python,
        webhook_id=webhook_file.read_text(encoding="utf-8").strip(),
    )


@pytest.fixture
def hass_process(tmp_path: Path, socket_enabled: None) -> Iterator[HassProcess]:
    """The Home Assistant of the test venv (pytest-homeassistant-custom-component's)."""
    process = prepare_hass_process(tmp_path, sys.executable)
    try:
        yield process
    finally:
        process.kill()
