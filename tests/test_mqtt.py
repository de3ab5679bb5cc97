"""Motion over MQTT, end to end: a real Mosquitto broker, Home Assistant's MQTT.

Sensor Logger publishes the same messages as its HTTP push to a topic; the
station subscribes through Home Assistant's MQTT integration.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING
from unittest.mock import patch

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk.detection import Detection, Detector, Tier
from homeassistant.core import HomeAssistant

from .common import STATION_DATA, STATION_OPTIONS, async_add_station, async_call
from .sensorlogger import message

if TYPE_CHECKING:
    from .mosquitto import MosquittoBroker

pytest_plugins = ["tests.mosquitto"]

TOPIC = "sensorlogger/retro"
STATE = "sensor.living_room_session_state"


async def _station(hass: HomeAssistant) -> MockConfigEntry:
    return await async_add_station(
        hass, STATION_DATA, options={**STATION_OPTIONS, "mqtt_topic": TOPIC}
    )


async def test_mqtt_motion_reaches_the_detector(
    hass: HomeAssistant,
    mosquitto_broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
) -> None:
    entry = await _station(hass)
    await mosquitto_broker.async_sync_subscriptions(hass)
    await async_call(hass, "start_session")
    await mosquitto_broker.async_publish(TOPIC, json.dumps(message(0)))
    await mosquitto_broker.async_publish(TOPIC, b"{broken", qos=1)
    stats = entry.runtime_data.safety.motion.stats
    for _ in range(100):
        await hass.async_block_till_done()
        if stats.messages and stats.rejected:
            break
        await mosquitto_broker.async_publish(TOPIC, b"", qos=1)
    assert stats.messages == 1
    assert stats.rejected["invalid_json"] >= 1
    assert entry.runtime_data.safety.motion.active


async def test_mqtt_detection_pauses_the_belt(
    hass: HomeAssistant,
    mosquitto_broker: MosquittoBroker,
    mqtt_entry: MockConfigEntry,
) -> None:
    """A tier-1 detection on a message that came over MQTT pauses the belt."""
    entry = await _station(hass)
    await mosquitto_broker.async_sync_subscriptions(hass)
    await async_call(hass, "start_session")
    spin = Detection(tier=Tier.PAUSE_NOW, kind="spin", time_ns=0, features={})
    with patch.object(Detector, "run", return_value=[spin]):
        # Stamped now, as a phone stamps its samples.
        body = json.dumps(message(time.time_ns() - 2 * 10**8))
        await mosquitto_broker.async_publish(TOPIC, body, qos=1)
        for _ in range(100):
            await hass.async_block_till_done()
            if entry.runtime_data.safety.motion.stats.messages:
                break
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert entry.runtime_data.treadmill.target == 0.0
