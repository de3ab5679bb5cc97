"""The fake FTMS treadmill under plain pyftms, and in Home Assistant's bluetooth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass, field
import struct
import time
from uuid import UUID

from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from bleak_retry_connector import BleakNotFoundError
import pyftms
from pyftms import (
    ControlEvent,
    FitnessMachine,
    FtmsEvents,
    MachineType,
    ResultCode,
    SetupEvent,
    TrainingStatusCode,
    UpdateEvent,
)
import pytest

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant

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

TIMEOUT = 0.1  # pyftms's control timeout in these tests (2 s by default)


@dataclass
class Link:
    """A pyftms client on a fake machine, with what it reported."""

    machine: FakeTreadmill
    client: FitnessMachine
    events: list[FtmsEvents] = field(default_factory=list)
    disconnects: list[FitnessMachine] = field(default_factory=list)

    def controls(self) -> list[tuple[str, str]]:
        return [
            (e.event_id, e.event_source)
            for e in self.events
            if isinstance(e, ControlEvent)
        ]

    def setups(self) -> list[tuple[dict[str, float], str]]:
        return [
            (dict(e.event_data), e.event_source)
            for e in self.events
            if isinstance(e, SetupEvent)
        ]

    def updates(self) -> list[dict[str, object]]:
        return [dict(e.event_data) for e in self.events if isinstance(e, UpdateEvent)]

    def last(self, key: str) -> object:
        return next(u[key] for u in reversed(self.updates()) if key in u)


def make_client(machine: FakeTreadmill) -> Link:
    """A pyftms client for ``machine``, built from its advertisement."""
    info = machine.service_info()
    events: list[FtmsEvents] = []
    disconnects: list[FitnessMachine] = []
    client = pyftms.get_client(
        info.device,
        info.advertisement,
        timeout=TIMEOUT,
        on_ftms_event=events.append,
        on_disconnect=disconnects.append,
    )
    return Link(machine, client, events, disconnects)


@pytest.fixture
def machine() -> Generator[FakeTreadmill]:
    """A fake treadmill pyftms connects to."""
    treadmill = FakeTreadmill()
    with patch_ftms(treadmill):
        yield treadmill


@pytest.fixture
async def link(machine: FakeTreadmill) -> AsyncGenerator[Link]:
    """A connected pyftms client."""
    connected = make_client(machine)
    await connected.client.connect()
    yield connected
    await connected.client.disconnect()


def fake_cli(link: Link) -> FakeBleakClient:
    cli = link.client._cli
    assert isinstance(cli, FakeBleakClient)
    return cli


# ---------------------------------------------------------------------------
# Advertisement and connection
# ---------------------------------------------------------------------------


def test_ftms_advertisement_is_a_connectable_treadmill() -> None:
    machine = FakeTreadmill()
    info = machine.service_info(rssi=-48)

    assert pyftms.get_machine_type_from_service_data(info.advertisement) == (
        MachineType.TREADMILL
    )
    assert info.connectable
    assert isinstance(info.device, BLEDevice)
    assert (info.address, info.name, info.rssi) == (DEFAULT_ADDRESS, DEFAULT_NAME, -48)
    assert info.device.address == DEFAULT_ADDRESS
    ftms = "00001826-0000-1000-8000-00805f9b34fb"
    assert info.service_uuids == [ftms]
    assert info.service_data == {ftms: b"\x01\x01\x00"}
    assert info.advertisement.local_name == DEFAULT_NAME
    client = pyftms.get_client(info.device, info.advertisement)
    assert isinstance(client, pyftms.Treadmill)
    assert client.rssi == -48


async def test_ftms_connect_reads_device_info_features_and_ranges(
    link: Link, machine: FakeTreadmill
) -> None:
    client = link.client
    assert client.is_connected
    assert machine.connected
    assert (machine.connect_attempts, machine.connections) == (1, 1)
    assert dict(client.device_info) == machine.device_info
    assert client.unique_id == "RW100-000042"
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
    assert client.training_status == TrainingStatusCode.IDLE
    # An idle machine sends all-zero data, which pyftms filters out.
    machine.advance(5)
    assert machine.notifications[-1][0] == "2acd"
    assert client.speed_instant is None
    assert link.updates() == [
        {"rssi": -60},
        {"training_status": TrainingStatusCode.IDLE},
    ]


async def test_ftms_uuids_in_every_form(link: Link, machine: FakeTreadmill) -> None:
    cli = fake_cli(link)
    short = cli.services.get_characteristic("2acd")
    assert short is not None
    assert (
        cli.services.get_characteristic("00002ACD-0000-1000-8000-00805F9B34FB") is short
    )
    assert cli.services.get_characteristic(UUID(short.uuid)) is short
    assert cli.services.get_characteristic(short.handle) is short
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


# ---------------------------------------------------------------------------
# Driving the belt
# ---------------------------------------------------------------------------


async def test_ftms_start_accelerates_and_reports_the_data(
    link: Link, machine: FakeTreadmill
) -> None:
    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert machine.state is BeltState.RUNNING
    assert machine.target_speed == 1.0  # default start speed
    # The machine's own status notifications arrive before pyftms's callback event.
    assert link.controls() == [("start", "user"), ("start", "callback")]
    assert link.setups() == [({"target_speed": 1.0}, "other")]
    assert link.client.training_status == TrainingStatusCode.MANUAL_MODE
    assert machine.writes[0][1] == b"\x00"  # pyftms requested control first
    assert machine.writes[1][1] == b"\x07"
    assert machine.notifications[:4] == [
        ("2ad9", b"\x80\x00\x01"),
        ("2ad9", b"\x80\x07\x01"),
        ("2ada", b"\x04"),
        ("2ada", b"\x05\x64\x00"),
    ]

    machine.advance(0.5)
    assert machine.speed == pytest.approx(0.5)  # 1 km/h per second
    assert link.updates()[-1] == {
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
    assert link.client.speed_instant == 1.0
    assert link.client.distance_total == 2
    assert link.client.time_elapsed == 10


async def test_ftms_set_target_speed_and_inclination(
    link: Link, machine: FakeTreadmill
) -> None:
    assert await link.client.set_target_speed(3.5) == ResultCode.SUCCESS
    assert await link.client.set_target_inclination(2.5) == ResultCode.SUCCESS
    assert machine.writes[-2][1] == b"\x02" + struct.pack("<H", 350)
    assert machine.writes[-1][1] == b"\x03" + struct.pack("<h", 25)
    assert link.setups() == [
        ({"target_speed": 3.5}, "other"),
        ({"target_speed": 3.5}, "callback"),
        ({"target_inclination": 2.5}, "other"),
        ({"target_inclination": 2.5}, "callback"),
    ]
    # Set while idle: stored, the belt waits for a start.
    machine.advance(3)
    assert machine.speed == 0.0
    assert machine.incline == pytest.approx(2.5)  # 1 % per second

    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert machine.target_speed == 3.5
    machine.run(4)
    assert machine.speed == pytest.approx(3.5)
    assert link.client.speed_instant == pytest.approx(3.5)
    assert link.client.inclination == pytest.approx(2.5)
    assert link.client.ramp_angle == pytest.approx(1.4)  # atan(2.5 %) = 1.43 degrees

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
    assert link.controls() == [("pause", "user"), ("pause", "callback")]
    assert link.client.training_status == TrainingStatusCode.IDLE
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
    assert link.controls()[-2:] == [("stop", "user"), ("stop", "callback")]
    assert machine.state is BeltState.STOPPED
    assert link.client.training_status == TrainingStatusCode.POST_WORKOUT
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
    assert link.controls()[-2:] == [("reset", "other"), ("reset", "callback")]
    assert machine.state is BeltState.IDLE
    assert not machine.controlled
    assert await link.client.start_resume() == ResultCode.SUCCESS
    assert [w[1] for w in machine.writes[-2:]] == [b"\x00", b"\x07"]


async def test_ftms_split_data_packets_are_merged(
    link: Link, machine: FakeTreadmill
) -> None:
    machine.split_data = True
    await link.client.set_target_inclination(1.0)
    await link.client.start_resume()
    machine.run(3)
    assert [n[0] for n in machine.notifications[-2:]] == ["2acd", "2acd"]
    assert machine.notifications[-2][1][0] & 1  # More Data
    first = next(u for u in link.updates() if "speed_instant" in u)
    assert set(first) == {
        "distance_total",  # from the first packet
        "speed_instant",
        "inclination",
        "ramp_angle",
        "time_elapsed",
    }
    assert link.updates()[-1] == {"time_elapsed": 3}
    assert link.client.speed_instant == 1.0
    assert link.client.inclination == 1.0


async def test_ftms_console_and_revoked_control(
    link: Link, machine: FakeTreadmill
) -> None:
    machine.console_start()
    machine.console_set_speed(2.5)
    machine.console_set_incline(20)
    machine.console_pause()
    assert link.controls() == [("start", "user"), ("pause", "user")]
    assert link.setups() == [
        ({"target_speed": 1.0}, "other"),
        ({"target_speed": 2.5}, "other"),
        ({"target_inclination": 15.0}, "other"),
    ]
    machine.console_stop()
    assert link.controls()[-1] == ("stop", "user")


async def test_ftms_lost_control_trips_pyftms(
    link: Link, machine: FakeTreadmill
) -> None:
    await link.client.set_target_speed(3.0)
    # pyftms reads status op code 0xFF with a u1 serializer whose "no value"
    # is 0xFF, so its LOST_CONTROL branch never matches and it raises KeyError.
    with pytest.raises(KeyError):
        machine.revoke_control()
    assert len(machine.callback_errors) == 1

    # As over bleak (logged): pyftms still thinks it has control.
    machine.raise_callback_errors = False
    machine.revoke_control()
    assert await link.client.set_target_speed(3.5) == ResultCode.NOT_PERMITTED
    assert [w[1][0] for w in machine.writes] == [0x00, 0x02, 0x02]
    # A new connection makes pyftms ask for control again.
    await link.client.disconnect()
    await link.client.connect()
    assert await link.client.set_target_speed(3.5) == ResultCode.SUCCESS
    assert [w[1][0] for w in machine.writes[-2:]] == [0x00, 0x02]


async def test_ftms_without_status_after_commands(
    link: Link, machine: FakeTreadmill
) -> None:
    machine.status_after_commands = False
    await link.client.start_resume()
    await link.client.pause()
    assert link.controls() == [("start", "callback"), ("pause", "callback")]


# ---------------------------------------------------------------------------
# Failure modes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opcode", "code", "result"),
    [
        (0x07, 0x04, ResultCode.FAILED),
        (0x07, 0x05, ResultCode.NOT_PERMITTED),
        (0x07, 0x02, ResultCode.NOT_SUPPORTED),
        # pyftms ignores a refused Request Control and sends the command anyway.
        (0x00, 0x05, ResultCode.NOT_PERMITTED),
    ],
)
async def test_ftms_result_codes(
    link: Link, machine: FakeTreadmill, opcode: int, code: int, result: ResultCode
) -> None:
    machine.result_codes[opcode] = code
    assert await link.client.start_resume() == result
    assert machine.state is BeltState.IDLE
    assert link.controls() == []
    machine.result_codes.clear()
    assert await link.client.start_resume() == ResultCode.SUCCESS


async def test_ftms_ignored_command(link: Link, machine: FakeTreadmill) -> None:
    await link.client.start_resume()
    machine.run(2)
    machine.ignored.add(0x02)
    assert await link.client.set_target_speed(5.0) == ResultCode.SUCCESS
    assert link.setups()[-1] == ({"target_speed": 5.0}, "callback")
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
    with pytest.raises(TimeoutError):
        await link.client.start_resume()
    assert time.monotonic() - started == pytest.approx(TIMEOUT, abs=0.08)
    assert machine.state is BeltState.IDLE
    assert machine.writes[-1][1] == b"\x07"
    assert link.client.is_connected
    machine.unanswered.clear()
    assert await link.client.start_resume() == ResultCode.SUCCESS


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
    assert link.controls() == [("stop", "safety")]
    assert machine.speed == 0.0
    assert machine.state is BeltState.STOPPED
    machine.advance(1)
    assert link.client.speed_instant == 0.0

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
    assert not machine.connected
    assert machine.speed == 0.0
    # pyftms reconnects on its own before a command: the machine is off.
    with pytest.raises(BleakNotFoundError):
        await link.client.start_resume()
    with pytest.raises(BleakNotFoundError):
        await link.client.connect()

    machine.power_on()
    assert (machine.state, machine.distance, machine.target_speed) == (
        BeltState.IDLE,
        0.0,
        0.0,
    )
    link.events.clear()
    await link.client.connect()
    assert link.client.is_connected
    assert machine.connections == 2
    assert link.updates() == [{"training_status": TrainingStatusCode.IDLE}]
    assert await link.client.start_resume() == ResultCode.SUCCESS
    machine.run(2)
    assert link.client.speed_instant == 1.0
    assert link.client.time_elapsed == 2


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
    assert link.client.time_elapsed == 6
    # Control went with the link; pyftms asks again by itself.
    assert await link.client.pause() == ResultCode.SUCCESS


async def test_ftms_disconnect_mid_command(link: Link, machine: FakeTreadmill) -> None:
    await link.client.start_resume()
    machine.response_delay = 0.05
    command = asyncio.ensure_future(link.client.set_target_speed(4.0))
    await asyncio.sleep(0.01)
    assert machine.writes[-1][1][0] == 0x02
    machine.drop_connection()
    assert link.disconnects == [link.client]
    # pyftms keeps waiting for the indication: a timeout, not a BleakError.
    with pytest.raises(TimeoutError):
        await command
    assert machine.target_speed == 4.0  # the machine had run it

    machine.response_delay = 0.0
    assert await link.client.set_target_speed(5.0) == ResultCode.SUCCESS
    assert machine.connections == 2  # reconnected on its own


async def test_ftms_client_disconnect_and_takeover(
    link: Link, machine: FakeTreadmill
) -> None:
    second = make_client(machine)
    await second.client.connect()  # close_stale_connections drops the first link
    assert link.disconnects == [link.client]
    assert second.client.is_connected
    assert machine.connections == 2

    await second.client.disconnect()
    assert second.disconnects == [second.client]
    assert not machine.connected
    await second.client.disconnect()  # harmless when already disconnected
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
    assert pyftms.get_machine_type_from_service_data(infos[0].advertisement) == (
        MachineType.TREADMILL
    )

    # What an integration does with it: connect pyftms to the device HA knows.
    events: list[FtmsEvents] = []
    with patch_ftms(machine):
        client = pyftms.get_client(
            device, infos[0].advertisement, on_ftms_event=events.append
        )
        await client.connect()
        assert await client.start_resume() == ResultCode.SUCCESS
        machine.advance(1)
        assert client.speed_instant == 1.0
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
