"""A real Home Assistant in a subprocess, driven over its REST API."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Self
import urllib.error
import urllib.request

import pytest

from tests.sensorlogger import message

if TYPE_CHECKING:
    from collections.abc import Callable

REPO_ROOT = Path(__file__).resolve().parents[2]
ONBOARD = REPO_ROOT / "scripts" / "onboard.py"
HOST = "127.0.0.1"
START_TIMEOUT = 240.0  # seconds; a cold start takes 30-60 s on a 2-core machine
STOP_TIMEOUT = 120.0


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class HassProcess:
    """Runs ``python -m homeassistant -c CONFIG_DIR`` and talks to its API."""

    config_dir: Path
    token: str
    port: int
    logs: Path
    # The interpreter whose Home Assistant runs (another venv's for a release).
    python: str = sys.executable
    # The demo station's Sensor Logger webhook.
    webhook_id: str = ""
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0
    log_files: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """Return the server's URL."""
        return f"http://{HOST}:{self.port}"

    # -- process ---------------------------------------------------------
    def start(self) -> float:
        """Start Home Assistant and wait until it runs; return the seconds taken."""
        assert self.proc is None, "already running"
        self.runs += 1
        log_file = self.logs / f"hass-run{self.runs}.log"
        self.log_files.append(log_file)
        started = time.monotonic()
        with log_file.open("wb") as out:
            self.proc = subprocess.Popen(
                [self.python, "-m", "homeassistant", "-c", str(self.config_dir)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.config_dir,
                start_new_session=True,
            )
        self.wait_running(started)
        return time.monotonic() - started

    def wait_running(self, started: float) -> None:
        """Wait for the API to answer and the core to be RUNNING."""
        while time.monotonic() - started < START_TIMEOUT:
            self._assert_alive()
            with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
                if self.get("/api/config").get("state") == "RUNNING":
                    return
            time.sleep(0.5)
        pytest.fail(
            f"Home Assistant not running after {START_TIMEOUT:.0f} s\n{self.tail()}"
        )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait for the exit; return the exit code."""
        assert self.proc is not None, "not running"
        proc, self.proc = self.proc, None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            return proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            pytest.fail(f"Home Assistant ignored signal {sig} for {STOP_TIMEOUT:.0f} s")

    def kill(self) -> None:
        """Stop whatever is still running, whatever it takes."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            else:
                return

    def _assert_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            code, self.proc = self.proc.returncode, None
            pytest.fail(f"Home Assistant exited with {code}\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        """Return the end of the current run's log, for failure messages."""
        if not self.log_files:
            return ""
        text = self.log_files[-1].read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def log_text(self) -> str:
        """Return every run's console log."""
        return "\n".join(
            f.read_text(encoding="utf-8", errors="replace") for f in self.log_files
        )

    # -- REST API --------------------------------------------------------
    def request(
        self, method: str, path: str, body: Any = None, *, raw: bool = False
    ) -> Any:
        """Call the REST API; return the decoded JSON (the text with ``raw``)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:1000]
            msg = f"{method} {path} -> {err.code}: {detail}"
            raise AssertionError(msg) from err
        return text if raw else json.loads(text)

    def get(self, path: str) -> Any:
        """GET ``path``."""
        return self.request("GET", path)

    def template(self, template: str) -> str:
        """Render a template."""
        return str(
            self.request("POST", "/api/template", {"template": template}, raw=True)
        )

    def call(
        self, domain: str, service: str, data: dict[str, Any] | None = None
    ) -> Any:
        """Call a service without a response."""
        return self.request("POST", f"/api/services/{domain}/{service}", data or {})

    def call_for_response(
        self, domain: str, service: str, data: dict[str, Any] | None = None
    ) -> Any:
        """Call a service and return its response."""
        answer = self.request(
            "POST", f"/api/services/{domain}/{service}?return_response", data or {}
        )
        return answer["service_response"]

    def converse(self, text: str, language: str | None = None) -> Any:
        """Ask Assist's built-in agent; return the intent response (a dict)."""
        body: dict[str, Any] = {"text": text}
        if language is not None:
            body["language"] = language
        return self.request("POST", "/api/conversation/process", body)["response"]

    @property
    def webhook_path(self) -> str:
        """The demo station's Sensor Logger webhook."""
        return f"/api/webhook/{self.webhook_id}"

    def push(self, body: Any) -> int:
        """POST one motion message to the webhook; return the status."""
        req = urllib.request.Request(
            self.base_url + self.webhook_path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as err:
            return int(err.code)

    def state(self, entity_id: str) -> str:
        """Return an entity's state."""
        return str(self.get(f"/api/states/{entity_id}")["state"])


def wait_for[T](what: str, check: Callable[[], T], timeout: float) -> T:
    """Poll ``check()`` every 0.5 s until it returns a truthy value; return it."""
    deadline = time.monotonic() + timeout
    last: T = check()
    while not last:
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})"
            )
        time.sleep(0.5)
        last = check()
    return last


class MotionStream:
    """A phone on the walker's back: pushes 100 Hz standing samples every 0.2 s.

    Timestamps are the wall clock's, as Sensor Logger's are. Use it as a
    context manager around a session on a station that watches its stream.
    """

    PERIOD = 0.2

    def __init__(self, hass: HassProcess) -> None:
        """Stream to ``hass``'s demo station (not started yet)."""
        self._hass = hass
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.statuses: list[int] = []

    def __enter__(self) -> Self:
        """Start streaming."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop streaming."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        message_id = 0
        while not self._stop.is_set():
            message_id += 1
            start = time.time_ns() - int(self.PERIOD * 1e9)
            with contextlib.suppress(OSError):
                self.statuses.append(
                    self._hass.push(message(start, message_id=message_id))
                )
            self._stop.wait(self.PERIOD)
