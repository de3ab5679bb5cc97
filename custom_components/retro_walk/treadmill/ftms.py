"""A Bluetooth FTMS (Fitness Machine Service) treadmill, through our FTMS client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
import logging
from typing import Any

from bleak.exc import BleakError

from homeassistant.components import bluetooth
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from . import MachineInfo, Treadmill, TreadmillError, TreadmillEvent
from .ftms_client import ControlEvent, FtmsClient, FtmsError, MachineEvent
from .ftms_protocol import ResultCode, SettingRange

_LOGGER = logging.getLogger(__name__)

# How long one control-point command may take before it counts as failed.
COMMAND_TIMEOUT = 2.0
# Home Assistant only passes on advertisements that changed: a machine that
# was power-cycled may advertise exactly as before, so retry on a timer too.
RECONNECT_INTERVAL = timedelta(seconds=15)
SPEED_KEY = "speed_instant"
TARGET_SPEED_KEY = "target_speed"
INCLINE_KEY = "inclination"
# What a failed connection attempt may raise (bleak-retry-connector raises
# BleakError subclasses; the client FtmsError for a device that is no
# treadmill).
CONNECT_ERRORS = (BleakError, TimeoutError, FtmsError)
# What a command may raise besides answering a result code (a link lost
# while waiting is an FtmsConnectionError, at once).
COMMAND_ERRORS = (BleakError, TimeoutError, FtmsError)


def _result_name(result: ResultCode | int) -> str:
    return result.name if isinstance(result, ResultCode) else f"0x{result:02x}"


class FtmsTreadmill(Treadmill):
    """Keeps a connection to an FTMS treadmill and drives it.

    The machine is attached when it advertises and re-attached after it was
    power-cycled or out of range, without restarting Home Assistant.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        address: str,
        *,
        remote_control: bool,
        name: str,
    ) -> None:
        """Follow the treadmill at ``address``."""
        super().__init__()
        self._hass = hass
        self.address = address
        self.remote_control = remote_control
        self._name = name
        self._client: FtmsClient | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._closed = False
        # Logged once when it goes away and once when it comes back.
        self._reported_unavailable = False
        self._belt_running = False
        self._telemetry: dict[str, Any] = {}

    # Connection ----------------------------------------------------------

    async def async_start(self) -> None:
        """Watch the machine's advertisements (and connect to it when seen)."""
        self._unsubscribe = [
            bluetooth.async_register_callback(
                self._hass,
                self._async_advertised,
                bluetooth.BluetoothCallbackMatcher(
                    address=self.address, connectable=True
                ),
                bluetooth.BluetoothScanningMode.ACTIVE,
            ),
            bluetooth.async_track_unavailable(
                self._hass, self._async_out_of_range, self.address, connectable=True
            ),
            async_track_time_interval(
                self._hass,
                self._async_retry,
                RECONNECT_INTERVAL,
                name=f"retro_walk reconnect {self.address}",
            ),
        ]
        if info := bluetooth.async_last_service_info(
            self._hass, self.address, connectable=True
        ):
            self._async_advertised(info, bluetooth.BluetoothChange.ADVERTISEMENT)

    async def async_close(self) -> None:
        """Disconnect and stop watching."""
        self._closed = True
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._is_connecting:
            assert self._connecting is not None  # noqa: S101 - checked above
            self._connecting.cancel()
        if self._client is not None:
            try:
                await self._client.disconnect()
            except BleakError as err:
                _LOGGER.debug("Disconnecting %s failed: %s", self._name, err)

    @callback
    def _async_advertised(
        self,
        info: bluetooth.BluetoothServiceInfoBleak,
        change: bluetooth.BluetoothChange,
    ) -> None:
        """The machine advertised: keep its device fresh and (re)connect."""
        if self._client is None:
            self._client = FtmsClient(
                info.device,
                timeout=COMMAND_TIMEOUT,
                on_update=self._on_update,
                on_event=self._on_event,
                on_disconnect=self._on_disconnect,
            )
        else:
            self._client.set_ble_device(info.device)
        if (
            not self._client.is_connected
            and not self._is_connecting
            and not self._closed
        ):
            self._connecting = self._hass.async_create_background_task(
                self._async_connect(), f"retro_walk connect {self.address}"
            )

    @property
    def _is_connecting(self) -> bool:
        # Tasks start eagerly: one may be done before it is even stored.
        return self._connecting is not None and not self._connecting.done()

    @callback
    def _async_retry(self, _now: Any) -> None:
        """Reconnect to a machine Home Assistant still hears."""
        if self.available or self._is_connecting:
            return
        if info := bluetooth.async_last_service_info(
            self._hass, self.address, connectable=True
        ):
            self._async_advertised(info, bluetooth.BluetoothChange.ADVERTISEMENT)

    async def _async_connect(self) -> None:
        client = self._client
        assert client is not None  # noqa: S101 - set before connecting
        try:
            await client.connect()
        except CONNECT_ERRORS as err:
            self._report_unavailable(f"cannot connect: {err!r}")
            return
        if self._reported_unavailable:
            _LOGGER.info("Treadmill %s is connected again", self._name)
            self._reported_unavailable = False
        else:
            _LOGGER.debug("Connected to treadmill %s", self._name)
        self._notify()

    def _report_unavailable(self, why: str) -> None:
        if not self._reported_unavailable:
            _LOGGER.info("Treadmill %s is unavailable: %s", self._name, why)
            self._reported_unavailable = True
        self._notify()

    @callback
    def _async_out_of_range(self, info: bluetooth.BluetoothServiceInfoBleak) -> None:
        """No more advertisements (a connected machine may stop advertising)."""
        if not self.available:
            self._report_unavailable("out of range or switched off")

    def _on_disconnect(self, client: FtmsClient) -> None:
        self._belt_running = False
        self._telemetry.pop(SPEED_KEY, None)
        if self._closed:
            return
        self._report_unavailable("connection lost")
        self._fire(TreadmillEvent.CONNECTION_LOST)

    @property
    def available(self) -> bool:
        """Whether the machine is connected."""
        return self._client is not None and self._client.is_connected

    # Telemetry -----------------------------------------------------------

    def _on_update(self, values: Mapping[str, Any]) -> None:
        changed = any(
            self._telemetry.get(key) != value for key, value in values.items()
        )
        # A field a packet leaves out keeps its last value.
        self._telemetry.update(values)
        if changed:
            self._notify()

    def _on_event(self, event: ControlEvent) -> None:
        self._belt_running = event.event is MachineEvent.STARTED
        if event.event is MachineEvent.SAFETY_KEY:
            _LOGGER.warning("Safety key stop on treadmill %s", self._name)
            self._fire(TreadmillEvent.SAFETY_KEY)
        elif (
            event.event in (MachineEvent.PAUSED, MachineEvent.STOPPED) and not event.own
        ):
            # Not the echo of a pause/stop of ours: the walker's console.
            self._fire(TreadmillEvent.CONSOLE_PAUSE)
        elif event.event is MachineEvent.CONTROL_LOST:
            _LOGGER.info(
                "Treadmill %s took control back; it is requested again before"
                " the next command",
                self._name,
            )
        self._notify()

    @property
    def telemetry(self) -> dict[str, Any]:
        """The machine's latest readings and targets (``ftms_protocol`` names)."""
        return self._telemetry if self.available else {}

    @property
    def speed(self) -> float | None:
        """The belt speed the machine reports, km/h.

        A connected machine that has not reported a speed yet has a still
        belt (it sends Treadmill Data once it moves).
        """
        if not self.available:
            return None
        return round(float(self._telemetry.get(SPEED_KEY) or 0.0), 2)

    @property
    def incline(self) -> float | None:
        """The incline the machine reports, %."""
        value = self._telemetry.get(INCLINE_KEY)
        return None if value is None or not self.available else float(value)

    @property
    def ranges(self) -> dict[str, SettingRange]:
        """The supported setting ranges (target speed, inclination)."""
        return {} if self._client is None else dict(self._client.supported_ranges)

    @property
    def machine(self) -> FtmsClient | None:
        """The FTMS client, once the machine was seen."""
        return self._client

    @property
    def device_info(self) -> MachineInfo:
        """Make and model from the machine's Device Information, once read."""
        read = {} if self._client is None else self._client.device_info
        info = MachineInfo()
        if "manufacturer" in read:
            info["manufacturer"] = read["manufacturer"]
        if "model" in read:
            info["model"] = read["model"]
        # The software revision, else the firmware revision.
        if version := read.get("sw_version", read.get("fw_version")):
            info["sw_version"] = version
        if "hw_version" in read:
            info["hw_version"] = read["hw_version"]
        return info

    # Commands ------------------------------------------------------------

    async def _async_command(
        self, what: str, command: Callable[[FtmsClient], Awaitable[ResultCode | int]]
    ) -> None:
        """Send a command; anything but SUCCESS raises TreadmillError."""
        client = self._client
        if client is None or not client.is_connected:
            raise TreadmillError(f"{what}: the treadmill is not connected")
        try:
            result = await command(client)
        except COMMAND_ERRORS as err:
            raise TreadmillError(f"{what}: {err!r}") from err
        if result != ResultCode.SUCCESS:
            raise TreadmillError(
                f"{what}: the treadmill answered {_result_name(result)}"
            )

    def _require_remote_control(self, what: str) -> None:
        if not self.remote_control:
            raise TreadmillError(f"{what}: remote control of the belt is off")

    def _clamp(self, key: str, value: float) -> float:
        if (limits := self.ranges.get(key)) is not None:
            value = min(max(value, limits.min_value), limits.max_value)
        return round(value, 2)

    async def async_set_speed(self, speed: float) -> None:
        """Start or resume the belt when needed, then set its target speed."""
        self._require_remote_control("set speed")
        if speed <= 0:
            await self.async_pause()
            return
        if not self._belt_running:
            await self._async_command("start", lambda client: client.start_resume())
            self._belt_running = True
        value = self._clamp(TARGET_SPEED_KEY, speed)
        await self._async_command(
            "set speed", lambda client: client.set_target_speed(value)
        )

    async def async_set_incline(self, incline: float) -> None:
        """Set the target incline (%)."""
        self._require_remote_control("set incline")
        value = self._clamp("target_inclination", incline)
        await self._async_command(
            "set incline", lambda client: client.set_target_inclination(value)
        )

    async def _async_halt(
        self, what: str, command: Callable[[FtmsClient], Awaitable[ResultCode | int]]
    ) -> None:
        await self._async_command(what, command)
        self._belt_running = False

    async def async_pause(self) -> None:
        """FTMS pause: the belt stops, the machine keeps its session."""
        await self._async_halt("pause", lambda client: client.pause())

    async def async_stop(self) -> None:
        """FTMS stop: the belt stops and the machine ends its session."""
        await self._async_halt("stop", lambda client: client.stop())
