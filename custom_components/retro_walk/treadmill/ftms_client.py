"""An asyncio client for a Bluetooth FTMS treadmill.

Connects with ``bleak_retry_connector.establish_connection``, reads what the
machine is (Device Information, features, ranges), follows its Treadmill
Data, Fitness Machine Status and Training Status, and sends control point
commands one at a time, each answered or failed within ``timeout`` seconds.
The bytes are ``ftms_protocol``'s business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import logging
import time
from typing import Any, Final

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService
from bleak.exc import BleakError
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection

from . import ftms_protocol as proto
from .ftms_protocol import (
    ControlOpCode,
    Features,
    MachineStatusCode,
    ResultCode,
    SettingRange,
    StopPause,
    TreadmillDataAssembler,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 2.0
# A status the machine sends this long after answering one of our commands
# (or while the command is under way) is taken as that command's echo.
OWN_EVENT_WINDOW: Final = 1.0
# Malformed packets are logged as warnings at most this often per kind.
MALFORMED_LOG_INTERVAL: Final = 60.0


class FtmsError(Exception):
    """The machine cannot be used as an FTMS treadmill right now."""


class FtmsConnectionError(FtmsError):
    """The link is down, or went down while a command waited for its answer."""


class NotATreadmillError(FtmsError):
    """The device has no FTMS service with Treadmill Data."""


class MachineEvent(StrEnum):
    """What the machine reports doing (Fitness Machine Status)."""

    STARTED = "started"
    PAUSED = "paused"
    STOPPED = "stopped"
    SAFETY_KEY = "safety_key"  # stopped by the safety key
    RESET = "reset"
    CONTROL_LOST = "control_lost"  # the machine took control away


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """A machine event; ``own`` when it echoes a command of this client."""

    event: MachineEvent
    own: bool = False


type UpdateCallback = Callable[[Mapping[str, Any]], None]
type EventCallback = Callable[[ControlEvent], None]
type DisconnectCallback = Callable[["FtmsClient"], None]

_STATUS_EVENTS: Final[Mapping[MachineStatusCode, MachineEvent]] = {
    MachineStatusCode.RESET: MachineEvent.RESET,
    MachineStatusCode.STOPPED_BY_SAFETY_KEY: MachineEvent.SAFETY_KEY,
    MachineStatusCode.STARTED_OR_RESUMED: MachineEvent.STARTED,
    MachineStatusCode.CONTROL_PERMISSION_LOST: MachineEvent.CONTROL_LOST,
}
# The machine events each command causes (to recognise their echoes).
_ECHOES: Final[Mapping[bytes, tuple[MachineEvent, ...]]] = {
    proto.start_resume(): (MachineEvent.STARTED,),
    proto.stop_pause(StopPause.PAUSE): (MachineEvent.PAUSED,),
    proto.stop_pause(StopPause.STOP): (MachineEvent.STOPPED, MachineEvent.PAUSED),
    proto.reset(): (MachineEvent.RESET,),
}


def _name(op_code: int) -> str:
    try:
        return ControlOpCode(op_code).name
    except ValueError:
        return f"op code 0x{op_code:02x}"


class _MalformedLog:
    """Logs malformed packets without flooding the log."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._counts: dict[str, int] = {}
        self._warned: dict[str, float] = {}

    def __call__(self, kind: str, data: bytes, problem: str) -> None:
        count = self._counts.get(kind, 0) + 1
        now = time.monotonic()
        last = self._warned.get(kind)
        if last is None or now - last >= MALFORMED_LOG_INTERVAL:
            _LOGGER.warning(
                "Treadmill %s sent %d malformed %s packet(s) (%s; last: %s)",
                self._name,
                count,
                kind,
                problem,
                data.hex(),
            )
            self._warned[kind] = now
            count = 0
        else:
            _LOGGER.debug("Malformed %s packet (%s): %s", kind, problem, data.hex())
        self._counts[kind] = count


class FtmsClient:
    """One FTMS treadmill over Bluetooth.

    ``on_update`` gets telemetry (Treadmill Data records, Training Status,
    target settings), ``on_event`` the machine's own events and
    ``on_disconnect`` the loss of an established link. None of them is
    called for a connection attempt that fails half-way.
    """

    def __init__(
        self,
        device: BLEDevice,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_update: UpdateCallback | None = None,
        on_event: EventCallback | None = None,
        on_disconnect: DisconnectCallback | None = None,
    ) -> None:
        """Follow the machine at ``device``; connect with :meth:`connect`."""
        self._device = device
        self.timeout = timeout
        self._on_update = on_update
        self._on_event = on_event
        self._on_disconnect = on_disconnect
        self._client: BleakClientWithServiceCache | None = None
        self._ready = False
        self._controlled = False
        self._connect_lock = asyncio.Lock()
        self._command_lock = asyncio.Lock()
        self._control_point: BleakGATTCharacteristic | None = None
        self._pending: tuple[int, asyncio.Future[proto.ControlResponse]] | None = None
        # Halts (pause, stop) waiting for the control point, and whether the
        # command holding it is one: a halt never waits behind a speed change.
        self._halts_waiting = 0
        self._halting = False
        # Machine event -> loop time until which it is our command's echo.
        self._echo_until: dict[MachineEvent, float] = {}
        self._assembler = TreadmillDataAssembler()
        self._malformed = _MalformedLog(device.name or device.address)
        self.device_info: dict[str, str] = {}
        self.features = Features()
        self.supported_ranges: dict[str, SettingRange] = {}
        self._has_training_status = False

    def __repr__(self) -> str:
        """Name the client after its machine."""
        state = "connected" if self.is_connected else "disconnected"
        return f"<FtmsClient {self._device.address} {state}>"

    @property
    def address(self) -> str:
        """The machine's Bluetooth address."""
        return self._device.address

    @property
    def is_connected(self) -> bool:
        """Whether the link is up and set up."""
        return self._ready and self._client is not None and self._client.is_connected

    @property
    def controlled(self) -> bool:
        """Whether the machine granted control on this connection."""
        return self._controlled

    @property
    def supported_properties(self) -> list[str]:
        """The telemetry fields the machine announces."""
        names = self.features.properties
        if self._has_training_status:
            names.append(proto.TRAINING_STATUS)
        return names

    @property
    def supported_settings(self) -> list[str]:
        """The targets the machine lets a client set."""
        return self.features.settings

    def set_ble_device(self, device: BLEDevice) -> None:
        """Use a fresher ``BLEDevice`` (from the latest advertisement)."""
        self._device = device

    # Connection -------------------------------------------------------------

    async def connect(self) -> None:
        """Connect, read what the machine is, and subscribe to it.

        Raises ``BleakError`` (bleak-retry-connector's), ``TimeoutError`` or
        ``FtmsError``; the link is closed again after a failed set-up.
        """
        async with self._connect_lock:
            if self.is_connected:
                return
            client = await establish_connection(
                BleakClientWithServiceCache,
                self._device,
                self._device.name or self._device.address,
                disconnected_callback=self._on_disconnected,
                ble_device_callback=lambda: self._device,
            )
            self._client = client
            try:
                await self._set_up(client)
            except BaseException:
                self._client = None
                with contextlib.suppress(BleakError, TimeoutError):
                    await client.disconnect()
                raise
            self._ready = True

    async def disconnect(self) -> None:
        """Close the link (``on_disconnect`` is called if it was up)."""
        if (client := self._client) is not None:
            await client.disconnect()

    def _on_disconnected(self, client: Any) -> None:
        if client is not self._client:
            return  # a link given up before
        was_ready = self._ready
        self._ready = False
        self._controlled = False
        self._assembler.clear()
        if self._pending is not None and not self._pending[1].done():
            op_code, future = self._pending
            future.set_exception(
                FtmsConnectionError(
                    f"connection lost while waiting for the answer to {_name(op_code)}"
                )
            )
        if was_ready and self._on_disconnect is not None:
            self._on_disconnect(self)

    async def _set_up(self, client: BleakClientWithServiceCache) -> None:
        services = client.services
        ftms = services.get_service(proto.FTMS_SERVICE_UUID)
        data = (
            None if ftms is None else ftms.get_characteristic(proto.TREADMILL_DATA_UUID)
        )
        if ftms is None or data is None:
            raise NotATreadmillError(f"{self.address} has no FTMS Treadmill Data")
        if (dis := services.get_service(proto.DEVICE_INFORMATION_UUID)) is not None:
            self.device_info = await self._read_device_info(client, dis)
        self.features = (
            await self._read(client, ftms, proto.FEATURE_UUID, proto.parse_features)
            or Features()
        )
        self.supported_ranges = {}
        for key, uuid, parse in (
            (proto.TARGET_SPEED, proto.SPEED_RANGE_UUID, proto.parse_speed_range),
            (
                proto.TARGET_INCLINATION,
                proto.INCLINATION_RANGE_UUID,
                proto.parse_inclination_range,
            ),
        ):
            if (limits := await self._read(client, ftms, uuid, parse)) is not None:
                self.supported_ranges[key] = limits
        self._control_point = ftms.get_characteristic(proto.CONTROL_POINT_UUID)
        if self._control_point is not None:
            await client.start_notify(self._control_point, self._on_control_point)
        if (status := ftms.get_characteristic(proto.MACHINE_STATUS_UUID)) is not None:
            await client.start_notify(status, self._on_machine_status)
        training = ftms.get_characteristic(proto.TRAINING_STATUS_UUID)
        self._has_training_status = training is not None
        if training is not None:
            if "read" in training.properties:
                self._on_training_status(
                    training, await client.read_gatt_char(training)
                )
            await client.start_notify(training, self._on_training_status)
        self._assembler.clear()
        await client.start_notify(data, self._on_treadmill_data)

    @staticmethod
    async def _read_device_info(
        client: BleakClientWithServiceCache, service: BleakGATTService
    ) -> dict[str, str]:
        info: dict[str, str] = {}
        for key, uuid in proto.DEVICE_INFORMATION_UUIDS.items():
            if (char := service.get_characteristic(uuid)) is None:
                continue
            try:
                raw = await client.read_gatt_char(char)
            except BleakError as err:
                _LOGGER.debug("Cannot read %s of %s: %s", key, client.address, err)
                continue
            if text := bytes(raw).decode("utf-8", errors="replace").strip("\x00 "):
                info[key] = text
        return info

    async def _read[T](
        self,
        client: BleakClientWithServiceCache,
        service: BleakGATTService,
        uuid: str,
        parse: Callable[[bytes], T | None],
    ) -> T | None:
        if (char := service.get_characteristic(uuid)) is None:
            return None
        raw = bytes(await client.read_gatt_char(char))
        if (value := parse(raw)) is None:
            self._malformed(char.uuid[4:8], raw, "too short")
        return value

    # Notifications (never raise: a bad packet is logged and skipped) ---------

    def _update(self, values: Mapping[str, Any]) -> None:
        if values and self._on_update is not None:
            self._on_update(values)

    def _on_treadmill_data(
        self, _char: BleakGATTCharacteristic, data: bytearray
    ) -> None:
        packet = proto.parse_treadmill_data(bytes(data))
        if packet is None:
            self._malformed("Treadmill Data", bytes(data), "no flags")
            return
        if packet.truncated or packet.trailing:
            problem = "cut short" if packet.truncated else "trailing bytes"
            self._malformed("Treadmill Data", bytes(data), problem)
        if (record := self._assembler.feed(packet)) is not None:
            self._update(record)

    def _on_training_status(
        self, _char: BleakGATTCharacteristic, data: bytearray
    ) -> None:
        if (status := proto.parse_training_status(bytes(data))) is None:
            self._malformed("Training Status", bytes(data), "too short")
            return
        self._update(status.values)

    def _on_machine_status(
        self, _char: BleakGATTCharacteristic, data: bytearray
    ) -> None:
        status = proto.parse_machine_status(bytes(data))
        if status is None or status.truncated:
            self._malformed("Fitness Machine Status", bytes(data), "too short")
        if status is None:
            return
        if status.code is None:
            _LOGGER.debug("Machine status 0x%02x ignored", status.op_code)
            return
        if status.code in (
            MachineStatusCode.RESET,
            MachineStatusCode.CONTROL_PERMISSION_LOST,
        ):
            self._controlled = False
        self._update(status.values)
        if status.code is MachineStatusCode.STOPPED_OR_PAUSED:
            event = (
                MachineEvent.PAUSED
                if status.stop_pause is StopPause.PAUSE
                else MachineEvent.STOPPED
            )
        elif (found := _STATUS_EVENTS.get(status.code)) is not None:
            event = found
        else:
            return
        if self._on_event is not None:
            self._on_event(ControlEvent(event, own=self._is_echo(event)))

    def _on_control_point(
        self, _char: BleakGATTCharacteristic, data: bytearray
    ) -> None:
        response = proto.parse_control_response(bytes(data))
        if response is None:
            self._malformed("Control Point", bytes(data), "not a response")
            return
        pending = self._pending
        if pending is None or pending[0] != response.request or pending[1].done():
            _LOGGER.debug(
                "Answer to %s ignored: no such request is waiting",
                _name(response.request),
            )
            return
        pending[1].set_result(response)

    def _is_echo(self, event: MachineEvent) -> bool:
        until = self._echo_until.get(event)
        return until is not None and asyncio.get_running_loop().time() <= until

    # Commands ---------------------------------------------------------------

    async def _exchange(self, request: bytes) -> ResultCode | int:
        """Write one request and wait for its answer."""
        client, char = self._client, self._control_point
        if char is None:
            raise FtmsError("the treadmill has no control point")
        if client is None or not self.is_connected:
            raise FtmsConnectionError("the treadmill is not connected")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[proto.ControlResponse] = loop.create_future()
        self._pending = (request[0], future)
        echoes = _ECHOES.get(request, ())
        for event in echoes:
            self._echo_until[event] = float("inf")
        try:
            async with asyncio.timeout(self.timeout):
                await client.write_gatt_char(char, request, response=True)
                response = await future
        except TimeoutError as err:
            raise TimeoutError(
                f"no answer to {_name(request[0])} within {self.timeout} s"
            ) from err
        finally:
            self._pending = None
            for event in echoes:
                self._echo_until[event] = loop.time() + OWN_EVENT_WINDOW
        return response.result

    async def _command(
        self, request: bytes, *, insist: bool = False
    ) -> ResultCode | int:
        """Send a command, in control; the machine's result code.

        Control is requested first when this connection does not have it
        (never granted, reset, or taken away by status 0xFF), and once more
        when the machine answers Not Permitted.

        With ``insist`` (pausing or stopping the belt) the command goes out
        even if control is refused, and it goes first: a command waiting for
        its answer gives way at once (it fails with FtmsError; its late answer
        is ignored), and commands queued behind the halt are not sent.
        """
        if not insist:
            async with self._command_lock:
                if self._halts_waiting:
                    msg = f"{_name(request[0])} gave way to a pause or stop"
                    raise FtmsError(msg)
                return await self._send(request, insist=False)
        self._halts_waiting += 1
        waiting = True
        try:
            self._give_way()
            async with self._command_lock:
                self._halts_waiting -= 1
                waiting = False
                self._halting = True
                try:
                    return await self._send(request, insist=True)
                finally:
                    self._halting = False
        finally:
            if waiting:  # cancelled before its turn
                self._halts_waiting -= 1

    def _give_way(self) -> None:
        """Fail the answer a speed (or other non-halt) command waits for."""
        pending = self._pending
        if pending is not None and not self._halting and not pending[1].done():
            op_code, future = pending
            future.set_exception(
                FtmsError(f"{_name(op_code)} gave way to a pause or stop")
            )

    async def _send(self, request: bytes, *, insist: bool) -> ResultCode | int:
        """The command itself, with the control point held."""
        requested = False
        if not self._controlled:
            requested = True
            granted = await self._request_control()
            if granted != ResultCode.SUCCESS and not insist:
                return granted
        result = await self._exchange(request)
        if result == ResultCode.NOT_PERMITTED and not requested:
            self._controlled = False
            if await self._request_control() == ResultCode.SUCCESS:
                result = await self._exchange(request)
        if result == ResultCode.SUCCESS and request[0] == ControlOpCode.RESET:
            self._controlled = False
        return result

    async def _request_control(self) -> ResultCode | int:
        result = await self._exchange(proto.request_control())
        self._controlled = result == ResultCode.SUCCESS
        if not self._controlled:
            _LOGGER.debug("%s refused control: %s", self.address, result)
        return result

    async def request_control(self) -> ResultCode | int:
        """Ask the machine for control."""
        async with self._command_lock:
            return await self._request_control()

    async def reset(self) -> ResultCode | int:
        """Reset the machine (it gives control up)."""
        return await self._command(proto.reset())

    async def set_target_speed(self, speed: float) -> ResultCode | int:
        """Set the target speed, km/h."""
        request = proto.set_target_speed(speed)
        result = await self._command(request)
        if result == ResultCode.SUCCESS:
            self._update({proto.TARGET_SPEED: round(speed, 2)})
        return result

    async def set_target_inclination(self, incline: float) -> ResultCode | int:
        """Set the target inclination, %."""
        request = proto.set_target_inclination(incline)
        result = await self._command(request)
        if result == ResultCode.SUCCESS:
            self._update({proto.TARGET_INCLINATION: round(incline, 1)})
        return result

    async def start_resume(self) -> ResultCode | int:
        """Start or resume the belt."""
        return await self._command(proto.start_resume())

    async def pause(self) -> ResultCode | int:
        """Pause the belt (sent even if control is refused)."""
        return await self._command(proto.stop_pause(StopPause.PAUSE), insist=True)

    async def stop(self) -> ResultCode | int:
        """Stop the belt and end the workout (sent even if control is refused)."""
        return await self._command(proto.stop_pause(StopPause.STOP), insist=True)
