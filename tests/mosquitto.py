"""A real Mosquitto broker for MQTT tests, and Home Assistant's real MQTT client on it.

Fixtures; load this module as a plugin in the test module that uses them::

    pytest_plugins = ["tests.mosquitto"]

* ``mosquitto_broker`` (function scope): starts ``/usr/sbin/mosquitto`` on a free
  port of 127.0.0.1 only (anonymous, no persistence, log in a temporary directory)
  and stops it after the test. It yields a :class:`MosquittoBroker`.
* ``mqtt_entry``: sets up Home Assistant's own ``mqtt`` integration, with its real
  paho client, in the test ``hass`` against that broker, waits until the client
  is connected and returns the config entry. Never combine it with
  pytest-homeassistant-custom-component's ``mqtt_mock`` fixtures, which replace
  the client.

Messages published with QoS 0 before the broker knows of a subscription are lost,
and Home Assistant sends its SUBSCRIBEs after a cool-down (0.5 s at first). After
subscribing (or setting up something that subscribes), await
:meth:`MosquittoBroker.async_sync_subscriptions` before publishing.

Both fixtures need real sockets: ``mosquitto_broker`` requests pytest-socket's
``socket_enabled``; the plugin's allow-list (127.0.0.1) stays in force.
When the Mosquitto binary is missing (scripts/setup installs the Debian package),
the tests fail under ``CI=true`` and are skipped otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import pwd
import shutil
import socket
import subprocess
import threading
import time
import uuid

import paho.mqtt.client as paho
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PORT
from homeassistant.core import HomeAssistant, callback

HOST = "127.0.0.1"
MOSQUITTO = Path("/usr/sbin/mosquitto")
START_TIMEOUT = 10.0  # seconds until the broker accepts connections
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
PUBLISH_TIMEOUT = 10.0  # seconds for a whole publish(): connect, send, disconnect
CONNECT_TIMEOUT = 20.0  # seconds for Home Assistant's client to connect
SYNC_TIMEOUT = 10.0  # seconds for async_sync_subscriptions
START_ATTEMPTS = 3  # another process may take the free port before mosquitto


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_mosquitto() -> Path:
    """Return the broker binary; fail (under CI=true) or skip when it is missing."""
    for candidate in (MOSQUITTO, shutil.which("mosquitto")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    message = (
        f"Mosquitto broker not found ({MOSQUITTO}, nor `mosquitto` on PATH): "
        "install the Debian package `mosquitto` (scripts/setup does it as root)"
    )
    if _in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class MosquittoBroker:
    """A Mosquitto process listening on ``host``:``port`` (127.0.0.1 only)."""

    workdir: Path
    binary: Path = MOSQUITTO
    host: str = HOST
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def config_file(self) -> Path:
        """The broker's configuration, written by start()."""
        return self.workdir / "mosquitto.conf"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log_dest file)."""
        return self.workdir / "mosquitto.log"

    @property
    def output_file(self) -> Path:
        """The broker's stdout and stderr (errors before the log is open)."""
        return self.workdir / "mosquitto.out"

    # -- process ---------------------------------------------------------
    def start(self) -> None:
        """Start the broker on a free port; return once it accepts connections."""
        assert self.proc is None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            self._write_config()
            with self.output_file.open("wb") as out:
                self.proc = subprocess.Popen(  # noqa: S603 - fixed arguments
                    [str(self.binary), "-c", str(self.config_file)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    start_new_session=True,  # a Ctrl-C of pytest is not its signal
                )
            error = self._wait_accepting()
            if error is None:
                return
            self.stop()
            if "address already in use" in self.logs().lower() and (
                attempt < START_ATTEMPTS
            ):
                continue
            pytest.fail(f"Mosquitto did not start: {error}\n{self.logs()}")

    def _write_config(self) -> None:
        # When run as root, mosquitto drops to the user `mosquitto`, which could
        # not write the log in this directory: stay the user we are.
        user = pwd.getpwuid(os.getuid()).pw_name
        self.config_file.write_text(
            "\n".join(
                (
                    f"listener {self.port} {self.host}",
                    "allow_anonymous true",
                    "persistence false",
                    f"user {user}",
                    f"log_dest file {self.log_file}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_type information",
                    "log_type subscribe",
                    "log_type unsubscribe",
                    "connection_messages true",
                    "log_timestamp_format %H:%M:%S",
                    "",
                )
            ),
            encoding="utf-8",
        )

    def _wait_accepting(self) -> str | None:
        """Return None once the port accepts connections, else what went wrong."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if (code := self.proc.poll()) is not None:
                return f"it exited with code {code}"
            with contextlib.suppress(OSError):
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return None
            time.sleep(0.05)
        return f"port {self.host}:{self.port} not accepting after {START_TIMEOUT:.0f} s"

    def stop(self) -> None:
        """Stop the broker: SIGTERM, wait, SIGKILL. Safe to call twice."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)

    def logs(self) -> str:
        """The broker's output and log, for failure messages."""
        parts = []
        for path in (self.config_file, self.output_file, self.log_file):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                text = "(missing)"
            parts.append(f"--- {path} ---\n{text}")
        return "\n".join(parts)

    # -- clients ---------------------------------------------------------
    def publish(
        self,
        topic: str,
        payload: bytes | str,
        qos: int = 0,
        *,
        retain: bool = False,
        timeout: float = PUBLISH_TIMEOUT,
    ) -> None:
        """Publish one message from a fresh client; return once it is sent.

        Blocking (a few milliseconds): connect, wait for CONNACK, publish, wait
        until sent (QoS 0) or acknowledged (QoS 1, 2), disconnect, and join
        paho's network thread, so nothing lingers after the call.
        """
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=f"tests-publisher-{uuid.uuid4().hex[:12]}",
            protocol=paho.MQTTv311,
        )
        connected = threading.Event()
        refused: list[str] = []

        def on_connect(
            _client: paho.Client,
            _userdata: object,
            _flags: paho.ConnectFlags,
            reason_code: paho.ReasonCode,
            _properties: paho.Properties | None,
        ) -> None:
            if reason_code.is_failure:
                refused.append(str(reason_code))
            connected.set()

        client.on_connect = on_connect
        deadline = time.monotonic() + timeout
        try:
            client.connect(self.host, self.port)
        except OSError as err:
            raise AssertionError(
                f"publisher could not connect to {self.host}:{self.port}: {err}\n"
                f"{self.logs()}"
            ) from err
        client.loop_start()
        try:
            if not connected.wait(timeout) or refused:
                raise AssertionError(
                    f"publisher could not connect to {self.host}:{self.port}: "
                    f"{refused or 'no CONNACK'}\n{self.logs()}"
                )
            info = client.publish(topic, payload, qos=qos, retain=retain)
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                raise AssertionError(
                    f"publish to {topic!r} not done after {timeout} s\n{self.logs()}"
                )
        finally:
            client.disconnect()
            client.loop_stop()  # joins the network thread

    async def async_publish(
        self,
        topic: str,
        payload: bytes | str,
        qos: int = 0,
        *,
        retain: bool = False,
    ) -> None:
        """publish() in an executor thread, leaving the event loop free."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            None,
            lambda: self.publish(topic, payload, qos, retain=retain),
        )

    async def async_sync_subscriptions(self, hass: HomeAssistant) -> None:
        """Wait until the broker knows every subscription ``hass`` made so far.

        Subscribes to a fresh probe topic through Home Assistant and publishes to
        it until the probe arrives. Home Assistant sends pending subscriptions
        in order, and the broker handles them in order, so every earlier one is
        active by then.
        """
        probe_topic = f"tests/mosquitto-sync/{uuid.uuid4().hex}"
        arrived = asyncio.Event()

        @callback
        def _on_probe(msg: mqtt.ReceiveMessage) -> None:
            arrived.set()

        unsubscribe = await mqtt.async_subscribe(hass, probe_topic, _on_probe)
        try:
            async with asyncio.timeout(SYNC_TIMEOUT):
                while not arrived.is_set():
                    await self.async_publish(probe_topic, b"sync")
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.2):
                            await arrived.wait()
        except TimeoutError:
            pytest.fail(
                f"Home Assistant's MQTT subscriptions not active after "
                f"{SYNC_TIMEOUT:.0f} s\n{self.logs()}"
            )
        finally:
            unsubscribe()


@pytest.fixture
def mosquitto_broker(
    tmp_path_factory: pytest.TempPathFactory, socket_enabled: None
) -> Generator[MosquittoBroker]:
    """A Mosquitto broker of this test's own on a free 127.0.0.1 port."""
    broker = MosquittoBroker(
        workdir=tmp_path_factory.mktemp("mosquitto"), binary=require_mosquitto()
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, mosquitto_broker: MosquittoBroker, mock_hass_config: None
) -> AsyncGenerator[MockConfigEntry]:
    """Home Assistant's real MQTT integration, connected to ``mosquitto_broker``.

    The entry has the defaults of a broker added in the UI: discovery on, birth
    and last-will messages on ``homeassistant/status``. The ``hass`` fixture
    would unload it only after ``mosquitto_broker`` has stopped (pytest tears
    down in reverse set-up order and ``hass`` comes first), so this fixture
    unloads it itself while the broker still runs: a clean disconnect.

    MQTT reads configuration.yaml at setup, which PHCC's test config directory
    lacks: ``mock_hass_config`` serves PHCC's ``hass_config`` fixture instead
    (``{}``; parametrize ``hass_config`` for YAML-configured MQTT entities).
    """
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        title=f"Mosquitto {mosquitto_broker.host}:{mosquitto_broker.port}",
        data={
            mqtt.CONF_BROKER: mosquitto_broker.host,
            CONF_PORT: mosquitto_broker.port,
        },
        version=1,  # homeassistant/components/mqtt/const.py: CONFIG_ENTRY_VERSION
        minor_version=2,  # CONFIG_ENTRY_MINOR_VERSION
    )
    entry.add_to_hass(hass)
    connected = asyncio.Event()

    @callback
    def _on_connection(state: bool) -> None:
        if state:
            connected.set()

    unsubscribe = mqtt.async_subscribe_connection_status(hass, _on_connection)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id), (
            f"mqtt did not set up\n{mosquitto_broker.logs()}"
        )
        assert entry.state is ConfigEntryState.LOADED
        assert await mqtt.async_wait_for_mqtt_client(hass), (
            f"mqtt client not available\n{mosquitto_broker.logs()}"
        )
        if not mqtt.is_connected(hass):
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    await connected.wait()
            except TimeoutError:
                pytest.fail(
                    f"Home Assistant's MQTT client not connected after "
                    f"{CONNECT_TIMEOUT:.0f} s\n{mosquitto_broker.logs()}"
                )
    finally:
        unsubscribe()
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
