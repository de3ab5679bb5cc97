"""The motion input as real clients reach it: segmented, relayed, malformed, nested."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import json
import logging
import time
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed_exact,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.retro_walk.detection import Detector
from homeassistant.core import HomeAssistant

from .common import STATION_DATA, STATION_OPTIONS, async_add_station, async_call
from .sensorlogger import message

if TYPE_CHECKING:
    from .mosquitto import MosquittoBroker

pytest_plugins = ["tests.mosquitto"]

WEBHOOK_ID = "retro-walk-motion-input-test"
URL = f"/api/webhook/{WEBHOOK_ID}"
OPTIONS: dict[str, Any] = {
    **STATION_OPTIONS,
    "webhook_enabled": True,
    "webhook_id": WEBHOOK_ID,
    "webhook_local_only": True,
}
STATE = "sensor.living_room_session_state"
EVENT = "event.living_room_instability"
TOPIC = "sensorlogger/nested"
NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
async def station(hass: HomeAssistant) -> MockConfigEntry:
    """A station with its Sensor Logger webhook on."""
    return await async_add_station(hass, STATION_DATA, options=OPTIONS)


def _stats(station: MockConfigEntry) -> Any:
    return station.runtime_data.safety.motion.stats


async def test_a_body_in_many_small_chunks_is_read_whole(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A phone's push arrives in TCP segments: all of them make the message."""
    body = json.dumps(message(0, count=50)).encode()
    assert len(body) > 6000

    async def segments() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1448):
            yield body[start : start + 1448]

    client = await hass_client_no_auth()
    response = await client.post(URL, data=segments())
    assert response.status == 200, await response.text()
    assert _stats(station).samples == 50


async def test_a_deeply_nested_body_is_refused_without_a_traceback(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await hass_client_no_auth()
    for _ in range(3):
        response = await client.post(URL, data=NESTED)
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_json"
    assert "Traceback" not in caplog.text
    assert "RecursionError" not in caplog.text
    assert caplog.text.count("rejected a motion message (invalid_json)") == 1


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_other_methods_are_refused_without_logging_the_secret(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    method: str,
) -> None:
    client = await hass_client_no_auth()
    response = await client.request(method, URL)
    assert response.status == 405
    assert not [
        record
        for record in caplog.records
        if record.levelno >= logging.INFO
        and record.name != "aiohttp.access"
        and WEBHOOK_ID in record.getMessage()
    ]
    assert _stats(station).rejected["method_not_allowed"] == 1
    # HEAD stays Home Assistant's: a website may check that the URL exists.
    assert (await client.head(URL)).status == 200


async def test_a_push_relayed_over_the_websocket_api(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """HA Cloud and the websocket API hand the handler a MockRequest."""
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {
            "type": "webhook/handle",
            "webhook_id": WEBHOOK_ID,
            "method": "POST",
            "body": json.dumps(message(0)),
        }
    )
    result = (await ws.receive_json())["result"]
    assert result["status"] == 200, result
    assert json.loads(result["body"])["accepted"] is True
    assert _stats(station).samples == 20

    await ws.send_json_auto_id(
        {
            "type": "webhook/handle",
            "webhook_id": WEBHOOK_ID,
            "method": "POST",
            "body": "x" * (1024 * 1024 + 1),
        }
    )
    result = (await ws.receive_json())["result"]
    assert result["status"] == 413


async def test_a_deeply_nested_mqtt_payload_is_refused(
    hass: HomeAssistant,
    mosquitto_broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Through a real Mosquitto broker and Home Assistant's MQTT client."""
    station = await async_add_station(
        hass, STATION_DATA, options={**STATION_OPTIONS, "mqtt_topic": TOPIC}
    )
    await mosquitto_broker.async_sync_subscriptions(hass)
    await mosquitto_broker.async_publish(TOPIC, NESTED, qos=1)
    await mosquitto_broker.async_publish(TOPIC, json.dumps(message(0)), qos=1)
    stats = _stats(station)
    for _ in range(200):
        await hass.async_block_till_done()
        if stats.messages and stats.rejected:
            break
        await asyncio.sleep(0.01)
    assert stats.rejected["invalid_json"] == 1
    assert stats.messages == 1  # the good one after it
    assert "Traceback" not in caplog.text


async def test_a_phone_whose_clock_went_wrong_looks_like_a_lost_stream(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Messages whose every sample is dropped must not keep the watchdog quiet.

    (A phone stamping everything an hour ahead would otherwise blind the
    detector while the stream looked healthy.)
    """
    await async_call(hass, "start_session")
    client = await hass_client_no_auth()

    async def push(offset_ns: int) -> None:
        body = message(time.time_ns() - 2 * 10**8 + offset_ns)
        response = await client.post(URL, json=body)
        assert response.status == 200
        freezer.tick(timedelta(seconds=0.2))
        async_fire_time_changed_exact(hass)
        await hass.async_block_till_done()

    for _ in range(30):  # 6 s of a healthy stream
        await push(0)
    assert hass.states.get(STATE).state == "warm_up"
    for _ in range(15):  # 3 s stamped an hour ahead
        await push(3600 * 10**9)
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["kind"] == "stream_lost"
    assert station.runtime_data.safety.motion.detector.dropped["too_far_ahead"] > 0


async def test_small_pushes_are_analysed_in_pairs(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """10 samples every 100 ms: one detector pass per two pushes, none lost.

    The detector's cost per call is mostly fixed; pairing small pushes keeps
    its cost per sample independent of the phone's batch size, and a decision
    waits at most one more push.
    """
    await async_call(hass, "start_session")
    detector = station.runtime_data.safety.motion.detector
    client = await hass_client_no_auth()
    with patch.object(Detector, "run", autospec=True, side_effect=Detector.run) as run:
        for _ in range(20):
            body = message(time.time_ns() - 10**8, count=10)
            assert (await client.post(URL, json=body)).status == 200
            freezer.tick(timedelta(seconds=0.1))
            async_fire_time_changed_exact(hass)
            await hass.async_block_till_done()
    assert run.call_count == 10
    assert sum(len(call.args[1]) for call in run.call_args_list) == 200
    assert detector.dropped.total() == 0


async def test_a_lone_small_push_is_analysed_soon(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    await async_call(hass, "start_session")
    client = await hass_client_no_auth()
    with patch.object(Detector, "run", autospec=True, side_effect=Detector.run) as run:
        body = message(time.time_ns() - 10**8, count=10)
        assert (await client.post(URL, json=body)).status == 200
        assert run.call_count == 0  # waits for a second push …
        await asyncio.sleep(0.3)  # … or FLUSH_AFTER (0.15 s)
    assert run.call_count == 1
