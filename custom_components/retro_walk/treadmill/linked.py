"""A treadmill already in Home Assistant, driven through its entities."""

from __future__ import annotations

from collections.abc import Callable
import logging

from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfSpeed,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util.unit_conversion import SpeedConverter

from . import Treadmill, TreadmillError

_LOGGER = logging.getLogger(__name__)

SPEED_SENSOR_DOMAINS = ["sensor", "number", "input_number"]
SPEED_CONTROL_DOMAINS = ["number", "input_number"]
CONTROL_DOMAINS = ["button", "input_button", "switch", "input_boolean", "script"]
_PRESSED = {"button", "input_button"}
_SWITCHES = {"switch", "input_boolean"}


def _domain(entity_id: str) -> str:
    return entity_id.partition(".")[0]


class LinkedTreadmill(Treadmill):
    """Drives another integration's treadmill through its entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        speed_sensor: str,
        speed_control: str | None,
        pause_control: str,
        stop_control: str | None,
    ) -> None:
        """Link the entities."""
        super().__init__()
        self._hass = hass
        self.speed_sensor = speed_sensor
        self.speed_control = speed_control
        self.pause_control = pause_control
        self.stop_control = stop_control
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def entity_ids(self) -> list[str]:
        """Every linked entity."""
        return [
            entity_id
            for entity_id in (
                self.speed_sensor,
                self.speed_control,
                self.pause_control,
                self.stop_control,
            )
            if entity_id
        ]

    async def async_start(self) -> None:
        """Follow the linked entities' states."""
        self._unsubscribe = async_track_state_change_event(
            self._hass, self.entity_ids, self._async_state_changed
        )

    async def async_close(self) -> None:
        """Stop following the linked entities."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        self._notify()

    def _usable(self, entity_id: str) -> bool:
        state = self._hass.states.get(entity_id)
        return state is not None and state.state != STATE_UNAVAILABLE

    @property
    def available(self) -> bool:
        """Whether every linked entity is there."""
        return all(self._usable(entity_id) for entity_id in self.entity_ids)

    @property
    def speed(self) -> float | None:
        """The speed sensor's value in km/h, None when it has none."""
        state = self._hass.states.get(self.speed_sensor)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        try:
            value = float(state.state)
        except ValueError:
            return None
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        if (
            unit in SpeedConverter.VALID_UNITS
            and unit != UnitOfSpeed.KILOMETERS_PER_HOUR
        ):
            value = SpeedConverter.convert(value, unit, UnitOfSpeed.KILOMETERS_PER_HOUR)
        return round(value, 2)

    async def _async_call(
        self, domain: str, service: str, data: dict[str, object]
    ) -> None:
        try:
            await self._hass.services.async_call(domain, service, data, blocking=True)
        except (HomeAssistantError, ValueError) as err:
            msg = f"{domain}.{service} failed: {err}"
            raise TreadmillError(msg) from err

    async def async_set_speed(self, speed: float) -> None:
        """Set the speed control (in its own unit, within its range)."""
        if _domain(self.pause_control) in _SWITCHES and speed > 0:
            await self._async_switch(self.pause_control, on=True)
        if self.speed_control is None:
            return
        state = self._hass.states.get(self.speed_control)
        if state is None:
            msg = f"{self.speed_control} does not exist"
            raise TreadmillError(msg)
        value = speed
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        if (
            unit in SpeedConverter.VALID_UNITS
            and unit != UnitOfSpeed.KILOMETERS_PER_HOUR
        ):
            value = SpeedConverter.convert(speed, UnitOfSpeed.KILOMETERS_PER_HOUR, unit)
        low = state.attributes.get("min")
        high = state.attributes.get("max")
        if isinstance(low, int | float):
            value = max(value, float(low))
        if isinstance(high, int | float):
            value = min(value, float(high))
        await self._async_call(
            _domain(self.speed_control),
            "set_value",
            {ATTR_ENTITY_ID: self.speed_control, "value": round(value, 2)},
        )

    async def _async_switch(self, entity_id: str, *, on: bool) -> None:
        await self._async_call(
            _domain(entity_id),
            SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: entity_id},
        )

    async def _async_halt(self, control: str) -> None:
        """Operate a pause or stop control."""
        domain, _, object_id = control.partition(".")
        if domain in _SWITCHES:
            await self._async_switch(control, on=False)
        elif domain in _PRESSED:
            await self._async_call(domain, "press", {ATTR_ENTITY_ID: control})
        else:
            # Call the script itself (not script.turn_on) to wait for it and
            # to hear about its failures.
            await self._async_call(domain, object_id, {})

    async def async_pause(self) -> None:
        """Operate the pause control."""
        await self._async_halt(self.pause_control)

    async def async_stop(self) -> None:
        """Operate the stop control (the pause control when there is none)."""
        await self._async_halt(self.stop_control or self.pause_control)
