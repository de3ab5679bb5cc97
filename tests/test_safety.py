"""The safety response, driven through the webhook, sensors and phone actions.

The detector is exercised on its own and end to end elsewhere; here its output
is fixed (``Detector.process``) so that every response path can be walked
deterministically through Home Assistant's public surfaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
import itertools
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed_exact,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.retro_walk.detection import Detection, Detector, Tier
from homeassistant.components import persistent_notification
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError

from .common import (
    LINKED_DATA,
    STATION_DATA,
    STATION_OPTIONS,
    async_add_station,
    async_advance,
    async_call,
    async_history,
    async_tick,
)
from .sensorlogger import GRAVITY, message

WEBHOOK_ID = "retro-walk-test-webhook"
SAFETY_OPTIONS: dict[str, Any] = {
    **STATION_OPTIONS,
    "webhook_enabled": True,
    "webhook_id": WEBHOOK_ID,
    "webhook_local_only": True,
    "partner_targets": ["notify.partner"],
    "escalation_targets": ["notify.coach"],
    "walker_targets": ["notify.walker"],
    "ack_timeout": 60,
}
URL = f"/api/webhook/{WEBHOOK_ID}"
STATE = "sensor.living_room_session_state"
INSTABILITY = "binary_sensor.living_room_instability"
PARTNER_ALERT = "binary_sensor.living_room_partner_alert"
EVENT = "event.living_room_instability"


@pytest.fixture
def notify(hass: HomeAssistant) -> dict[str, list[ServiceCall]]:
    """Notify actions of the partner, the coach and the walker."""
    return {
        name: async_mock_service(hass, "notify", name)
        for name in ("partner", "coach", "walker")
    }


@pytest.fixture
async def station(
    hass: HomeAssistant, notify: dict[str, list[ServiceCall]]
) -> MockConfigEntry:
    """A simulated-treadmill station with the webhook and partners set up."""
    return await async_add_station(hass, STATION_DATA, options=SAFETY_OPTIONS)


@contextmanager
def detections(*found: tuple[int, str]) -> Iterator[None]:
    """Make the next processed message yield these detections."""
    results = [
        Detection(tier=Tier(tier), kind=kind, time_ns=0, features={"peak": 1.0})
        for tier, kind in found
    ]
    with patch.object(Detector, "run", side_effect=[results]):
        yield


_PUSHES = itertools.count()


def _now(**motion: Any) -> dict[str, Any]:
    """A push of the last 200 ms, stamped with the (frozen) wall clock.

    Each push is a millisecond later than the one before, so pushes made
    while the clock stands still still bring a new sample (a repeated
    timestamp is dropped as a duplicate).
    """
    return message(time.time_ns() - 2 * 10**8 + next(_PUSHES) * 10**6, **motion)


def _notifications(hass: HomeAssistant) -> dict[str, Any]:
    return dict(persistent_notification._async_get_or_create_notifications(hass))


async def _push(hass_client_no_auth: ClientSessionGenerator, body: Any) -> int:
    client = await hass_client_no_auth()
    response = await client.post(URL, json=body)
    return response.status


async def _push_live(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    client: ClientSessionGenerator,
    **motion: tuple[float, float, float],
) -> None:
    """One 20-sample batch of the last 200 ms, sent now; then time moves on.

    Stamped with the (frozen) wall clock, as a phone's are: the detector drops
    samples far from the time they arrive, and those no longer feed the stream
    watchdog.
    """
    assert await _push(client, message(time.time_ns() - 2 * 10**8, **motion)) == 200
    await async_advance(hass, freezer, 0.2)


async def _stream(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    client: ClientSessionGenerator,
    seconds: float,
    *,
    sway: bool = False,
) -> None:
    """Push a batch every 200 ms, as a phone at 100 Hz does.

    ``sway``: the pelvis turns to and fro about the spine, as in walking,
    which the real detector needs to see the walker on the move.
    """
    for step in range(round(seconds / 0.2)):
        yaw = (0.5 if step % 2 else -0.5) if sway else 0.0
        await _push_live(hass, freezer, client, gyro=(0.0, yaw, 0.0))


async def _moving_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, client: ClientSessionGenerator
) -> None:
    await async_call(hass, "start_session")
    await _stream(hass, freezer, client, 3)


async def test_webhook_takes_ios_and_android_pushes(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    for style in ("ios", "android"):
        assert await _push(hass_client_no_auth, message(0, style=style)) == 200
    stats = station.runtime_data.safety.motion.stats
    assert stats.messages == 2
    assert stats.samples == 40


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2, 3]", 422, "not_an_object"),
        (b'{"messageId": 1}', 422, "missing_field"),
        (
            b'{"messageId": "x", "sessionId": "s", "deviceId": "d", "payload": []}',
            422,
            "wrong_type",
        ),
        (b"x" * (1024 * 1024 + 1), 413, "too_large"),
    ],
)
async def test_webhook_rejects_bad_input(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    status: int,
    reason: str,
) -> None:
    """Malformed, mistyped, incomplete or huge bodies: 4xx, one log line."""
    client = await hass_client_no_auth()
    for _ in range(3):
        response = await client.post(URL, data=body)
        assert response.status == status
        assert (await response.json())["error"] == reason
    assert station.runtime_data.safety.motion.stats.rejected[reason] == 3
    assert caplog.text.count(f"rejected a motion message ({reason})") == 1
    # The station keeps working.
    assert await _push(hass_client_no_auth, message(0)) == 200


async def test_detector_runs_only_during_a_session(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    with patch.object(Detector, "run") as run:
        assert await _push(hass_client_no_auth, _now()) == 200
    run.assert_not_called()
    assert hass.states.get(STATE).state == "idle"


async def test_tier_1_pauses_the_belt(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((1, "spin")):
        assert await _push(hass_client_no_auth, _now()) == 200
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert station.runtime_data.treadmill.target == 0.0
    assert hass.states.get(INSTABILITY).state == STATE_ON
    event = hass.states.get(EVENT)
    assert event.attributes["event_type"] == "pause_now"
    assert event.attributes["kind"] == "spin"
    assert event.attributes["peak"] == 1.0
    assert hass.states.get("sensor.living_room_instability_events").state == "1"
    # Tier 1 on a treadmill: the belt is enough, nobody is alerted.
    assert notify["partner"] == []
    await async_tick(hass, freezer, 31)
    assert hass.states.get(INSTABILITY).state == STATE_ON  # still paused for it


async def test_tier_2_stops_the_belt_and_escalates_until_answered(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((2, "fall")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["event_type"] == "confirmed_fall"
    assert hass.states.get(PARTNER_ALERT).state == STATE_ON
    (call,) = notify["partner"]
    actions = call.data["data"]["actions"]
    assert [action["title"] for action in actions] == ["I'm OK", "Need help"]
    assert "possible fall" in call.data["message"]
    # The partner is told who: the station and the walker on its belt.
    assert "Living room (Ana)" in call.data["message"] + call.data["title"]
    assert notify["coach"] == []
    notice = _notifications(hass)[f"retro_walk_{station.entry_id}_alert"]
    assert "possible fall" in notice["message"]

    # Nobody answers: after 60 s the partner and the coach hear of it.
    await async_tick(hass, freezer, 60)
    assert len(notify["partner"]) == 2
    assert len(notify["coach"]) == 1
    assert "nobody has answered" in notify["coach"][0].data["message"]
    # ... and again, at most three escalations.
    await async_tick(hass, freezer, 300)
    assert len(notify["coach"]) == 3
    assert hass.states.get(PARTNER_ALERT).state == STATE_ON

    # The partner answers "I'm OK" on the phone.
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": actions[0]["action"]}
    )
    await hass.async_block_till_done()
    assert hass.states.get(PARTNER_ALERT).state == STATE_OFF
    assert f"retro_walk_{station.entry_id}_alert" not in _notifications(hass)


async def test_tier_2_answered_in_time_is_not_escalated(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((2, "fall")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.living_room_acknowledge_alert"},
        blocking=True,
    )
    assert hass.states.get(PARTNER_ALERT).state == STATE_OFF
    await async_tick(hass, freezer, 120)
    assert len(notify["partner"]) == 1
    assert notify["coach"] == []
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": "button.living_room_acknowledge_alert"},
            blocking=True,
        )


async def test_need_help_goes_to_the_escalation_targets_at_once(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((2, "fall")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    help_action = notify["partner"][0].data["data"]["actions"][1]["action"]
    hass.bus.async_fire("mobile_app_notification_action", {"action": "SOMETHING_ELSE"})
    hass.bus.async_fire("mobile_app_notification_action", {"action": help_action})
    await hass.async_block_till_done()
    (call,) = notify["coach"]
    assert "help was requested" in call.data["message"]
    assert hass.states.get(PARTNER_ALERT).state == STATE_OFF


async def test_tier_3_slows_the_belt_and_prompts_the_walker(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    await _moving_session(hass, freezer, hass_client_no_auth)
    assert station.runtime_data.treadmill.target == 3.0
    with detections((3, "unsteady")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    assert station.runtime_data.treadmill.target == 2.5
    await _stream(hass, freezer, hass_client_no_auth, 1)
    assert hass.states.get(STATE).state == "warm_up"  # keeps walking
    assert hass.states.get(EVENT).attributes["event_type"] == "unsteady"
    (prompt,) = notify["walker"]
    assert "slowed down" in prompt.data["message"]
    assert notify["partner"] == []
    await _stream(hass, freezer, hass_client_no_auth, 31)
    assert hass.states.get(INSTABILITY).state == STATE_OFF


async def test_motion_stream_lost_pauses_the_belt(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _moving_session(hass, freezer, hass_client_no_auth)
    assert hass.states.get(STATE).state == "warm_up"
    # The phone goes quiet: after 1 s the belt is paused.
    await _stream(hass, freezer, hass_client_no_auth, 0)
    freezer.tick(timedelta(seconds=0.7))
    async_fire_time_changed_exact(hass)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "warm_up"
    await async_tick(hass, freezer, 1)
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["kind"] == "stream_lost"


async def test_stream_lost_counts_the_silence_in_this_session(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Regression: the silence counted from the previous session's last message."""
    await _moving_session(hass, freezer, hass_client_no_auth)
    await async_call(hass, "stop_session")
    await async_tick(hass, freezer, 120)
    # A new session whose phone never streams: silent since its start.
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 10)
    assert hass.states.get(STATE).state == "paused_by_safety"
    event = hass.states.get(EVENT).attributes
    assert event["kind"] == "stream_lost"
    assert event["silence_s"] == pytest.approx(10, abs=0.5)
    # Resumed, the phone streams and stops: silent since its last message.
    await async_call(hass, "resume_session")
    await _stream(hass, freezer, hass_client_no_auth, 1)
    await async_tick(hass, freezer, 1)
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["silence_s"] == pytest.approx(1.2, abs=0.3)


def _from(body: dict[str, Any], **ids: str) -> dict[str, Any]:
    """A message with other Sensor Logger ids (deviceId, sessionId)."""
    return {**body, **ids}


async def test_a_second_phone_is_refused_during_a_session(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first phone of a session owns the stream until the session ends."""
    stats = station.runtime_data.safety.motion.stats
    await _moving_session(hass, freezer, hass_client_no_auth)
    owner_messages = stats.messages
    client = await hass_client_no_auth()
    for _ in range(3):
        response = await client.post(
            URL, json=_from(_now(), deviceId="someone-elses-phone")
        )
        assert response.status == 409
        assert (await response.json())["error"] == "other_device"
    assert stats.rejected["other_device"] == 3
    assert stats.messages == owner_messages
    assert caplog.text.count("rejected a motion message (other_device)") == 1
    # The other phone streaming does not hide the owner's silence.
    for _ in range(6):
        await _push(hass_client_no_auth, _from(_now(), deviceId="someone-elses"))
        await async_tick(hass, freezer, 1)
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["kind"] == "stream_lost"
    # A new session is free for whichever phone speaks first.
    await async_call(hass, "stop_session")
    await async_call(hass, "start_session")
    other = _from(_now(), deviceId="someone-elses-phone")
    assert await _push(hass_client_no_auth, other) == 200
    assert await _push(hass_client_no_auth, _now()) == 409


async def test_a_restarted_recording_recalibrates_the_detector(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Same phone, new Sensor Logger sessionId: taken, the detector starts over."""
    motion = station.runtime_data.safety.motion
    await _moving_session(hass, freezer, hass_client_no_auth)
    with patch.object(Detector, "reset") as reset:
        restarted = _from(_now(), sessionId="restarted-recording")
        assert await _push(hass_client_no_auth, restarted) == 200
        assert await _push(hass_client_no_auth, restarted) == 200
    reset.assert_called_once()
    assert motion.stats.restarts == 1
    assert motion.stats.rejected == {}
    assert hass.states.get(STATE).state == "warm_up"


async def test_any_phone_is_counted_between_sessions(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    for device in ("phone-a", "phone-b"):
        assert (
            await _push(hass_client_no_auth, _from(message(0), deviceId=device)) == 200
        )
    assert station.runtime_data.safety.motion.stats.messages == 2


async def test_motion_stream_that_never_starts_pauses_the_belt(
    hass: HomeAssistant, station: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 9)
    assert hass.states.get(STATE).state == "warm_up"
    await async_tick(hass, freezer, 1)
    assert hass.states.get(STATE).state == "paused_by_safety"


async def test_no_stream_watch_without_motion_input(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 20)
    assert hass.states.get(STATE).state == "warm_up"


async def test_walker_leaving_the_running_belt_pauses_it(
    hass: HomeAssistant,
    notify: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    presence = "binary_sensor.belt_presence"
    hass.states.async_set(presence, STATE_ON, {"device_class": "occupancy"})
    await async_add_station(
        hass, STATION_DATA, options={**STATION_OPTIONS, "presence_sensors": [presence]}
    )
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 3)  # the belt runs
    hass.states.async_set(presence, STATE_OFF, {"device_class": "occupancy"})
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "warm_up"
    await async_tick(hass, freezer, 1)
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["kind"] == "left_belt"


async def test_walker_back_in_time_is_not_a_detection(
    hass: HomeAssistant,
    notify: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    presence = "binary_sensor.belt_presence"
    hass.states.async_set(presence, STATE_ON)
    await async_add_station(
        hass, STATION_DATA, options={**STATION_OPTIONS, "presence_sensors": [presence]}
    )
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 3)
    hass.states.async_set(presence, STATE_OFF)
    await hass.async_block_till_done()
    hass.states.async_set(presence, STATE_ON)
    await hass.async_block_till_done()
    await async_tick(hass, freezer, 2)
    assert hass.states.get(EVENT).state == "unknown"
    assert hass.states.get(STATE).state == "warm_up"


async def test_too_close_to_the_rear_pauses_the_belt(
    hass: HomeAssistant,
    notify: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    clearance = "sensor.rear_clearance"
    hass.states.async_set(clearance, "0.6", {"unit_of_measurement": "m"})
    await async_add_station(
        hass, STATION_DATA, options={**STATION_OPTIONS, "clearance_sensor": clearance}
    )
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 3)
    hass.states.async_set(clearance, "0.35", {"unit_of_measurement": "m"})
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "warm_up"
    hass.states.async_set(clearance, "0.2", {"unit_of_measurement": "m"})
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["clearance_cm"] == 20.0


async def test_radar_fall_alerts_the_partner(
    hass: HomeAssistant,
    notify: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    radar = "binary_sensor.radar_fall_detected"
    hass.states.async_set(radar, STATE_OFF)
    await async_add_station(
        hass,
        STATION_DATA,
        options={**SAFETY_OPTIONS, "webhook_enabled": False, "fall_sensor": radar},
    )
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 3)
    hass.states.async_set(radar, STATE_ON)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert len(notify["partner"]) == 1


async def test_hallway_station_alerts_instead_of_pausing(
    hass: HomeAssistant,
    notify: dict[str, list[ServiceCall]],
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await async_add_station(
        hass,
        {**STATION_DATA, "name": "Living room", "treadmill_type": "none"},
        options=SAFETY_OPTIONS,
    )
    await async_call(hass, "start_session")
    await _push(hass_client_no_auth, message(0))
    with detections((1, "spin")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "warm_up"
    assert len(notify["partner"]) == 1
    # No belt to pause: the stream is not watched.
    await async_tick(hass, freezer, 15)
    assert hass.states.get(STATE).state == "warm_up"


async def test_belt_that_does_not_stop_alerts_the_partner(
    hass: HomeAssistant,
    treadmill_helpers: None,
    notify: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The treadmill cannot confirm the pause: the partner is alerted."""
    await async_add_station(
        hass, LINKED_DATA, options={**SAFETY_OPTIONS, "webhook_enabled": False}
    )
    await async_call(hass, "start_session")
    await async_call(hass, "pause_session")  # speed sensor stays at 3 km/h
    await async_tick(hass, freezer, 5)
    (call,) = notify["partner"]
    assert "the belt did not stop" in call.data["message"]


async def test_detections_are_recorded_with_the_session(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((3, "unsteady"), (1, "spin")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    await async_call(hass, "stop_session")
    (record,) = (await async_history(hass))["sessions"]
    assert [(event["tier"], event["kind"]) for event in record["safety_events"]] == [
        (3, "unsteady"),
        (1, "spin"),
    ]


async def test_unload_unregisters_the_webhook(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    stats = station.runtime_data.safety.motion.stats
    await hass.config_entries.async_unload(station.entry_id)
    client = await hass_client_no_auth()
    response = await client.post(URL, json=message(0))
    assert response.status == 200  # Home Assistant answers unknown webhooks 200
    assert stats.messages == 0


async def test_detector_keeps_running_while_paused(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    """A slip pauses the belt; the fall that follows is still confirmed."""
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((1, "spin")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "paused_by_safety"
    with detections((2, "fall")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    assert hass.states.get(EVENT).attributes["event_type"] == "confirmed_fall"
    assert len(notify["partner"]) == 1
    # A new session recalibrates the detector.
    await async_call(hass, "stop_session")
    with patch.object(Detector, "reset") as reset:
        await async_call(hass, "start_session")
    reset.assert_called_once()


async def test_follow_up_detections_do_not_spam(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    """After a fall: "lying" does not alert again, "unsteady" prompts nobody."""
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((2, "fall")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    with detections((3, "unsteady"), (2, "lying")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    assert len(notify["partner"]) == 1
    assert notify["walker"] == []
    assert hass.states.get("sensor.living_room_instability_events").state == "3"


async def test_real_detector_free_fall_then_lying_through_the_webhook(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
) -> None:
    """The real detector: 0 g for 200 ms while walking pauses; lying on the
    side alerts."""
    await async_call(hass, "start_session")
    await _stream(hass, freezer, hass_client_no_auth, 12, sway=True)  # calibration
    assert hass.states.get(STATE).state == "warm_up"
    # Free fall: the accelerometer (without gravity) cancels gravity.
    await _push_live(hass, freezer, hass_client_no_auth, acc=(0.0, GRAVITY, 0.0))
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["kind"] == "free_fall"
    assert notify["partner"] == []
    # On the floor, on the side: gravity along x for 6 s.
    for _ in range(30):
        await _push_live(
            hass, freezer, hass_client_no_auth, acc=(-GRAVITY, GRAVITY, 0.0)
        )
    assert hass.states.get(EVENT).attributes["event_type"] == "confirmed_fall"
    assert len(notify["partner"]) == 1


async def test_a_resumed_belt_is_protected_at_once(
    hass: HomeAssistant,
    station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The real detector: a walker who resumes right after a safety pause and
    slips again is paused again, though tier 1's refractory (one pause per
    incident) has not run out."""
    client = hass_client_no_auth
    await async_call(hass, "start_session")
    await _stream(hass, freezer, client, 12, sway=True)  # calibration
    await _push_live(hass, freezer, client, acc=(0.0, GRAVITY, 0.0))  # free fall
    assert hass.states.get(STATE).state == "paused_by_safety"
    first = hass.states.get(EVENT).state
    await _stream(hass, freezer, client, 0.6, sway=True)
    await async_call(hass, "resume_session")
    assert hass.states.get(STATE).state != "paused_by_safety"
    await _stream(hass, freezer, client, 1.0, sway=True)
    # Again, 2 s after the first.
    await _push_live(hass, freezer, client, acc=(0.0, GRAVITY, 0.0))
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).state != first
    assert hass.states.get(EVENT).attributes["kind"] == "free_fall"


async def test_a_broken_notify_target_does_not_silence_the_next(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: dict[str, list[ServiceCall]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A notify action that refuses its data (a schema error) is logged; the
    next partner is still alerted."""

    def refuse(call: ServiceCall) -> None:
        raise vol.Invalid("extra keys not allowed")

    hass.services.async_register("notify", "broken", refuse)
    options = {**SAFETY_OPTIONS, "partner_targets": ["notify.broken", "notify.partner"]}
    await async_add_station(hass, STATION_DATA, options=options)
    await _moving_session(hass, freezer, hass_client_no_auth)
    with detections((2, "fall")):
        await _push(hass_client_no_auth, _now())
    await hass.async_block_till_done()
    assert len(notify["partner"]) == 1
    assert "Could not notify notify.broken" in caplog.text
