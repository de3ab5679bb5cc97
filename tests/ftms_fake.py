"""A fake Bluetooth FTMS treadmill at the GATT level.

The integration's real ``FtmsClient`` (``treadmill/ftms_client.py``) and its
parsers run unchanged on top of it: :func:`patch_ftms` swaps the
``establish_connection`` the client imports from ``bleak_retry_connector`` for
one that hands out a :class:`FakeBleakClient`, and that client serves the GATT
database (bleak 3's own service, characteristic and descriptor objects) of a
:class:`FakeTreadmill`. Every byte on the "air" is built by hand with
:mod:`struct` from the Fitness Machine Service specification (v1.0), never
with the integration's ``ftms_protocol``, so the fake also checks its parsing.

Typical use::

    machine = FakeTreadmill()
    info = machine.service_info()
    with patch_ftms(machine):
        client = FtmsClient(info.device, timeout=0.2)
        await client.connect()
        assert await client.start_resume() == ResultCode.SUCCESS
        machine.advance(2.0)  # belt physics, then one Treadmill Data notification

The machine model
-----------------
``state`` is one of :class:`BeltState`. ``target_speed`` is the FTMS *target
speed setting*: it survives a pause, and the belt heads for it only while
running (``belt_target`` is 0 otherwise), so pausing or stopping makes the
belt decelerate to 0 at ``deceleration`` km/h per second and resuming
accelerates it back at ``acceleration``. Starting with no target speed uses
``start_speed`` (1.0 km/h) and announces it. A start from idle or stopped
begins a new workout (``distance`` and ``elapsed`` back to 0); a resume from
paused continues it. ``elapsed`` only counts while running; ``distance``
integrates the belt speed, including while it coasts down. Stop and reset
also bring the incline target back to 0. Speed and incline set while the belt
is not running are stored and used on the next start. Out-of-range targets
are refused with Invalid Parameter (0x03). Commands other than Request Control
are refused with Control Not Permitted (0x05) until the client requested
control on this connection (the client does so on its own before its first
command); Reset gives control up again, as do disconnections.

After a successful command the machine first indicates the response on the
control point, then notifies Fitness Machine Status (0x2ADA) as real machines
do (``status_after_commands``), then Training Status (0x2AD3) if it changed:
idle 0x01 when idle or paused, manual mode 0x0D when running, post-workout
0x0F when stopped. Indications and notifications caused by a command are
delivered from the event loop right after the write returns (``call_soon``, or
``call_later(response_delay)``), like a radio would; notifications caused by
the machine itself (:meth:`FakeTreadmill.advance`, the console, the safety
key) are delivered synchronously, inside the call, so the next line of a test
already sees the client's callbacks. Call the machine from the event loop thread.

Treadmill Data (0x2ACD) carries flags, instantaneous speed, total distance,
inclination and ramp angle, and elapsed time; the client reports them as
``speed_instant``, ``distance_total``, ``inclination``, ``ramp_angle`` and
``time_elapsed``, for every complete record (all-zero ones included).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
import contextlib
from enum import IntEnum, StrEnum
import inspect
import logging
import math
import struct
import time
from typing import Any, Final
from unittest.mock import patch
from uuid import UUID

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakCharacteristicNotFoundError, BleakError
from bleak.uuids import normalize_uuid_str
from bleak_retry_connector import BleakConnectionError, BleakNotFoundError
from bluetooth_data_tools import monotonic_time_coarse
from habluetooth import BluetoothServiceInfoBleak

__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_DEVICE_INFO",
    "DEFAULT_NAME",
    "DEFAULT_SOURCE",
    "BeltState",
    "FakeBleakClient",
    "FakeTreadmill",
    "MachineStatus",
    "Opcode",
    "Result",
    "TrainingStatus",
    "patch_ftms",
]

DEFAULT_ADDRESS: Final = "C0:FF:EE:00:00:01"
DEFAULT_NAME: Final = "Retro Treadmill"
# The address of the adapter pytest-homeassistant-custom-component's
# ``enable_bluetooth`` fixture sets up (hci0); HA uses it as the source name.
DEFAULT_SOURCE: Final = "00:00:00:00:00:01"
DEFAULT_DEVICE_INFO: Final[dict[str, str]] = {
    "manufacturer": "Retro Fitness",
    "model": "RW-100",
    "serial_number": "RW100-000042",
    "sw_version": "1.4.2",
    "hw_version": "B2",
}

# 16-bit UUIDs of the GATT database (FTMS 1.0, Device Information Service);
# bleak expands them with normalize_uuid_str.
FTMS_SERVICE: Final = "1826"
DIS_SERVICE: Final = "180a"
FEATURE: Final = "2acc"
TREADMILL_DATA: Final = "2acd"
TRAINING_STATUS: Final = "2ad3"
SPEED_RANGE: Final = "2ad4"
INCLINATION_RANGE: Final = "2ad5"
CONTROL_POINT: Final = "2ad9"
MACHINE_STATUS: Final = "2ada"
_DIS_CHARACTERISTICS: Final = {
    "2a29": "manufacturer",
    "2a24": "model",
    "2a25": "serial_number",
    "2a28": "sw_version",
    "2a27": "hw_version",
    "2a26": "fw_version",  # firmware revision: empty unless device_info has it
}

# Fitness Machine Features (FTMS 4.3.1.1): total distance (bit 2),
# inclination (bit 3), elapsed time (bit 12).
_FEATURES: Final = (1 << 2) | (1 << 3) | (1 << 12)
# Target Setting Features (FTMS 4.3.1.2): speed (bit 0), inclination (bit 1).
_TARGET_SETTINGS: Final = (1 << 0) | (1 << 1)

# Treadmill Data flags (FTMS 4.9.1.1). Bit 0 is "More Data": when it is 0 the
# instantaneous speed is present.
_MORE_DATA: Final = 1 << 0
_TOTAL_DISTANCE: Final = 1 << 2
_INCLINATION_AND_RAMP: Final = 1 << 3
_ELAPSED_TIME: Final = 1 << 10

_LOGGER = logging.getLogger(__name__)

# Where the integration's FTMS client looks ``establish_connection`` up.
ESTABLISH_CONNECTION: Final = (
    "custom_components.retro_walk.treadmill.ftms_client.establish_connection"
)

_KMH_PER_MS: Final = 3.6
_EPSILON: Final = 1e-6


class Opcode(IntEnum):
    """Fitness Machine Control Point op codes (FTMS 4.16.1)."""

    REQUEST_CONTROL = 0x00
    RESET = 0x01
    SET_TARGET_SPEED = 0x02
    SET_TARGET_INCLINATION = 0x03
    START_RESUME = 0x07
    STOP_PAUSE = 0x08
    RESPONSE = 0x80


class Result(IntEnum):
    """Control point result codes (FTMS 4.16.2.22)."""

    SUCCESS = 0x01
    NOT_SUPPORTED = 0x02
    INVALID_PARAMETER = 0x03
    FAILED = 0x04
    NOT_PERMITTED = 0x05


class MachineStatus(IntEnum):
    """Fitness Machine Status op codes (FTMS 4.17)."""

    RESET = 0x01
    STOPPED_OR_PAUSED = 0x02
    STOPPED_BY_SAFETY_KEY = 0x03
    STARTED_OR_RESUMED = 0x04
    TARGET_SPEED_CHANGED = 0x05
    TARGET_INCLINE_CHANGED = 0x06
    CONTROL_PERMISSION_LOST = 0xFF


class TrainingStatus(IntEnum):
    """Training Status values the fake uses (FTMS 4.10.1.2)."""

    IDLE = 0x01
    MANUAL_MODE = 0x0D
    POST_WORKOUT = 0x0F


class BeltState(StrEnum):
    """What the machine is doing."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


_STOP: Final = 0x01
_PAUSE: Final = 0x02

type NotifyCallback = Callable[
    [BleakGATTCharacteristic, bytearray], Awaitable[None] | None
]
type DisconnectedCallback = Callable[[Any], None]
type CharSpecifier = BleakGATTCharacteristic | int | str | UUID
type _Notification = tuple[str, bytes]
type _Answer = tuple[int, list[_Notification]]


def _ramp(start: float, target: float, rate: float, dt: float) -> tuple[float, float]:
    """Move ``start`` towards ``target`` at ``rate`` per second for ``dt`` s.

    Returns the value at the end and its integral over the interval.
    """
    gap = target - start
    if abs(gap) < _EPSILON:
        return target, target * dt
    if rate <= 0:  # an infinite rate: there at once
        return target, target * dt
    reach = abs(gap) / rate
    if reach >= dt:
        end = start + math.copysign(rate * dt, gap)
        return end, (start + end) / 2 * dt
    return target, (start + target) / 2 * reach + target * (dt - reach)


_CCCD: Final = normalize_uuid_str("2902")  # Client Characteristic Configuration


def _build_gatt() -> BleakGATTServiceCollection:
    """The GATT database of the treadmill, as bleak 3's own objects."""
    collection = BleakGATTServiceCollection()
    handle = 0

    def add_service(uuid: str, chars: list[tuple[str, list[str]]]) -> None:
        nonlocal handle
        handle += 1
        service = BleakGATTService(None, handle, normalize_uuid_str(uuid))
        collection.add_service(service)
        for char_uuid, properties in chars:
            handle += 2  # declaration + value
            char = BleakGATTCharacteristic(
                None,
                handle,
                normalize_uuid_str(char_uuid),
                properties,  # type: ignore[arg-type]
                lambda: 20,
                service,
            )
            collection.add_characteristic(char)  # also adds it to the service
            if {"notify", "indicate"} & set(properties):
                handle += 1
                collection.add_descriptor(
                    BleakGATTDescriptor(None, handle, _CCCD, char)
                )

    add_service(DIS_SERVICE, [(uuid, ["read"]) for uuid in _DIS_CHARACTERISTICS])
    add_service(
        FTMS_SERVICE,
        [
            (FEATURE, ["read"]),
            (TREADMILL_DATA, ["notify"]),
            (TRAINING_STATUS, ["read", "notify"]),
            (SPEED_RANGE, ["read"]),
            (INCLINATION_RANGE, ["read"]),
            (CONTROL_POINT, ["write", "indicate"]),
            (MACHINE_STATUS, ["notify"]),
        ],
    )
    return collection


def _short(uuid: str) -> str:
    """The 16-bit form of a Bluetooth base UUID ("00002acd-…" -> "2acd")."""
    return uuid[4:8]


class FakeTreadmill:
    """An FTMS treadmill: belt physics, GATT values and control point logic.

    Failure knobs (public attributes, change them any time):

    - ``result_codes``: op code -> result code to answer instead of running the
      command (a non-success code leaves the machine untouched; mapping to
      0x01 runs the command normally).
    - ``ignored``: op codes answered with Success that do nothing.
    - ``unanswered``: op codes never answered and never run; the client
      raises ``TimeoutError`` after its timeout (``FtmsClient(...,
      timeout=...)``, 2 s by default, per write: the automatic Request
      Control counts apart).
    - ``write_error``: raised from ``write_gatt_char`` (after the write is
      recorded) while set, e.g. ``bleak.exc.BleakError("…")``.
    - ``connect_error``: raised by the patched ``establish_connection`` while set.
    - ``response_delay``: seconds between a control point write and its
      indication (and status notifications).
    - ``connect_delay``: seconds the patched ``establish_connection`` takes.
    - ``status_after_commands``: notify Fitness Machine Status after successful
      control point commands (default True, as the specification asks).
    - ``split_data``: send each Treadmill Data record as two packets, the first
      with the "More Data" flag (the client merges them).
    - ``raise_callback_errors``: an exception raised by a client's notification
      callback (the client's, and through it its ``on_update``/``on_event``) is
      recorded in ``callback_errors`` and, while this is True (the default),
      re-raised once the batch of notifications is delivered: from the
      machine's method for machine-side events, from the event loop (its
      exception handler; Home Assistant's ``hass`` fixture fails the test) for
      answers to commands. Set it to False to behave like bleak, which logs
      such exceptions and goes on.

    Records: ``writes`` holds ``(time.perf_counter_ns(), data)`` of every
    ``write_gatt_char`` call, taken as its very first statement;
    ``notifications`` holds ``(short uuid, data)`` of every notification and
    indication actually delivered to a client; ``connect_attempts`` and
    ``connections`` count ``establish_connection`` calls and successes.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        name: str = DEFAULT_NAME,
        *,
        speed_range: tuple[float, float, float] = (0.5, 12.0, 0.1),
        incline_range: tuple[float, float, float] = (0.0, 15.0, 0.5),
        device_info: dict[str, str] | None = None,
        acceleration: float = 1.0,
        deceleration: float = 2.0,
        incline_rate: float = 1.0,
        start_speed: float = 1.0,
    ) -> None:
        """Create a powered, idle machine in range."""
        self.address = address
        self.name = name
        self.speed_range = speed_range
        self.incline_range = incline_range
        self.device_info: dict[str, str] = dict(
            DEFAULT_DEVICE_INFO if device_info is None else device_info
        )
        self.acceleration = acceleration
        self.deceleration = deceleration
        self.incline_rate = incline_rate
        self.start_speed = start_speed

        self.result_codes: dict[int, int] = {}
        self.ignored: set[int] = set()
        self.unanswered: set[int] = set()
        self.write_error: Exception | None = None
        self.connect_error: Exception | None = None
        self.response_delay: float = 0.0
        self.connect_delay: float = 0.0
        self.status_after_commands: bool = True
        self.split_data: bool = False
        self.raise_callback_errors: bool = True

        self.writes: list[tuple[int, bytes]] = []
        self.notifications: list[tuple[str, bytes]] = []
        self.callback_errors: list[Exception] = []
        self.connect_attempts = 0
        self.connections = 0

        self.powered = True
        self.in_range = True
        self.safety_key_in = True
        self.controlled = False
        self.client: FakeBleakClient | None = None
        self._pending: set[asyncio.Handle] = set()
        self._reset_physics()

    def __repr__(self) -> str:
        """Show the belt at a glance."""
        return (
            f"<FakeTreadmill {self.address} {self.state} speed={self.speed:.2f}"
            f" target={self.target_speed:.2f} incline={self.incline:.1f}"
            f" distance={self.distance:.1f} elapsed={self.elapsed:.1f}>"
        )

    def _reset_physics(self) -> None:
        self.state = BeltState.IDLE
        self.speed = 0.0
        self.target_speed = 0.0
        self.incline = 0.0
        self.target_incline = 0.0
        self.distance = 0.0
        self.elapsed = 0.0
        self._training_status = TrainingStatus.IDLE

    # ------------------------------------------------------------------
    # State seen from outside
    # ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a client is connected."""
        return self.client is not None and self.client.is_connected

    @property
    def advertising(self) -> bool:
        """Whether a real machine would advertise now (on, in range, free)."""
        return self.powered and self.in_range and not self.connected

    @property
    def belt_target(self) -> float:
        """The speed the belt is heading for: the target while running, else 0."""
        return self.target_speed if self.state is BeltState.RUNNING else 0.0

    @property
    def training_status(self) -> TrainingStatus:
        """The Training Status the machine reports for its state."""
        match self.state:
            case BeltState.RUNNING:
                return TrainingStatus.MANUAL_MODE
            case BeltState.STOPPED:
                return TrainingStatus.POST_WORKOUT
            case _:
                return TrainingStatus.IDLE

    # ------------------------------------------------------------------
    # Bytes on the air (FTMS specification, built by hand)
    # ------------------------------------------------------------------

    def treadmill_data(self) -> list[bytes]:
        """The Treadmill Data packet(s) describing the belt now."""
        speed = round(self.speed * 100)  # uint16, 0.01 km/h
        distance = min(int(self.distance), 0xFFFFFE)  # uint24, m
        incline = round(self.incline * 10)  # sint16, 0.1 %
        ramp = round(math.degrees(math.atan(self.incline / 100)) * 10)  # 0.1 degree
        elapsed = min(int(self.elapsed), 0xFFFE)  # uint16, s
        distance_bytes = distance.to_bytes(3, "little")
        if self.split_data:
            first = (
                struct.pack("<H", _MORE_DATA | _TOTAL_DISTANCE) + distance_bytes
            )  # More Data: no instantaneous speed in this one
            second = struct.pack(
                "<HHhhH",
                _INCLINATION_AND_RAMP | _ELAPSED_TIME,
                speed,
                incline,
                ramp,
                elapsed,
            )
            return [first, second]
        flags = _TOTAL_DISTANCE | _INCLINATION_AND_RAMP | _ELAPSED_TIME
        return [
            struct.pack("<HH", flags, speed)
            + distance_bytes
            + struct.pack("<hhH", incline, ramp, elapsed)
        ]

    def _read_value(self, uuid: str) -> bytes:
        short = _short(uuid)
        if key := _DIS_CHARACTERISTICS.get(short):
            return self.device_info.get(key, "").encode()
        match short:
            case "2acc":
                return struct.pack("<II", _FEATURES, _TARGET_SETTINGS)
            case "2ad3":
                return bytes([0x00, self._training_status])
            case "2ad4":
                low, high, step = self.speed_range
                return struct.pack(
                    "<HHH", round(low * 100), round(high * 100), round(step * 100)
                )
            case "2ad5":
                low, high, step = self.incline_range
                return struct.pack(
                    "<hhH", round(low * 10), round(high * 10), round(step * 10)
                )
        raise BleakError(f"Characteristic {uuid} is not readable")

    @staticmethod
    def _status(code: MachineStatus, payload: bytes = b"") -> _Notification:
        return (MACHINE_STATUS, bytes([code]) + payload)

    def _training_update(self) -> list[_Notification]:
        status = self.training_status
        if status == self._training_status:
            return []
        self._training_status = status
        return [(TRAINING_STATUS, bytes([0x00, status]))]

    # ------------------------------------------------------------------
    # Physics
    # ------------------------------------------------------------------

    def advance(self, seconds: float, *, notify: bool = True) -> None:
        """Let ``seconds`` pass for the belt, then send one Treadmill Data.

        Nothing happens while the machine is off; the belt keeps moving while
        it is out of range (the walker is still on it), but nothing reaches
        the client then.
        """
        if seconds < 0:
            raise ValueError("time only moves forward")
        if not self.powered:
            return
        target = self.belt_target
        rate = self.acceleration if target > self.speed else self.deceleration
        self.speed, area = _ramp(self.speed, target, rate, seconds)
        self.distance += area / _KMH_PER_MS
        self.incline, _ = _ramp(
            self.incline, self.target_incline, self.incline_rate, seconds
        )
        if self.state is BeltState.RUNNING:
            self.elapsed += seconds
        if notify:
            self.notify_data()

    def run(self, seconds: float, *, interval: float = 1.0) -> None:
        """Advance in steps of ``interval`` s, one notification per step."""
        remaining = seconds
        while remaining > _EPSILON:
            step = min(interval, remaining)
            self.advance(step)
            remaining -= step

    def notify_data(self) -> None:
        """Send the Treadmill Data notification(s) for the belt now."""
        for packet in self.treadmill_data():
            self._notify(TREADMILL_DATA, packet)

    # ------------------------------------------------------------------
    # What the machine does (shared by the control point and the console)
    # ------------------------------------------------------------------

    def _do_start(self) -> list[_Notification]:
        if self.state is BeltState.RUNNING:
            return []
        if self.state is not BeltState.PAUSED:  # a new workout
            self.distance = 0.0
            self.elapsed = 0.0
        self.state = BeltState.RUNNING
        notes = [self._status(MachineStatus.STARTED_OR_RESUMED)]
        if self.target_speed <= 0:
            self.target_speed = self.start_speed
            notes.append(self._speed_status())
        return notes + self._training_update()

    def _do_stop_pause(self, code: int) -> list[_Notification]:
        if code == _STOP:
            self.state = BeltState.STOPPED
            self.target_speed = 0.0
            self.target_incline = 0.0
        elif self.state is BeltState.RUNNING:
            self.state = BeltState.PAUSED
        notes = [self._status(MachineStatus.STOPPED_OR_PAUSED, bytes([code]))]
        return notes + self._training_update()

    def _do_reset(self) -> list[_Notification]:
        self.state = BeltState.IDLE
        self.target_speed = 0.0
        self.target_incline = 0.0
        self.distance = 0.0
        self.elapsed = 0.0
        self.controlled = False
        return [self._status(MachineStatus.RESET), *self._training_update()]

    def _speed_status(self) -> _Notification:
        value = struct.pack("<H", round(self.target_speed * 100))
        return self._status(MachineStatus.TARGET_SPEED_CHANGED, value)

    def _incline_status(self) -> _Notification:
        value = struct.pack("<h", round(self.target_incline * 10))
        return self._status(MachineStatus.TARGET_INCLINE_CHANGED, value)

    def _in_range(self, value: float, limits: tuple[float, float, float]) -> bool:
        return limits[0] - _EPSILON <= value <= limits[1] + _EPSILON

    # ------------------------------------------------------------------
    # Control point
    # ------------------------------------------------------------------

    def _execute(self, opcode: int, params: bytes) -> _Answer:
        """Run one control point request: (result code, notifications)."""
        if opcode == Opcode.REQUEST_CONTROL:
            if params:
                return Result.INVALID_PARAMETER, []
            self.controlled = True
            return Result.SUCCESS, []
        handlers: dict[int, Callable[[bytes], _Answer]] = {
            Opcode.RESET: self._cp_reset,
            Opcode.SET_TARGET_SPEED: self._cp_set_speed,
            Opcode.SET_TARGET_INCLINATION: self._cp_set_incline,
            Opcode.START_RESUME: self._cp_start,
            Opcode.STOP_PAUSE: self._cp_stop_pause,
        }
        if (handler := handlers.get(opcode)) is None:
            return Result.NOT_SUPPORTED, []
        if not self.controlled:
            return Result.NOT_PERMITTED, []
        return handler(params)

    def _cp_reset(self, params: bytes) -> _Answer:
        if params:
            return Result.INVALID_PARAMETER, []
        return Result.SUCCESS, self._do_reset()

    def _cp_set_speed(self, params: bytes) -> _Answer:
        if len(params) != 2:
            return Result.INVALID_PARAMETER, []
        speed = struct.unpack("<H", params)[0] / 100  # uint16, 0.01 km/h
        if not self._in_range(speed, self.speed_range):
            return Result.INVALID_PARAMETER, []
        self.target_speed = speed
        return Result.SUCCESS, [self._speed_status()]

    def _cp_set_incline(self, params: bytes) -> _Answer:
        if len(params) != 2:
            return Result.INVALID_PARAMETER, []
        incline = struct.unpack("<h", params)[0] / 10  # sint16, 0.1 %
        if not self._in_range(incline, self.incline_range):
            return Result.INVALID_PARAMETER, []
        self.target_incline = incline
        return Result.SUCCESS, [self._incline_status()]

    def _cp_start(self, params: bytes) -> _Answer:
        if params:
            return Result.INVALID_PARAMETER, []
        if not self.safety_key_in:
            return Result.FAILED, []
        return Result.SUCCESS, self._do_start()

    def _cp_stop_pause(self, params: bytes) -> _Answer:
        if len(params) != 1 or params[0] not in {_STOP, _PAUSE}:
            return Result.INVALID_PARAMETER, []
        return Result.SUCCESS, self._do_stop_pause(params[0])

    def _on_control_point(self, client: FakeBleakClient, data: bytes) -> None:
        """Handle a write to the control point; schedule the answer."""
        if not data:
            raise BleakError("ATT error 0x0d: Invalid Attribute Value Length")
        opcode, params = data[0], data[1:]
        if opcode in self.unanswered:
            return
        override = self.result_codes.get(opcode)
        notes: list[_Notification]
        if override is not None and override != Result.SUCCESS:
            result, notes = override, []
        elif opcode in self.ignored:
            result, notes = Result.SUCCESS, []
        else:
            result, notes = self._execute(opcode, params)
            if not self.status_after_commands:
                notes = [note for note in notes if note[0] != MACHINE_STATUS]
        answer = (CONTROL_POINT, bytes([Opcode.RESPONSE, opcode, result]))
        self._schedule(client, [answer, *notes])

    def _schedule(self, client: FakeBleakClient, notes: list[_Notification]) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.Handle

        def deliver() -> None:
            self._pending.discard(handle)
            self._deliver_all(client, notes)

        if self.response_delay > 0:
            handle = loop.call_later(self.response_delay, deliver)
        else:
            handle = loop.call_soon(deliver)
        self._pending.add(handle)

    def _deliver_all(
        self, client: FakeBleakClient | None, notes: list[_Notification]
    ) -> None:
        """Deliver every notification, then raise the first callback error."""
        first: Exception | None = None
        for uuid, data in notes:
            if client is None:
                return
            try:
                client.deliver(uuid, data)
            except Exception as err:  # noqa: BLE001 - re-raised below
                first = first or err
        if first is not None:
            raise first

    def _notify(self, uuid: str, data: bytes) -> None:
        self._deliver_all(self.client, [(uuid, data)])

    def _notify_all(self, notes: list[_Notification]) -> None:
        self._deliver_all(self.client, notes)

    # ------------------------------------------------------------------
    # The walker at the machine
    # ------------------------------------------------------------------

    def _require_power(self) -> None:
        if not self.powered:
            raise RuntimeError("the treadmill is switched off")

    def console_start(self) -> None:
        """Start or resume on the console (needs the safety key)."""
        self._require_power()
        if self.safety_key_in:
            self._notify_all(self._do_start())

    def console_pause(self) -> None:
        """Pause on the console."""
        self._require_power()
        self._notify_all(self._do_stop_pause(_PAUSE))

    def console_stop(self) -> None:
        """Stop on the console."""
        self._require_power()
        self._notify_all(self._do_stop_pause(_STOP))

    def console_set_speed(self, speed: float) -> None:
        """Change the target speed with the console's buttons."""
        self._require_power()
        low, high, _ = self.speed_range
        self.target_speed = min(max(speed, low), high)
        self._notify(*self._speed_status())

    def console_set_incline(self, incline: float) -> None:
        """Change the target incline with the console's buttons."""
        self._require_power()
        low, high, _ = self.incline_range
        self.target_incline = min(max(incline, low), high)
        self._notify(*self._incline_status())

    def press_safety_key(self) -> None:
        """Pull the safety key: the belt stops at once.

        Notifies Machine Status 0x03 (the client: ``MachineEvent.SAFETY_KEY``)
        and the Training Status. Starting fails with Operation
        Failed (0x04) until :meth:`insert_safety_key`.
        """
        self._require_power()
        self.safety_key_in = False
        self.speed = 0.0
        self.target_speed = 0.0
        self.state = BeltState.STOPPED
        self._notify_all(
            [
                self._status(MachineStatus.STOPPED_BY_SAFETY_KEY),
                *self._training_update(),
            ]
        )

    def insert_safety_key(self) -> None:
        """Put the safety key back."""
        self.safety_key_in = True

    def revoke_control(self) -> None:
        """Take control away from the client (Machine Status 0xFF)."""
        self.controlled = False
        self._notify(*self._status(MachineStatus.CONTROL_PERMISSION_LOST))

    # ------------------------------------------------------------------
    # Power and radio
    # ------------------------------------------------------------------

    def power_off(self) -> None:
        """Switch the machine off: the link drops and the belt stops dead."""
        self.powered = False
        self._drop_link()
        self._reset_physics()

    def power_on(self) -> None:
        """Switch the machine on again: idle, fresh workout, connectable."""
        if self.powered:
            return
        self.powered = True
        self._reset_physics()

    def go_out_of_range(self) -> None:
        """Walk the radio out of range: the link drops, the belt keeps going."""
        self.in_range = False
        self._drop_link()

    def come_into_range(self) -> None:
        """Bring the radio back into range: connectable again."""
        self.in_range = True

    def drop_connection(self) -> None:
        """Lose the link once (interference); the machine stays connectable."""
        self._drop_link()

    def _drop_link(self) -> None:
        if self.client is not None:
            self.client.lost()

    def _detach(self, client: FakeBleakClient) -> None:
        """Forget a client that is gone; cancel answers still on their way."""
        if self.client is client:
            self.client = None
            self.controlled = False
        for handle in list(self._pending):
            handle.cancel()
        self._pending.clear()

    # ------------------------------------------------------------------
    # Connections (used by the patched bleak_retry_connector functions)
    # ------------------------------------------------------------------

    async def _establish(
        self, device: BLEDevice, disconnected_callback: DisconnectedCallback | None
    ) -> FakeBleakClient:
        self.connect_attempts += 1
        if self.connect_delay > 0:
            await asyncio.sleep(self.connect_delay)
        if self.connect_error is not None:
            raise self.connect_error
        if not self.powered or not self.in_range:
            raise BleakNotFoundError(
                f"{self.name} - {device.address}: Failed to connect: device not found"
            )
        if self.connected:
            raise BleakConnectionError(
                f"{self.name} - {device.address}: already connected to another central"
            )
        self.client = FakeBleakClient(self, device, disconnected_callback)
        self.connections += 1
        return self.client

    def service_info(
        self,
        *,
        rssi: int = -60,
        source: str = DEFAULT_SOURCE,
        connectable: bool = True,
        advertised_time: float | None = None,
    ) -> BluetoothServiceInfoBleak:
        """An advertisement of the machine as Home Assistant's bluetooth sees it.

        FTMS service 0x1826 with its service data: flags 0x01 (fitness machine
        available) and the machine type field 0x0001 (treadmill), so
        ``ftms_protocol.is_treadmill(info.service_data)`` is True.
        ``info.device`` is a real bleak ``BLEDevice``.
        """
        uuid = normalize_uuid_str(FTMS_SERVICE)
        service_data = {uuid: bytes([0x01]) + struct.pack("<H", 0x0001)}
        service_uuids = [uuid]
        device = BLEDevice(
            self.address,
            self.name,
            {"path": f"/org/bluez/hci0/dev_{self.address.replace(':', '_')}"},
        )
        advertisement = AdvertisementData(
            local_name=self.name,
            manufacturer_data={},
            service_data=service_data,
            service_uuids=service_uuids,
            tx_power=None,
            rssi=rssi,
            platform_data=(),
        )
        return BluetoothServiceInfoBleak(
            name=self.name,
            address=self.address,
            rssi=rssi,
            manufacturer_data={},
            service_data=service_data,
            service_uuids=service_uuids,
            source=source,
            device=device,
            advertisement=advertisement,
            connectable=connectable,
            time=monotonic_time_coarse()
            if advertised_time is None
            else advertised_time,
            tx_power=None,
        )


class FakeBleakClient:
    """The part of bleak 3's ``BleakClient`` the client uses, on a FakeTreadmill.

    Created connected by the patched ``establish_connection``. Characteristics
    can be given as bleak characteristics, handles, or UUIDs in short ("2acd")
    or full 128-bit form: lookups go through bleak's own
    ``BleakGATTServiceCollection``, which normalises them as bleak does.
    """

    def __init__(
        self,
        machine: FakeTreadmill,
        device: BLEDevice,
        disconnected_callback: DisconnectedCallback | None = None,
    ) -> None:
        """Connect to ``machine``."""
        self._machine = machine
        self._device = device
        self._disconnected_callback = disconnected_callback
        self._services = _build_gatt()
        self._callbacks: dict[int, NotifyCallback] = {}
        self._connected = True
        self._background: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        """Name the client after its machine."""
        state = "connected" if self._connected else "disconnected"
        return f"<FakeBleakClient {self.address} {state}>"

    @property
    def address(self) -> str:
        """The machine's address."""
        return self._device.address

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._connected

    @property
    def services(self) -> BleakGATTServiceCollection:
        """The machine's GATT database."""
        return self._services

    @property
    def mtu_size(self) -> int:
        """The default ATT MTU."""
        return 23

    def set_disconnected_callback(self, callback: DisconnectedCallback | None) -> None:
        """Replace the disconnected callback."""
        self._disconnected_callback = callback

    def _characteristic(self, specifier: CharSpecifier) -> BleakGATTCharacteristic:
        if isinstance(specifier, BleakGATTCharacteristic):
            specifier = specifier.handle
        char = self._services.get_characteristic(specifier)
        if char is None:
            raise BleakCharacteristicNotFoundError(specifier)
        return char

    def _check_connected(self) -> None:
        if not self._connected:
            raise BleakError("Not connected")

    async def connect(self, **kwargs: Any) -> None:
        """Connect again with this client (bleak allows it)."""
        if self._connected:
            return
        machine = self._machine
        if not machine.powered or not machine.in_range:
            raise BleakError(f"Device with address {self.address} was not found")
        if machine.connected:
            raise BleakError("already connected to another central")
        self._connected = True
        self._callbacks.clear()
        machine.client = self
        machine.connections += 1

    async def disconnect(self) -> None:
        """Disconnect; the disconnected callback runs before this returns."""
        self.lost()

    def lost(self) -> None:
        """The link is gone: forget subscriptions, tell the disconnected callback."""
        if not self._connected:
            return
        self._connected = False
        self._callbacks.clear()
        self._machine._detach(self)
        if self._disconnected_callback is not None:
            self._disconnected_callback(self)

    async def read_gatt_char(
        self, char_specifier: CharSpecifier, **kwargs: Any
    ) -> bytearray:
        """Read a characteristic's value."""
        self._check_connected()
        char = self._characteristic(char_specifier)
        if "read" not in char.properties:
            raise BleakError(f"Characteristic {char.uuid} is not readable")
        return bytearray(self._machine._read_value(char.uuid))

    async def write_gatt_char(
        self,
        char_specifier: CharSpecifier,
        data: bytes | bytearray | memoryview,
        response: bool | None = None,
    ) -> None:
        """Write a characteristic: the control point is the only writable one."""
        self._machine.writes.append((time.perf_counter_ns(), bytes(data)))
        if self._machine.write_error is not None:
            raise self._machine.write_error
        self._check_connected()
        char = self._characteristic(char_specifier)
        if "write" not in char.properties:
            raise BleakError(f"Characteristic {char.uuid} is not writable")
        self._machine._on_control_point(self, bytes(data))

    async def start_notify(
        self, char_specifier: CharSpecifier, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Subscribe to notifications or indications of a characteristic."""
        self._check_connected()
        char = self._characteristic(char_specifier)
        if not {"notify", "indicate"} & set(char.properties):
            raise BleakError(f"Characteristic {char.uuid} does not notify")
        self._callbacks[char.handle] = callback

    async def stop_notify(self, char_specifier: CharSpecifier) -> None:
        """Unsubscribe."""
        self._check_connected()
        self._callbacks.pop(self._characteristic(char_specifier).handle, None)

    def deliver(self, uuid: str, data: bytes) -> None:
        """Deliver a notification or indication, if subscribed and connected."""
        if not self._connected:
            return
        char = self._services.get_characteristic(uuid)
        if char is None:  # a machine built without it
            return
        if (callback := self._callbacks.get(char.handle)) is None:
            return
        machine = self._machine
        machine.notifications.append((_short(char.uuid), data))
        try:
            result = callback(char, bytearray(data))
        except Exception as err:
            machine.callback_errors.append(err)
            if machine.raise_callback_errors:
                raise
            _LOGGER.exception("Error in the notification callback of %s", char.uuid)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._background.add(task)
            task.add_done_callback(self._background.discard)


def _machine_for(
    machines: dict[str, FakeTreadmill], device: BLEDevice
) -> FakeTreadmill:
    if (machine := machines.get(device.address.upper())) is None:
        raise BleakNotFoundError(f"{device.address}: device not found")
    return machine


@contextlib.contextmanager
def patch_ftms(*machines: FakeTreadmill) -> Iterator[None]:
    """Make the FTMS client connect to fake machines instead of Bluetooth.

    Patches ``establish_connection`` where ``ftms_client`` imported it.
    Connections are routed by the ``BLEDevice`` address; an unknown address,
    or a machine that is off or out of range, raises
    ``bleak_retry_connector.BleakNotFoundError`` (a ``BleakError``), a
    machine already connected to another client raises
    ``BleakConnectionError``, and ``machine.connect_error`` is raised while
    set.
    """
    by_address = {machine.address.upper(): machine for machine in machines}

    async def establish_connection(
        client_class: type[Any],
        device: BLEDevice,
        name: str,
        disconnected_callback: DisconnectedCallback | None = None,
        max_attempts: int = 4,
        cached_services: BleakGATTServiceCollection | None = None,
        ble_device_callback: Callable[[], BLEDevice] | None = None,
        use_services_cache: bool = True,  # noqa: FBT002 - bleak_retry_connector's signature
        pair: bool = False,  # noqa: FBT002 - bleak_retry_connector's signature
        **kwargs: Any,
    ) -> FakeBleakClient:
        if ble_device_callback is not None:
            device = ble_device_callback()
        machine = _machine_for(by_address, device)
        return await machine._establish(device, disconnected_callback)

    with patch(ESTABLISH_CONNECTION, new=establish_connection):
        yield
