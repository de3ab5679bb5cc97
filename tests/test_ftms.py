"""Bluetooth FTMS treadmills, driven through Home Assistant's bluetooth stack.

The machine is ``FakeTreadmill``: a GATT-level fake under the integration's
real ``FtmsClient``, so every notification is parsed and every command encoded
by ``ftms_protocol`` itself. Advertisements go through Home Assistant's
bluetooth manager.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
import copy
import logging
from typing import Any
from unittest.mock import patch

from bleak.exc import BleakError
from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.retro_walk.const import DOMAIN, EVENT_TREADMILL_DID_NOT_STOP
from custom_components.retro_walk.treadmill import TreadmillError
from custom_components.retro_walk.treadmill.ftms import FtmsTreadmill
from homeassistant.components.diagnostics import REDACTED
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir

from .bluetooth import FakeProxyScanner, async_add_proxy_scanner, async_make_unavailable
from .common import (
    STATION_DATA,
    STATION_OPTIONS,
    async_add_station,
    async_call,
    async_history,
    async_tick,
)
from .ftms_fake import BeltState, FakeTreadmill, Opcode, Result, patch_ftms

NAME = "Bluetooth treadmill"
FTMS_DATA: dict[str, Any] = {
    **STATION_DATA,
    "name": NAME,
    "treadmill_type": "ftms",
    "address": "C0:FF:EE:00:00:01",
}
REMOTE = {**STATION_OPTIONS, "remote_control": True}

STATE = "sensor.bluetooth_treadmill_session_state"
BELT = "sensor.bluetooth_treadmill_belt_speed"
CONNECTION = "binary_sensor.bluetooth_treadmill_treadmill_connection"
EVENT = "event.bluetooth_treadmill_treadmill"

PAUSE = bytes([Opcode.STOP_PAUSE, 0x02])
STOP = bytes([Opcode.STOP_PAUSE, 0x01])


@pytest.fixture
async def proxy(
    hass: HomeAssistant, enable_bluetooth: None
) -> AsyncGenerator[FakeProxyScanner]:
    """A Bluetooth proxy that hears the treadmill (it keeps it listed)."""
    # Let the bluetooth integration finish starting its (mocked) local
    # scanner first.
    await hass.async_block_till_done(wait_background_tasks=True)
    scanner, remove = async_add_proxy_scanner(hass)
    yield scanner
    remove()


@pytest.fixture
def machine() -> Iterator[FakeTreadmill]:
    """A powered FTMS treadmill in range, reached through the fake link."""
    treadmill = FakeTreadmill()
    with (
        patch_ftms(treadmill),
        # Commands that get no answer fail fast in tests.
        patch("custom_components.retro_walk.treadmill.ftms.COMMAND_TIMEOUT", 0.05),
    ):
        yield treadmill


async def _settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)


async def _advertise(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
    rssi: int = -60,
) -> None:
    proxy.advertise(machine.service_info(rssi=rssi))
    await _settle(hass)


async def _add_ftms_station(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
    options: dict[str, Any],
) -> MockConfigEntry:
    await _advertise(hass, proxy, machine)
    entry = await async_add_station(hass, FTMS_DATA, options=options)
    await _settle(hass)
    return entry


@pytest.fixture
async def ftms_entry(
    hass: HomeAssistant, proxy: FakeProxyScanner, machine: FakeTreadmill
) -> AsyncGenerator[MockConfigEntry]:
    """An FTMS station with remote control of the belt, connected."""
    entry = await _add_ftms_station(hass, proxy, machine, REMOTE)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await _settle(hass)


async def _walk(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    machine: FakeTreadmill,
    seconds: int,
) -> None:
    """Let the belt and Home Assistant's clock run together."""
    for _ in range(seconds):
        machine.advance(1.0)
        await async_tick(hass, freezer, 1)
        await _settle(hass)


def _commands(machine: FakeTreadmill) -> list[bytes]:
    """Control-point writes, without the automatic control requests."""
    return [data for _, data in machine.writes if data[0] != Opcode.REQUEST_CONTROL]


async def test_ftms_treadmill_connects_and_reports_telemetry(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    assert hass.states.get(CONNECTION).state == STATE_ON
    assert hass.states.get(BELT).state == "0.0"
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 5)
    assert float(hass.states.get(BELT).state) == pytest.approx(3.0)
    assert (
        float(hass.states.get("sensor.bluetooth_treadmill_treadmill_distance").state)
        > 0
    )
    assert float(
        hass.states.get("sensor.bluetooth_treadmill_treadmill_elapsed_time").state
    ) == pytest.approx(5 / 60, abs=0.02)
    assert hass.states.get("sensor.bluetooth_treadmill_incline").state == "0.0"
    assert (
        hass.states.get("sensor.bluetooth_treadmill_training_status").state
        == "manual_mode"
    )


async def test_ftms_treadmill_follows_the_program(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Start, forward speed for the warm-up, backward speed, stop at the end."""
    await async_call(hass, "start_session", program="custom", backward_minutes=1)
    assert machine.state is BeltState.RUNNING
    assert machine.target_speed == pytest.approx(3.0)
    await _walk(hass, freezer, machine, 62)
    assert hass.states.get(STATE).state == "backward"
    assert machine.target_speed == pytest.approx(2.0)
    await _walk(hass, freezer, machine, 120)
    assert hass.states.get(STATE).state == "idle"
    assert _commands(machine)[-1] == STOP
    assert machine.state is BeltState.STOPPED


async def test_ftms_session_distance_follows_the_real_belt(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The machine ignores speed changes: distance uses what the belt does."""
    machine.ignored.add(Opcode.SET_TARGET_SPEED)
    await async_call(hass, "start_session", program="custom", backward_minutes=2)
    # Started at the machine's own start speed, 1 km/h, and stays there.
    await _walk(hass, freezer, machine, 60 + 60)
    coordinator = ftms_entry.runtime_data.coordinator
    assert coordinator.data.backward_distance == pytest.approx(1.0 / 3.6 * 60, rel=0.05)


async def test_ftms_treadmill_pause_resume_and_stop(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 5)
    await async_call(hass, "pause_session")
    assert _commands(machine)[-1] == PAUSE
    assert machine.state is BeltState.PAUSED
    await _walk(hass, freezer, machine, 3)
    assert hass.states.get(BELT).state == "0.0"
    # Our own pause is not taken for the walker pausing on the console.
    assert ftms_entry.runtime_data.coordinator.data.pauses == 1

    await async_call(hass, "resume_session")
    assert _commands(machine)[-2:][0][0] == Opcode.START_RESUME
    assert machine.state is BeltState.RUNNING
    await async_call(hass, "stop_session")
    assert _commands(machine)[-1] == STOP
    await _walk(hass, freezer, machine, 6)
    assert events == []


async def test_ftms_treadmill_that_ignores_pause_raises_did_not_stop(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Answered SUCCESS, belt still running: the event and the repair issue."""
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 5)
    machine.ignored.add(Opcode.STOP_PAUSE)
    await async_call(hass, "pause_session")
    await _walk(hass, freezer, machine, 5)
    assert len(events) == 1
    assert events[0].data["speed"] == pytest.approx(3.0)
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, f"treadmill_did_not_stop_{ftms_entry.entry_id}"
    )
    assert hass.states.get(EVENT).attributes["event_type"] == "did_not_stop"


@pytest.mark.parametrize(
    "result", [Result.FAILED, Result.NOT_PERMITTED, Result.NOT_SUPPORTED]
)
async def test_ftms_treadmill_pause_result_code_is_checked(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
    result: Result,
) -> None:
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 3)
    machine.result_codes[Opcode.STOP_PAUSE] = result
    with pytest.raises(HomeAssistantError) as err:
        await async_call(hass, "pause_session")
    assert err.value.translation_key == "treadmill_command_failed"
    assert hass.states.get(STATE).state == "paused"
    await _walk(hass, freezer, machine, 5)
    assert len(events) == 1


async def test_ftms_treadmill_command_timeout_is_caught(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await async_call(hass, "start_session")
    machine.unanswered.add(Opcode.STOP_PAUSE)
    with pytest.raises(HomeAssistantError):
        await async_call(hass, "pause_session")
    assert "TimeoutError" in caplog.text


async def test_ftms_treadmill_bleak_error_is_caught(
    hass: HomeAssistant, ftms_entry: MockConfigEntry, machine: FakeTreadmill
) -> None:
    machine.write_error = BleakError("GATT write failed")
    with pytest.raises(HomeAssistantError) as err:
        await async_call(hass, "start_session")
    assert err.value.translation_key == "treadmill_command_failed"
    assert hass.states.get(STATE).state == "idle"


async def test_ftms_safety_key_stop_pauses_and_is_recorded(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 10)
    machine.press_safety_key()
    await _settle(hass)
    assert hass.states.get(STATE).state == "paused_by_safety"
    assert hass.states.get(EVENT).attributes["event_type"] == "safety_key_stop"
    assert hass.states.get("sensor.bluetooth_treadmill_safety_pauses").state == "1"
    await async_call(hass, "stop_session")
    (record,) = (await async_history(hass))["sessions"]
    assert [event["kind"] for event in record["safety_events"]] == ["safety_key"]
    assert record["safety_pauses"] == 1


async def test_ftms_console_pause_pauses_the_session(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 5)
    machine.console_pause()
    await _settle(hass)
    assert hass.states.get(STATE).state == "paused"


async def test_ftms_treadmill_power_cycle_reconnects(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Off: unavailable, logged once; on again: re-attached on its advertisement."""
    caplog.set_level(logging.INFO)
    machine.power_off()
    await _settle(hass)
    assert hass.states.get(CONNECTION).state == STATE_OFF
    assert hass.states.get(BELT).state == STATE_UNAVAILABLE
    for rssi in (-61, -62, -63):  # advertisements, but it cannot connect
        await _advertise(hass, proxy, machine, rssi)
    assert caplog.text.count("is unavailable") == 1

    machine.power_on()
    # Its advertisements look as before, so Home Assistant passes none on:
    # the station retries on its own.
    await async_tick(hass, freezer, 15)
    await _settle(hass)
    assert hass.states.get(CONNECTION).state == STATE_ON
    assert hass.states.get(BELT).state == "0.0"
    assert caplog.text.count("is connected again") == 1
    await async_call(hass, "start_session")
    assert machine.state is BeltState.RUNNING


async def test_ftms_treadmill_reconnects_without_a_new_advertisement(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant passes on no unchanged advertisement: a timer retries."""
    machine.go_out_of_range()
    await _settle(hass)
    assert hass.states.get(CONNECTION).state == STATE_OFF
    machine.come_into_range()
    await async_tick(hass, freezer, 15)
    await _settle(hass)
    assert hass.states.get(CONNECTION).state == STATE_ON


async def test_ftms_treadmill_out_of_range_and_back(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    machine.go_out_of_range()
    proxy.forget(machine.address)
    await _settle(hass)
    await async_make_unavailable(hass, machine.address, fire_time_changed=False)
    await _settle(hass)
    assert hass.states.get(CONNECTION).state == STATE_OFF
    assert caplog.text.count("is unavailable") == 1
    machine.come_into_range()
    await _advertise(hass, proxy, machine)
    assert hass.states.get(CONNECTION).state == STATE_ON
    assert caplog.text.count("is connected again") == 1


async def test_ftms_connection_lost_mid_session_fails_safe(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The link drops under a walker: paused for safety, and the partner alert."""
    events = async_capture_events(hass, EVENT_TREADMILL_DID_NOT_STOP)
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 5)
    machine.go_out_of_range()
    await _settle(hass)
    assert hass.states.get(STATE).state == "paused_by_safety"
    await async_tick(hass, freezer, 5)
    assert len(events) == 1
    assert events[0].data["speed"] is None
    assert events[0].data["reason"] == "connection_lost"

    # Back in range with the belt still running: it is paused on reconnect.
    machine.come_into_range()
    await async_tick(hass, freezer, 10)
    await _settle(hass)
    machine.advance(1.0)
    await _settle(hass)
    assert _commands(machine)[-1] == PAUSE
    assert hass.states.get(STATE).state == "paused_by_safety"


async def test_ftms_treadmill_without_remote_control(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Opt-in: the walker drives the belt; safety pauses still go through."""
    entry = await _add_ftms_station(hass, proxy, machine, STATION_OPTIONS)
    assert hass.states.get("number.bluetooth_treadmill_belt_target_speed") is None
    assert hass.states.get("button.bluetooth_treadmill_speed_up") is None
    await async_call(hass, "start_session")
    assert _commands(machine) == []
    machine.console_start()
    await _walk(hass, freezer, machine, 3)
    assert hass.states.get(STATE).state == "warm_up"
    await entry.runtime_data.coordinator.async_safety_halt("instability")
    await _settle(hass)
    assert _commands(machine) == [PAUSE]
    assert hass.states.get(STATE).state == "paused_by_safety"
    with pytest.raises(ServiceValidationError) as err:
        await entry.runtime_data.coordinator.async_set_belt_speed(2.0)
    assert err.value.translation_key == "remote_control_off"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ftms_treadmill_speed_controls_respect_the_cap(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Beginner: the 12 km/h machine is capped at 3.2 km/h."""
    number = "number.bluetooth_treadmill_belt_target_speed"
    state = hass.states.get(number)
    assert state.attributes["min"] == 0.5
    assert state.attributes["max"] == 3.2
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 4.0}, blocking=True
        )
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 2.5}, blocking=True
    )
    await _settle(hass)
    assert machine.target_speed == pytest.approx(2.5)
    assert float(hass.states.get(number).state) == pytest.approx(2.5)

    for _ in range(3):
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": "button.bluetooth_treadmill_speed_up"},
            blocking=True,
        )
        await _settle(hass)
    assert machine.target_speed == pytest.approx(3.2)
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.bluetooth_treadmill_slow_down"},
        blocking=True,
    )
    await _settle(hass)
    assert machine.target_speed == pytest.approx(2.7)


async def test_ftms_treadmill_incline(
    hass: HomeAssistant, ftms_entry: MockConfigEntry, machine: FakeTreadmill
) -> None:
    number = "number.bluetooth_treadmill_belt_incline"
    assert hass.states.get(number).attributes["max"] == 15.0
    await async_call(hass, "start_session")
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": 2.0}, blocking=True
    )
    await _settle(hass)
    assert machine.target_incline == pytest.approx(2.0)
    machine.result_codes[Opcode.SET_TARGET_INCLINATION] = Result.INVALID_PARAMETER
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 3.0}, blocking=True
        )


async def test_ftms_treadmill_off_at_startup(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
) -> None:
    """Never seen yet: the station loads, the treadmill shows unavailable."""
    entry = await async_add_station(hass, FTMS_DATA, options=REMOTE)
    assert hass.states.get(CONNECTION).state == STATE_OFF
    with pytest.raises(HomeAssistantError) as err:
        await async_call(hass, "start_session")
    assert err.value.translation_key == "treadmill_unavailable"
    await _advertise(hass, proxy, machine)
    assert hass.states.get(CONNECTION).state == STATE_ON
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ftms_treadmill_connect_error_is_logged_once(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    caplog.set_level(logging.INFO)
    machine.connect_error = BleakError("le-connection-abort-by-local")
    entry = await _add_ftms_station(hass, proxy, machine, REMOTE)
    await _advertise(hass, proxy, machine, rssi=-70)
    await async_tick(hass, freezer, 15)
    await _settle(hass)
    assert machine.connect_attempts >= 2
    assert caplog.text.count("is unavailable") == 1
    machine.connect_error = None
    await async_tick(hass, freezer, 15)
    await _settle(hass)
    assert hass.states.get(CONNECTION).state == STATE_ON
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ftms_treadmill_restored_session_never_restarts_the_belt(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant died mid-session; the machine kept its belt running."""
    entry = await _add_ftms_station(hass, proxy, machine, REMOTE)
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 5)
    key = f"{DOMAIN}.{entry.entry_id}"
    await entry.runtime_data.history.async_save()
    at_crash = copy.deepcopy(hass_storage[key])
    await hass.config_entries.async_unload(entry.entry_id)
    await _settle(hass)
    machine.console_start()  # running again, as if nothing had stopped it
    hass_storage[key] = at_crash
    writes = len(_commands(machine))

    await hass.config_entries.async_setup(entry.entry_id)
    await _advertise(hass, proxy, machine)
    machine.advance(1.0)
    await _settle(hass)
    assert hass.states.get(STATE).state == "interrupted"
    new = _commands(machine)[writes:]
    assert PAUSE in new
    assert all(data[0] != Opcode.START_RESUME for data in new)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ftms_treadmill_unload_disconnects(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
) -> None:
    entry = await _add_ftms_station(hass, proxy, machine, REMOTE)
    assert machine.connected
    await hass.config_entries.async_unload(entry.entry_id)
    await _settle(hass)
    assert not machine.connected


async def test_ftms_diagnostics_show_the_machine(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    ftms_entry: MockConfigEntry,
) -> None:
    result = await get_diagnostics_for_config_entry(hass, hass_client, ftms_entry)
    treadmill = result["treadmill"]
    assert treadmill["type"] == "FtmsTreadmill"
    assert treadmill["address"] == REDACTED
    assert result["entry"]["data"]["address"] == REDACTED
    assert treadmill["remote_control"] is True
    assert treadmill["ranges"]["target_speed"] == [0.5, 12.0, 0.1]
    assert "target_speed" in treadmill["supported_settings"]
    assert treadmill["device_info"]["manufacturer"]
    assert treadmill["device_info"]["serial_number"] == REDACTED


async def test_ftms_treadmill_waits_for_bluetooth(hass: HomeAssistant) -> None:
    """Without Home Assistant's Bluetooth integration the station retries."""
    entry = MockConfigEntry(
        domain=DOMAIN, title=NAME, data=dict(FTMS_DATA), options=dict(REMOTE)
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert entry.reason.startswith(
        "Home Assistant's Bluetooth integration is not set up"
    )


async def test_ftms_connection_lost_while_paused_stays_a_pause(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nobody walks on a paused belt: losing the link is not a safety event."""
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 3)
    await async_call(hass, "pause_session")
    await _walk(hass, freezer, machine, 3)
    machine.drop_connection()
    await _settle(hass)
    assert hass.states.get(STATE).state == "paused"
    assert hass.states.get("sensor.bluetooth_treadmill_safety_pauses").state == "0"


def _station_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert device is not None
    return device


async def test_ftms_device_shows_the_machine(
    hass: HomeAssistant, ftms_entry: MockConfigEntry, machine: FakeTreadmill
) -> None:
    """Make and model come from the machine's Device Information Service."""
    device = _station_device(hass, ftms_entry)
    assert (device.manufacturer, device.model) == ("Retro Fitness", "RW-100")
    assert (device.sw_version, device.hw_version) == ("1.4.2", "B2")
    assert ftms_entry.runtime_data.treadmill.device_info == {
        "manufacturer": "Retro Fitness",
        "model": "RW-100",
        "sw_version": "1.4.2",
        "hw_version": "B2",
    }


async def test_ftms_device_updated_when_the_machine_connects_later(
    hass: HomeAssistant, proxy: FakeProxyScanner
) -> None:
    """Seen only after the station loaded; firmware revision as the version."""
    machine = FakeTreadmill(
        device_info={"manufacturer": "Acme", "model": "Walk 2", "fw_version": "7.1"}
    )
    with patch_ftms(machine):
        entry = await async_add_station(hass, FTMS_DATA, options=REMOTE)
        device = _station_device(hass, entry)
        assert (device.manufacturer, device.model) == ("Retro Walk", "FTMS treadmill")
        await _advertise(hass, proxy, machine)
        device = _station_device(hass, entry)
        assert (device.manufacturer, device.model) == ("Acme", "Walk 2")
        assert (device.sw_version, device.hw_version) == ("7.1", None)
        await hass.config_entries.async_unload(entry.entry_id)
        await _settle(hass)


async def test_ftms_treadmill_commands_and_edges(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What the services never reach: incline, speed 0, lost control, no link."""
    caplog.set_level(logging.INFO)
    treadmill = ftms_entry.runtime_data.treadmill
    assert isinstance(treadmill, FtmsTreadmill)
    machine.advance(1.0)
    assert treadmill.incline == 0.0
    await treadmill.async_set_speed(2.0)
    assert machine.state is BeltState.RUNNING
    await treadmill.async_set_speed(0.0)  # no speed: a pause
    assert machine.state is BeltState.PAUSED
    machine.revoke_control()
    assert "took control back" in caplog.text
    await treadmill.async_set_incline(1.0)  # control is asked for again
    assert machine.target_incline == 1.0
    treadmill.remote_control = False
    with pytest.raises(TreadmillError, match="remote control"):
        await treadmill.async_set_incline(2.0)
    machine.drop_connection()
    assert treadmill.incline is None
    with pytest.raises(TreadmillError, match="not connected"):
        await treadmill.async_pause()


async def test_ftms_treadmill_close_while_connecting_or_failing(
    hass: HomeAssistant,
    proxy: FakeProxyScanner,
    machine: FakeTreadmill,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    entry = await _add_ftms_station(hass, proxy, machine, REMOTE)
    treadmill = entry.runtime_data.treadmill
    assert isinstance(treadmill, FtmsTreadmill)
    client = treadmill.machine
    assert client is not None
    with patch.object(client, "disconnect", side_effect=BleakError("dbus gone")):
        await hass.config_entries.async_unload(entry.entry_id)
    assert "Disconnecting Bluetooth treadmill failed" in caplog.text

    machine.drop_connection()  # the link the failed disconnect left
    # Set up again while the machine takes its time to answer.
    machine.connect_delay = 10.0
    await hass.config_entries.async_setup(entry.entry_id)
    treadmill = entry.runtime_data.treadmill
    assert isinstance(treadmill, FtmsTreadmill)
    assert treadmill._is_connecting
    await hass.config_entries.async_unload(entry.entry_id)
    await _settle(hass)
    assert not treadmill._is_connecting
    assert not machine.connected


@pytest.mark.timeout(30)  # before the fix, the pause waited for ever here
async def test_ftms_safety_pause_goes_before_a_slow_speed_change(
    hass: HomeAssistant,
    ftms_entry: MockConfigEntry,
    machine: FakeTreadmill,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The machine is slow to answer a speed change when the walker stumbles:
    the pause is written at once, not after the speed command's timeout."""
    await async_call(hass, "start_session")
    await _walk(hass, freezer, machine, 2)
    machine.unanswered.add(Opcode.SET_TARGET_SPEED)
    coordinator = ftms_entry.runtime_data.coordinator
    speed = hass.async_create_task(coordinator.async_step_speed(0.5))
    for _ in range(10):  # (the clock is frozen: let the write go out)
        await asyncio.sleep(0)
    assert _commands(machine)[-1][0] == Opcode.SET_TARGET_SPEED
    writes = len(machine.writes)
    await coordinator.async_safety_halt("instability")
    pause = [data for _, data in machine.writes[writes:]]
    assert pause == [PAUSE]
    with pytest.raises(HomeAssistantError):
        await speed  # it gave way to the pause
    assert hass.states.get("sensor.bluetooth_treadmill_session_state").state == (
        "paused_by_safety"
    )
