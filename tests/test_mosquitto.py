"""The MQTT test infrastructure itself: a real Mosquitto and Home Assistant's client."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
import socket
import struct
from typing import TYPE_CHECKING

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback

if TYPE_CHECKING:
    # Only for annotations: importing tests.mosquitto here, before pytest loads
    # it as a plugin, would stop pytest from rewriting its asserts (and warn).
    from .mosquitto import MosquittoBroker

pytest_plugins = ["tests.mosquitto"]  # the fixtures mosquitto_broker and mqtt_entry

TCP_LISTEN = "0A"  # socket state in /proc/net/tcp*


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port`` (Linux /proc)."""
    addresses: set[str] = set()
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        table = Path("/proc/net") / name
        if not table.exists():
            continue
        for line in table.read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address_hex, port_hex = local.split(":")
            if state != TCP_LISTEN or int(port_hex, 16) != port:
                continue
            # 8 hex digits (IPv4) or 32 (IPv6): 32-bit words in host byte order.
            packed = b"".join(
                struct.pack("=I", int(address_hex[i : i + 8], 16))
                for i in range(0, len(address_hex), 8)
            )
            addresses.add(socket.inet_ntop(family, packed))
    return addresses


async def test_publish_reaches_home_assistant_subscriber(
    hass: HomeAssistant,
    mosquitto_broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
) -> None:
    assert mqtt_entry.state is ConfigEntryState.LOADED
    assert mqtt.is_connected(hass)

    received: list[mqtt.ReceiveMessage] = []
    got_both = asyncio.Event()

    @callback
    def _on_message(msg: mqtt.ReceiveMessage) -> None:
        received.append(msg)
        if len(received) == 2:
            got_both.set()

    unsubscribe = await mqtt.async_subscribe(
        hass, "tests/mosquitto/+", _on_message, qos=1, encoding=None
    )
    await mosquitto_broker.async_sync_subscriptions(hass)

    # The blocking helper, straight from the test: a few milliseconds.
    mosquitto_broker.publish("tests/mosquitto/text", "hello, walker")
    mosquitto_broker.publish("tests/mosquitto/bytes", b"\x00\xffraw", qos=1)
    async with asyncio.timeout(10):
        await got_both.wait()
    unsubscribe()

    assert {(msg.topic, msg.payload, msg.qos) for msg in received} == {
        ("tests/mosquitto/text", b"hello, walker", 0),
        ("tests/mosquitto/bytes", b"\x00\xffraw", 1),
    }
    assert all(msg.subscribed_topic == "tests/mosquitto/+" for msg in received)


async def test_async_publish_and_home_assistant_publish(
    hass: HomeAssistant,
    mosquitto_broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
) -> None:
    """Both directions through the broker: test client -> HA and HA -> HA."""
    payloads: asyncio.Queue[str] = asyncio.Queue()

    @callback
    def _on_message(msg: mqtt.ReceiveMessage) -> None:
        payloads.put_nowait(str(msg.payload))

    unsubscribe = await mqtt.async_subscribe(hass, "tests/mosquitto/echo", _on_message)
    await mosquitto_broker.async_sync_subscriptions(hass)

    await mosquitto_broker.async_publish("tests/mosquitto/echo", "from the test")
    async with asyncio.timeout(10):
        assert await payloads.get() == "from the test"

    await mqtt.async_publish(hass, "tests/mosquitto/echo", "from home assistant")
    async with asyncio.timeout(10):
        assert await payloads.get() == "from home assistant"
    unsubscribe()


@pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp"
)
def test_broker_listens_only_on_loopback(mosquitto_broker: MosquittoBroker) -> None:
    assert mosquitto_broker.host == "127.0.0.1"
    assert _listening_addresses(mosquitto_broker.port) == {"127.0.0.1"}


def test_stop_ends_the_broker(mosquitto_broker: MosquittoBroker) -> None:
    proc = mosquitto_broker.proc
    assert proc is not None
    assert proc.poll() is None
    assert "mosquitto version" in mosquitto_broker.log_file.read_text(encoding="utf-8")

    mosquitto_broker.stop()  # the fixture's teardown stops it again: harmless
    assert proc.returncode is not None
    assert mosquitto_broker.proc is None
    assert _listening_addresses(mosquitto_broker.port) == set()


@pytest.mark.parametrize(("ci", "outcome"), [("true", "fail"), ("", "skip")])
def test_missing_mosquitto(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: str
) -> None:
    mosquitto_module = importlib.import_module("tests.mosquitto")
    monkeypatch.setattr(mosquitto_module, "MOSQUITTO", tmp_path / "no-mosquitto")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="install the Debian package `mosquitto`"):
        mosquitto_module.require_mosquitto()
