"""The fake FTMS treadmill under our FTMS client, and in Home Assistant's bluetooth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass, field
import logging
import struct
import time
from typing import Any
from unittest.mock import patch
from uuid import UUID

from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTServiceCollection
from bleak.exc import BleakError
from bleak_retry_connector import BleakConnectionError, BleakNotFoundError
import pytest

from custom_components.retro_walk.treadmill import ftms_client
from custom_components.retro_walk.treadmill.ftms_client import (
    ControlEvent,
    FtmsClient,
    FtmsConnectionError,
    FtmsError,
    MachineEvent,
    NotATreadmillError,
)
from custom_components.retro_walk.treadmill.ftms_protocol import (
    MachineType,
    ResultCode,
    TrainingStatusCode,
    is_treadmill,
    parse_service_data,
)
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant

from . import ftms_fake
from .bluetooth import (
    async_inject_bluetooth_service_info,
    async_make_unavailable,
    inject_bluetooth_service_info,
)
from .ftms_fake import (
    DEFAULT_ADDRESS,
    DEFAULT_NAME,
    BeltState,
    FakeBleakClient,
    FakeTreadmill,
    patch_ftms,
)

TIMEOUT = 0.1  # the client's control timeout in these tests (2 s by default)
STARTED = ControlEvent(MachineEvent.STARTED, own=True)


@dataclass
class Link:
    """An FTMS client on a fake machine, with what it reported."""

    machine: FakeTreadmill
    client: FtmsClient
    updates: list[dict[str, Any]] = field(default_factory=list)
    events: list[ControlEvent] = field(default_factory=list)
    disconnects: list[FtmsClient] = field(default_factory=list)

    def last(self, key: str) -> Any:
        return next(u[key] for u in reversed(self.updates) if key in u)


def make_client(machine: FakeTreadmill) -> Link:
    """An FTMS client for ``machine``, built from its advertisement."""
    updates: list[dict[str, Any]] = []
    events: list[ControlEvent] = []
    disconnects: list[FtmsClient] = []
    client = FtmsClient(
        machine.service_info().device,
        timeout=TIMEOUT,
        on_update=lambda values: updates.append(dict(values)),
        on_event=events.append,
        on_disconnect=disconnects.append,
    )
    return Link(machine, client, updates, events, disconnects)


@pytest.fixture
def machine() -> Generator[FakeTreadmill]:
    """A fake treadmill the client connects to."""
    treadmill = FakeTreadmill()
    with patch_ftms(treadmill):
        yield treadmill


@pytest.fixture
async def link(machine: FakeTreadmill) -> AsyncGenerator[Link]:
    """A connected client."""
    connected = make_client(machine)
    await connected.client.connect()
    yield connected
    await connected.client.disconnect()


def fake_cli(link: Link) -> FakeBleakClient:
    cli = link.client._client
    assert isinstance(cli, FakeBleakClient)
    return cli


def opcodes(machine: FakeTreadmill) -> list[int]:
    return [data[0] for _, data in machine.writes]


# ---------------------------------------------------------------------------
# Advertisement and connection
# ---------------------------------------------------------------------------


def test_ftms_advertisement_is_a_connectable_treadmill() -> None:
    machine = FakeTreadmill()
    info = machine.service_info(rssi=-48)

    assert is_treadmill(info.service_data)
    assert is_treadmill(info.advertisement.service_data)
    ftms = "00001826-0000-1000-8000-00805f9b34fb"
    assert parse_service_data(info.service_data[ftms]) == (True, MachineType.TREADMILL)
    assert info.connectable
    assert isinstance(info.device, BLEDevice)
    assert (info.address, info.name, info.rssi) == (DEFAULT_ADDRESS, DEFAULT_NAME, -48)
    assert info.device.address == DEFAULT_ADDRESS
    assert info.service_uuids == [ftms]
    assert info.service_data == {ftms: b"\x01\x01\x00"}
    assert info.advertisement.local_name == DEFAULT_NAME
    assert info.advertisement.rssi == -48
    client = FtmsClient(info.device)
    assert client.address == DEFAULT_ADDRESS
    assert repr(client) == f"<FtmsClient {DEFAULT_ADDRESS} disconnected>"
    assert not client.is_connected


async def test_ftms_connect_reads_device_info_features_and_ranges(
    link: Link, machine: FakeTreadmill
) -> None:
    client = link.client
    assert client.is_connected
    assert repr(client) == f"<FtmsClient {DEFAULT_ADDRESS} connected>"
    assert machine.connected
    assert (machine.connect_attempts, machine.connections) == (1, 1)
    assert client.device_info == machine.device_info  # empty strings left out
    assert client.supported_settings == ["target_speed", "target_inclination"]
    ranges = client.supported_ranges
    assert tuple(ranges["target_speed"]) == pytest.approx((0.5, 12.0, 0.1))
    assert tuple(ranges["target_inclination"]) == pytest.approx((0.0, 15.0, 0.5))
    assert client.supported_properties == [
        "speed_instant",
        "distance_total",
        "inclination",
        "ramp_angle",
        "time_elapsed",
        "training_status",
    ]
    assert not client.controlled  # control is asked for with the first command
    assert link.updates == [{"training_status": TrainingStatusCode.IDLE}]
    # An idle machine sends all-zero data: reported as it is.
    machine.advance(5)
    assert machine.notifications[-1][0] == "2acd"
    assert link.updates[-1] == {
        "speed_instant": 0.0,
        "distance_total": 0,
        "inclination": 0.0,
        "ramp_angle": 0.0,
        "time_elapsed": 0,
    }
    await client.connect()  # already connected: nothing happens
    assert machine.connect_attempts == 1


async def test_ftms_uuids_in_every_form(link: Link, machine: FakeTreadmill) -> None:
    cli = fake_cli(link)
    short = cli.services.get_characteristic("2acd")
    assert short is not None
    assert (
        cli.services.get_characteristic("00002ACD-0000-1000-8000-00805F9B34FB") is short
    )
    assert cli.services.get_characteristic(UUID(short.uuid)) is short
    assert cli.services.get_characteristic(short.handle) is short
    assert short.service_uuid == "00001826-0000-1000-8000-00805f9b34fb"
    assert [d.uuid[4:8] for d in short.descriptors] == ["2902"]
    dis = cli.services.get_service("180a")
    assert dis is not None
    assert dis.get_characteristic("2a29") is not None
    assert await cli.read_gatt_char("2a29") == b"Retro Fitness"
    features = await cli.read_gatt_char("00002acc-0000-1000-8000-00805f9b34fb")
    assert struct.unpack("<II", features) == (0x100C, 0x03)
    speed_range = cli.services.get_characteristic("2ad4")
    assert speed_range is not None
    assert await cli.read_gatt_char(speed_range) == struct.pack("<HHH", 50, 1200, 10)
    with pytest.raises(BleakError):
        await cli.read_gatt_char("2ad9")
    with pytest.raises(BleakError):
        await cli.read_gatt_char("2a00")


async def test_ftms_unknown_machine_is_not_found() -> None:
    known, other = FakeTreadmill(), FakeTreadmill("C0:FF:EE:00:00:02")
    with patch_ftms(known):
        link = make_client(other)
        with pytest.raises(BleakNotFoundError):
            await link.client.connect()


async def test_ftms_device_without_treadmill_data(machine: FakeTreadmill) -> None:
    """No FTMS service: not a treadmill, and the link is closed again."""
    link = make_client(machine)
    with (
        patch("tests.ftms_fake._build_gatt", return_value=BleakGATTServiceCollection()),
        pytest.raises(NotATreadmillError),
    ):
        await link.client.connect()
    assert not machine.connected
    assert not link.client.is_connected
    assert link.disconnects == []  # a set-up that failed is no lost link


# ---------------------------------------------------------------------------
# Driving the belt
# ---------------------------------------------------------------------------


async def test_ftms_start_accelerates_and_reports_the_data(
    link: Link, machine: FakeTreadmill
) -> None:
    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert link.client.controlled
    assert machine.state is BeltState.RUNNING
    assert machine.target_speed == 1.0  # default start speed
    assert link.events == [STARTED]  # the echo of our own command
    assert link.last("target_speed") == 1.0
    assert link.last("training_status") == TrainingStatusCode.MANUAL_MODE
    assert machine.writes[0][1] == b"\x00"  # the client requested control first
    assert machine.writes[1][1] == b"\x07"
    assert machine.notifications[:4] == [
        ("2ad9", b"\x80\x00\x01"),
        ("2ad9", b"\x80\x07\x01"),
        ("2ada", b"\x04"),
        ("2ada", b"\x05\x64\x00"),
    ]

    machine.advance(0.5)
    assert machine.speed == pytest.approx(0.5)  # 1 km/h per second
    assert link.updates[-1] == {
        "speed_instant": 0.5,
        "distance_total": 0,
        "inclination": 0.0,
        "ramp_angle": 0.0,
        "time_elapsed": 0,
    }
    flags = (1 << 2) | (1 << 3) | (1 << 10)
    assert machine.notifications[-1] == (
        "2acd",
        struct.pack("<HH", flags, 50) + b"\x00\x00\x00" + struct.pack("<hhH", 0, 0, 0),
    )

    machine.run(10)
    assert machine.speed == pytest.approx(1.0)
    # 0.5 s of speeding up to 0.5 km/h, 0.5 s more to 1 km/h, then 9.5 s at 1 km/h.
    assert machine.distance == pytest.approx((0.125 + 0.375 + 9.5) / 3.6)
    assert link.last("speed_instant") == 1.0
    assert link.last("distance_total") == 2
    assert link.last("time_elapsed") == 10


async def test_ftms_set_target_speed_and_inclination(
    link: Link, machine: FakeTreadmill
) -> None:
    assert await link.client.set_target_speed(3.5) == ResultCode.SUCCESS
    assert await link.client.set_target_inclination(2.5) == ResultCode.SUCCESS
    assert machine.writes[-2][1] == b"\x02" + struct.pack("<H", 350)
    assert machine.writes[-1][1] == b"\x03" + struct.pack("<h", 25)
    targets = [
        u for u in link.updates if "target_speed" in u or "target_inclination" in u
    ]
    assert targets == [
        {"target_speed": 3.5},  # the machine's status
        {"target_speed": 3.5},  # the answer
        {"target_inclination": 2.5},
        {"target_inclination": 2.5},
    ]
    # Set while idle: stored, the belt waits for a start.
    machine.advance(3)
    assert machine.speed == 0.0
    assert machine.incline == pytest.approx(2.5)  # 1 % per second

    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert machine.target_speed == 3.5
    machine.run(4)
    assert machine.speed == pytest.approx(3.5)
    assert link.last("speed_instant") == pytest.approx(3.5)
    assert link.last("inclination") == pytest.approx(2.5)
    assert link.last("ramp_angle") == pytest.approx(1.4)  # atan(2.5 %) = 1.43 degrees

    assert await link.client.set_target_speed(2.0) == ResultCode.SUCCESS
    machine.advance(0.5)
    assert machine.speed == pytest.approx(2.5)  # 2 km/h per second down
    machine.advance(1)
    assert machine.speed == pytest.approx(2.0)

    assert await link.client.set_target_speed(15.0) == ResultCode.INVALID_PARAMETER
    assert await link.client.set_target_inclination(-3.0) == (
        ResultCode.INVALID_PARAMETER
    )
    assert machine.target_speed == 2.0
    assert link.last("target_speed") == 2.0  # a refused target is not reported
    with pytest.raises(ValueError, match="out of range"):
        await link.client.set_target_speed(-1.0)


async def test_ftms_pause_decelerates_and_resume_continues(
    link: Link, machine: FakeTreadmill
) -> None:
    await link.client.set_target_speed(4.0)
    await link.client.start_resume()
    machine.run(10)
    distance, elapsed = machine.distance, machine.elapsed
    link.events.clear()

    assert await link.client.pause() == ResultCode.SUCCESS
    assert machine.state is BeltState.PAUSED
    assert machine.belt_target == 0.0
    assert link.events == [ControlEvent(MachineEvent.PAUSED, own=True)]
    assert link.last("training_status") == TrainingStatusCode.IDLE
    machine.advance(1)
    assert machine.speed == pytest.approx(2.0)
    assert link.last("speed_instant") == pytest.approx(2.0)
    machine.advance(1)
    assert machine.speed == 0.0
    assert link.last("speed_instant") == 0.0
    assert machine.elapsed == elapsed  # the clock stops with a pause
    assert machine.distance == pytest.approx(distance + (3.0 + 1.0) / 3.6)

    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert machine.target_speed == 4.0  # resumes at the speed it had
    machine.run(5)
    assert machine.speed == pytest.approx(4.0)
    assert machine.elapsed == elapsed + 5
    assert machine.distance > distance


async def test_ftms_stop_ends_the_workout(link: Link, machine: FakeTreadmill) -> None:
    await link.client.start_resume()
    machine.run(5)
    assert await link.client.stop() == ResultCode.SUCCESS
    assert link.events[-1] == ControlEvent(MachineEvent.STOPPED, own=True)
    assert machine.state is BeltState.STOPPED
    assert link.last("training_status") == TrainingStatusCode.POST_WORKOUT
    machine.run(2)
    assert machine.speed == 0.0
    assert machine.distance > 0

    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert (machine.distance, machine.elapsed) == (0.0, 0.0)  # a new workout
    assert machine.target_speed == 1.0


async def test_ftms_reset_gives_control_up(link: Link, machine: FakeTreadmill) -> None:
    await link.client.start_resume()
    machine.run(3)
    assert await link.client.reset() == ResultCode.SUCCESS
    assert link.events[-1] == ControlEvent(MachineEvent.RESET, own=True)
    assert machine.state is BeltState.IDLE
    assert not machine.controlled
    assert not link.client.controlled
    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert [w[1] for w in machine.writes[-2:]] == [b"\x00", b"\x07"]


async def test_ftms_split_data_packets_are_merged(
    link: Link, machine: FakeTreadmill
) -> None:
    machine.split_data = True
    await link.client.set_target_inclination(1.0)
    await link.client.start_resume()
    link.updates.clear()
    machine.run(3)
    assert [n[0] for n in machine.notifications[-2:]] == ["2acd", "2acd"]
    assert machine.notifications[-2][1][0] & 1  # More Data
    records = [u for u in link.updates if "speed_instant" in u]
    assert len(records) == 3  # one per pair of packets
    assert set(records[0]) == {
        "distance_total",  # from the first packet
        "speed_instant",
        "inclination",
        "ramp_angle",
        "time_elapsed",
    }
    assert records[-1]["speed_instant"] == 1.0
    assert records[-1]["inclination"] == 1.0
    assert records[-1]["time_elapsed"] == 3


async def test_ftms_console_events_are_not_ours(
    link: Link, machine: FakeTreadmill
) -> None:
    machine.console_start()
    machine.console_set_speed(2.5)
    machine.console_set_incline(20)
    machine.console_pause()
    assert link.events == [
        ControlEvent(MachineEvent.STARTED),
        ControlEvent(MachineEvent.PAUSED),
    ]
    targets = [
        u for u in link.updates if "target_speed" in u or "target_inclination" in u
    ]
    assert targets == [
        {"target_speed": 1.0},
        {"target_speed": 2.5},
        {"target_inclination": 15.0},
    ]
    machine.console_stop()
    assert link.events[-1] == ControlEvent(MachineEvent.STOPPED)


async def test_ftms_own_echo_window(link: Link, machine: FakeTreadmill) -> None:
    """A console pause well after our own pause is the walker's again."""
    await link.client.start_resume()
    with patch.object(ftms_client, "OWN_EVENT_WINDOW", 0.0):
        await link.client.pause()
    assert link.events[-1] == ControlEvent(MachineEvent.PAUSED, own=True)
    await asyncio.sleep(0.01)
    machine.console_start()
    machine.console_pause()
    assert link.events[-1] == ControlEvent(MachineEvent.PAUSED, own=False)


async def test_ftms_lost_control_is_requested_again(
    link: Link, machine: FakeTreadmill
) -> None:
    """Status 0xFF (a KeyError inside pyftms) drops control; asked for again."""
    await link.client.set_target_speed(3.0)
    assert link.client.controlled
    machine.revoke_control()  # raise_callback_errors is on: nothing raised
    assert machine.callback_errors == []
    assert link.events[-1] == ControlEvent(MachineEvent.CONTROL_LOST)
    assert not link.client.controlled
    assert await link.client.set_target_speed(3.5) == ResultCode.SUCCESS
    assert opcodes(machine) == [0x00, 0x02, 0x00, 0x02]
    assert machine.target_speed == 3.5


async def test_ftms_not_permitted_requests_control_once_more(
    link: Link, machine: FakeTreadmill
) -> None:
    """The machine forgot our control silently: one new request, then the command."""
    await link.client.start_resume()
    machine.controlled = False
    assert await link.client.set_target_speed(2.0) == ResultCode.SUCCESS
    assert opcodes(machine) == [0x00, 0x07, 0x02, 0x00, 0x02]

    # Refused again: reported after one more request, not in a loop.
    machine.controlled = False
    machine.result_codes[0x00] = 0x05
    assert await link.client.set_target_speed(2.5) == ResultCode.NOT_PERMITTED
    assert opcodes(machine)[5:] == [0x02, 0x00]
    assert machine.target_speed == 2.0


async def test_ftms_stopping_is_sent_even_without_control(
    link: Link, machine: FakeTreadmill
) -> None:
    """Refused control does not keep a pause from going out."""
    machine.console_start()
    machine.result_codes[0x00] = 0x05
    assert await link.client.start_resume() == ResultCode.NOT_PERMITTED
    assert opcodes(machine) == [0x00]  # a start is not insisted on
    assert await link.client.pause() == ResultCode.NOT_PERMITTED
    assert opcodes(machine) == [0x00, 0x00, 0x08]
    assert await link.client.request_control() == ResultCode.NOT_PERMITTED


async def test_ftms_without_status_after_commands(
    link: Link, machine: FakeTreadmill
) -> None:
    machine.status_after_commands = False
    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert await link.client.pause() == ResultCode.SUCCESS
    assert link.events == []
    assert machine.state is BeltState.PAUSED


# ---------------------------------------------------------------------------
# Failure modes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opcode", "code", "result", "written"),
    [
        (0x07, 0x04, ResultCode.FAILED, [0x00, 0x07]),
        (0x07, 0x05, ResultCode.NOT_PERMITTED, [0x00, 0x07]),
        (0x07, 0x02, ResultCode.NOT_SUPPORTED, [0x00, 0x07]),
        # A refused Request Control: the start is not sent.
        (0x00, 0x05, ResultCode.NOT_PERMITTED, [0x00]),
        (0x07, 0x2A, 0x2A, [0x00, 0x07]),  # a code the specification lacks
    ],
)
async def test_ftms_result_codes(
    link: Link,
    machine: FakeTreadmill,
    opcode: int,
    code: int,
    result: ResultCode | int,
    written: list[int],
) -> None:
    machine.result_codes[opcode] = code
    assert await link.client.start_resume() == result
    assert opcodes(machine) == written
    assert machine.state is BeltState.IDLE
    assert link.events == []
    machine.result_codes.clear()
    assert await link.client.start_resume() == ResultCode.SUCCESS


async def test_ftms_ignored_command(link: Link, machine: FakeTreadmill) -> None:
    await link.client.start_resume()
    machine.run(2)
    machine.ignored.add(0x02)
    assert await link.client.set_target_speed(5.0) == ResultCode.SUCCESS
    assert link.last("target_speed") == 5.0  # what the machine accepted
    machine.run(3)
    assert machine.speed == 1.0
    assert machine.target_speed == 1.0

    machine.ignored.add(0x08)
    assert await link.client.pause() == ResultCode.SUCCESS
    machine.run(2)
    assert machine.state is BeltState.RUNNING
    assert machine.speed == 1.0


async def test_ftms_unanswered_command_times_out(
    link: Link, machine: FakeTreadmill
) -> None:
    machine.unanswered.add(0x07)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="START_RESUME"):
        await link.client.start_resume()
    assert time.monotonic() - started == pytest.approx(TIMEOUT, abs=0.08)
    assert machine.state is BeltState.IDLE
    assert machine.writes[-1][1] == b"\x07"
    assert link.client.is_connected
    machine.unanswered.clear()
    assert await link.client.start_resume() == ResultCode.SUCCESS


async def test_ftms_answer_to_another_request_is_not_taken(
    link: Link, machine: FakeTreadmill
) -> None:
    """A late or stray answer is ignored; the command waits for its own."""
    await link.client.start_resume()
    fake_cli(link).deliver("2ad9", b"\x80\x07\x01")  # nothing waits: ignored
    fake_cli(link).deliver("2ad9", b"\x80\x11\x02")  # an op code we never send
    machine.response_delay = 0.03
    command = asyncio.ensure_future(link.client.set_target_speed(2.0))
    await asyncio.sleep(0.01)
    fake_cli(link).deliver("2ad9", b"\x80\x07\x04")  # an answer to a start
    assert not command.done()
    assert await command == ResultCode.SUCCESS

    machine.unanswered.add(0x02)
    command = asyncio.ensure_future(link.client.set_target_speed(3.0))
    await asyncio.sleep(0.01)
    fake_cli(link).deliver("2ad9", b"\x80\x08\x01")
    with pytest.raises(TimeoutError):
        await command


async def test_ftms_write_error(link: Link, machine: FakeTreadmill) -> None:
    await link.client.start_resume()
    machine.write_error = BleakError("org.bluez.Error.Failed: Operation failed")
    with pytest.raises(BleakError, match="Operation failed"):
        await link.client.set_target_speed(3.0)
    assert machine.writes[-1][1] == b"\x02" + struct.pack("<H", 300)  # still recorded
    assert machine.target_speed == 1.0
    machine.write_error = None
    assert await link.client.set_target_speed(3.0) == ResultCode.SUCCESS


async def test_ftms_writes_are_timestamped_first(
    link: Link, machine: FakeTreadmill
) -> None:
    before = time.perf_counter_ns()
    await link.client.start_resume()
    after = time.perf_counter_ns()
    stamps = [stamp for stamp, _ in machine.writes]
    assert before <= stamps[0] <= stamps[1] <= after


async def test_ftms_slow_answers(link: Link, machine: FakeTreadmill) -> None:
    machine.response_delay = 0.03
    started = time.monotonic()
    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert time.monotonic() - started >= 0.06  # request control, then start
    machine.response_delay = TIMEOUT * 2
    with pytest.raises(TimeoutError):
        await link.client.pause()
    assert machine.state is BeltState.PAUSED  # run, but answered too late


async def test_ftms_safety_key(link: Link, machine: FakeTreadmill) -> None:
    await link.client.set_target_speed(3.0)
    await link.client.start_resume()
    machine.run(5)
    link.events.clear()

    machine.press_safety_key()
    assert link.events == [ControlEvent(MachineEvent.SAFETY_KEY)]
    assert machine.speed == 0.0
    assert machine.state is BeltState.STOPPED
    machine.advance(1)
    assert link.last("speed_instant") == 0.0

    assert await link.client.start_resume() == ResultCode.FAILED
    machine.console_start()
    assert machine.state is BeltState.STOPPED
    machine.insert_safety_key()
    assert await link.client.start_resume() == ResultCode.SUCCESS


async def test_ftms_connect_error(machine: FakeTreadmill) -> None:
    link = make_client(machine)
    machine.connect_error = BleakError("out of connection slots")
    with pytest.raises(BleakError, match="slots"):
        await link.client.connect()
    machine.connect_error = None
    await link.client.connect()
    assert link.client.is_connected
    assert (machine.connect_attempts, machine.connections) == (2, 1)
    await link.client.disconnect()


async def test_ftms_malformed_packets_never_raise(
    link: Link, machine: FakeTreadmill, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad packets are skipped and logged, one warning a minute per kind."""
    caplog.set_level(logging.DEBUG, logger=ftms_client.__name__)
    cli = fake_cli(link)
    link.updates.clear()
    for _ in range(3):
        cli.deliver("2acd", b"\x00")  # not even its flags
        cli.deliver("2ada", b"")  # empty status
        cli.deliver("2ad3", b"\x00")  # training status without the status
        cli.deliver("2ad9", b"\x07")  # not a response
    cli.deliver("2ada", b"\x05\x01")  # target speed cut short
    cli.deliver("2ada", b"\x42\x01\x02")  # an op code we do not know
    cli.deliver("2acd", b"\x04\x00\x10\x00")  # speed, then half a distance
    cli.deliver("2acd", b"\x00\x00\x10\x00\xff")  # a trailing byte
    assert machine.callback_errors == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    kinds = [
        "Treadmill Data",
        "Fitness Machine Status",
        "Training Status",
        "Control Point",
    ]
    assert [next(k for k in kinds if k in r.getMessage()) for r in warnings] == kinds
    assert "0x42 ignored" in caplog.text
    # What could be read of the cut packets still counts.
    assert link.updates == [{"speed_instant": 0.16}, {"speed_instant": 0.16}]
    # After a minute, the next one warns again, with the count in between.
    with patch.object(ftms_client, "MALFORMED_LOG_INTERVAL", 0.0):
        cli.deliver("2acd", b"\x00")
    assert (
        "sent 5 malformed Treadmill Data packet(s)" in caplog.records[-1].getMessage()
    )


async def test_ftms_unreadable_values_are_left_out(machine: FakeTreadmill) -> None:
    """Short feature/range values and unreadable device information."""
    read_value = machine._read_value

    def broken(uuid: str) -> bytes:
        short = uuid[4:8]
        if short in ("2acc", "2ad4"):
            return b"\x01"
        if short == "2a25":
            raise BleakError("read not permitted")
        return read_value(uuid)

    machine._read_value = broken  # type: ignore[method-assign]
    link = make_client(machine)
    await link.client.connect()
    assert link.client.supported_settings == []
    assert link.client.supported_properties == ["speed_instant", "training_status"]
    assert "target_speed" not in link.client.supported_ranges
    assert "target_inclination" in link.client.supported_ranges
    assert "serial_number" not in link.client.device_info
    assert link.client.device_info["model"] == "RW-100"
    await link.client.disconnect()


def _gatt_without(*shorts: str) -> Callable[[], BleakGATTServiceCollection]:
    """The fake's GATT database without some characteristics."""
    full = ftms_fake._build_gatt  # taken before it is patched

    def build() -> BleakGATTServiceCollection:
        collection = full()
        for char in list(collection.characteristics.values()):
            if char.uuid[4:8] in shorts:
                del collection.characteristics[char.handle]
                service = collection.services[char.service_handle]
                del service._characteristics[char.handle]
        return collection

    return build


async def test_ftms_machine_that_only_reports(machine: FakeTreadmill) -> None:
    """No control point, status, training status, serial or incline range."""
    link = make_client(machine)
    with patch(
        "tests.ftms_fake._build_gatt",
        new=_gatt_without("2ad9", "2ada", "2ad3", "2a25", "2ad5"),
    ):
        await link.client.connect()
    assert "serial_number" not in link.client.device_info
    assert list(link.client.supported_ranges) == ["target_speed"]
    assert "training_status" not in link.client.supported_properties
    with pytest.raises(FtmsError, match="no control point"):
        await link.client.start_resume()
    machine.console_start()
    machine.advance(1)
    assert link.last("speed_instant") == 1.0
    assert link.events == []  # no status to tell


# ---------------------------------------------------------------------------
# Losing the machine
# ---------------------------------------------------------------------------


async def test_ftms_power_off_and_on(link: Link, machine: FakeTreadmill) -> None:
    await link.client.set_target_speed(3.0)
    await link.client.start_resume()
    machine.run(5)

    machine.power_off()
    assert link.disconnects == [link.client]
    assert not link.client.is_connected
    assert not link.client.controlled
    assert not machine.connected
    assert machine.speed == 0.0
    # No reconnection behind the caller's back: that is FtmsTreadmill's job.
    with pytest.raises(FtmsConnectionError, match="not connected"):
        await link.client.start_resume()
    with pytest.raises(BleakNotFoundError):
        await link.client.connect()

    machine.power_on()
    assert (machine.state, machine.distance, machine.target_speed) == (
        BeltState.IDLE,
        0.0,
        0.0,
    )
    link.updates.clear()
    link.client.set_ble_device(machine.service_info().device)
    await link.client.connect()
    assert link.client.is_connected
    assert machine.connections == 2
    assert link.updates == [{"training_status": TrainingStatusCode.IDLE}]
    assert await link.client.start_resume() == ResultCode.SUCCESS
    machine.run(2)
    assert link.last("speed_instant") == 1.0
    assert link.last("time_elapsed") == 2


async def test_ftms_out_of_range_keeps_the_belt_running(
    link: Link, machine: FakeTreadmill
) -> None:
    await link.client.start_resume()
    machine.run(2)
    sent = len(machine.notifications)

    machine.go_out_of_range()
    assert len(link.disconnects) == 1
    machine.run(3)
    assert machine.elapsed == 5
    assert len(machine.notifications) == sent
    with pytest.raises(BleakNotFoundError):
        await link.client.connect()

    machine.come_into_range()
    await link.client.connect()
    machine.advance(1)
    assert link.last("time_elapsed") == 6
    # Control went with the link; the client asks again by itself.
    assert await link.client.pause() == ResultCode.SUCCESS
    assert opcodes(machine)[-2:] == [0x00, 0x08]


async def test_ftms_disconnect_mid_command(link: Link, machine: FakeTreadmill) -> None:
    """The link drops while a command waits: a connection error at once."""
    await link.client.start_resume()
    machine.response_delay = 0.05
    command = asyncio.ensure_future(link.client.set_target_speed(4.0))
    await asyncio.sleep(0.01)
    assert machine.writes[-1][1][0] == 0x02
    started = time.monotonic()
    machine.drop_connection()
    assert link.disconnects == [link.client]
    with pytest.raises(FtmsConnectionError, match="SET_TARGET_SPEED"):
        await command
    assert time.monotonic() - started < TIMEOUT / 2  # not a timeout
    assert machine.target_speed == 4.0  # the machine had run it

    machine.response_delay = 0.0
    await link.client.connect()
    assert await link.client.set_target_speed(5.0) == ResultCode.SUCCESS
    assert machine.connections == 2


async def test_ftms_one_central_at_a_time(link: Link, machine: FakeTreadmill) -> None:
    second = make_client(machine)
    with pytest.raises(BleakConnectionError, match="another central"):
        await second.client.connect()
    assert link.client.is_connected

    await link.client.disconnect()
    assert link.disconnects == [link.client]
    await second.client.connect()
    assert second.client.is_connected
    assert machine.connections == 2
    await second.client.disconnect()
    assert second.disconnects == [second.client]
    assert not machine.connected
    await second.client.disconnect()  # harmless when already disconnected
    assert second.disconnects == [second.client]
    # A late callback from the first link is not taken for the second's.
    second.client._on_disconnected(object())
    assert second.disconnects == [second.client]


# ---------------------------------------------------------------------------
# Home Assistant's bluetooth integration
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fire_time_changed", [True, False])
async def test_ftms_home_assistant_bluetooth(
    hass: HomeAssistant, enable_bluetooth: None, fire_time_changed: bool
) -> None:
    machine = FakeTreadmill()
    address = machine.address
    assert bluetooth.async_ble_device_from_address(hass, address) is None

    await async_inject_bluetooth_service_info(hass, machine.service_info())

    device = bluetooth.async_ble_device_from_address(hass, address, connectable=True)
    assert device is not None
    assert (device.address, device.name) == (address, DEFAULT_NAME)
    infos = [
        info
        for info in bluetooth.async_discovered_service_info(hass)
        if info.address == address
    ]
    assert len(infos) == 1
    assert is_treadmill(infos[0].service_data)

    # What the integration does with it: connect the client to the device HA knows.
    updates: list[Mapping[str, Any]] = []
    with patch_ftms(machine):
        client = FtmsClient(device, on_update=updates.append)
        await client.connect()
        assert await client.start_resume() == ResultCode.SUCCESS
        machine.advance(1)
        assert updates[-1]["speed_instant"] == 1.0
        await client.disconnect()

    gone: list[str] = []
    cancel = bluetooth.async_track_unavailable(
        hass, lambda info: gone.append(info.address), address
    )
    await async_make_unavailable(hass, address, fire_time_changed=fire_time_changed)
    assert gone == [address]
    assert bluetooth.async_ble_device_from_address(hass, address) is None
    assert not bluetooth.async_address_present(hass, address, connectable=False)

    inject_bluetooth_service_info(hass, machine.service_info())
    assert bluetooth.async_ble_device_from_address(hass, address) is not None
    cancel()


async def test_ftms_pause_does_not_wait_behind_a_speed_change(
    link: Link, machine: FakeTreadmill
) -> None:
    """A safety pause goes first: the speed change waiting for its answer
    gives way at once, the one queued behind the pause is not sent."""
    await link.client.start_resume()
    machine.unanswered.add(0x02)  # the machine is slow to answer a speed
    waiting = asyncio.ensure_future(link.client.set_target_speed(2.0))
    await asyncio.sleep(0.01)
    queued = asyncio.ensure_future(link.client.set_target_speed(2.5))
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await link.client.pause() == ResultCode.SUCCESS
    assert time.monotonic() - started < TIMEOUT / 4
    assert machine.state is BeltState.PAUSED
    with pytest.raises(FtmsError, match="SET_TARGET_SPEED gave way"):
        await waiting
    with pytest.raises(FtmsError, match="SET_TARGET_SPEED gave way"):
        await queued
    sent = [data for _, data in machine.writes]
    assert sent.count(b"\x02" + struct.pack("<H", 250)) == 0  # never sent
    # The late answer to the first speed change is ignored; commands go on.
    machine.unanswered.clear()
    fake_cli(link).deliver("2ad9", b"\x80\x02\x01")
    assert await link.client.set_target_speed(3.0) == ResultCode.SUCCESS


async def test_ftms_a_halt_cancelled_before_its_turn_blocks_nothing(
    link: Link, machine: FakeTreadmill
) -> None:
    await link.client.start_resume()
    machine.response_delay = 0.05
    speed = asyncio.ensure_future(link.client.set_target_speed(2.0))
    await asyncio.sleep(0.01)
    halt = asyncio.ensure_future(link.client.stop())
    await asyncio.sleep(0)
    halt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await halt
    with pytest.raises(FtmsError):
        await speed  # it had given way already
    assert await link.client.set_target_speed(2.0) == ResultCode.SUCCESS
