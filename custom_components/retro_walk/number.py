"""Numbers of a Retro Walk station: the next session's minutes and speed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfSpeed, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import (
    SETTING_BACKWARD_MINUTES,
    SETTING_BACKWARD_SPEED,
    RetroWalkConfigEntry,
    RetroWalkCoordinator,
)
from .entity import (
    RetroWalkEntity,
    RetroWalkEntityDescription,
    has_remote_ftms,
    station_entities,
    treadmill_available,
)
from .session import MAX_BACKWARD_MINUTES, MIN_BACKWARD_MINUTES, MIN_SPEED_KMH
from .treadmill.ftms import FtmsTreadmill
from .treadmill.ftms_protocol import SettingRange

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class RetroWalkNumberEntityDescription(
    NumberEntityDescription, RetroWalkEntityDescription
):
    """Describes a Retro Walk number."""

    value_fn: Callable[[RetroWalkCoordinator], float | None]
    set_fn: Callable[[RetroWalkCoordinator, float], Awaitable[None]]
    min_fn: Callable[[RetroWalkCoordinator], float]
    max_fn: Callable[[RetroWalkCoordinator], float]


def _range(coordinator: RetroWalkCoordinator, key: str) -> SettingRange | None:
    treadmill = coordinator.treadmill
    return treadmill.ranges.get(key) if isinstance(treadmill, FtmsTreadmill) else None


def _belt_speed_min(coordinator: RetroWalkCoordinator) -> float:
    limits = _range(coordinator, "target_speed")
    return MIN_SPEED_KMH if limits is None else max(limits.min_value, MIN_SPEED_KMH)


def _belt_speed_max(coordinator: RetroWalkCoordinator) -> float:
    limits = _range(coordinator, "target_speed")
    cap = coordinator.speed_cap
    return cap if limits is None else min(limits.max_value, cap)


def _incline_limit(coordinator: RetroWalkCoordinator, *, upper: bool) -> float:
    limits = _range(coordinator, "target_inclination")
    if limits is None:
        return 15.0 if upper else 0.0
    return float(limits.max_value if upper else limits.min_value)


NUMBERS: tuple[RetroWalkNumberEntityDescription, ...] = (
    RetroWalkNumberEntityDescription(
        key="target_backward_minutes",
        translation_key="target_backward_minutes",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        native_step=0.5,
        mode=NumberMode.BOX,
        value_fn=lambda coordinator: coordinator.backward_minutes,
        set_fn=lambda coordinator, value: coordinator.async_set_setting(
            SETTING_BACKWARD_MINUTES, value
        ),
        min_fn=lambda _: MIN_BACKWARD_MINUTES,
        max_fn=lambda _: MAX_BACKWARD_MINUTES,
    ),
    RetroWalkNumberEntityDescription(
        key="backward_speed",
        translation_key="backward_speed",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.SPEED,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        native_step=0.1,
        mode=NumberMode.SLIDER,
        value_fn=lambda coordinator: coordinator.backward_speed,
        set_fn=lambda coordinator, value: coordinator.async_set_setting(
            SETTING_BACKWARD_SPEED, value
        ),
        min_fn=lambda _: MIN_SPEED_KMH,
        max_fn=lambda coordinator: coordinator.speed_cap,
    ),
    RetroWalkNumberEntityDescription(
        key="belt_target_speed",
        translation_key="belt_target_speed",
        device_class=NumberDeviceClass.SPEED,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        native_step=0.1,
        mode=NumberMode.BOX,
        value_fn=lambda coordinator: coordinator.data.telemetry.get("target_speed"),
        set_fn=lambda coordinator, value: coordinator.async_set_belt_speed(value),
        min_fn=_belt_speed_min,
        max_fn=_belt_speed_max,
        exists_fn=has_remote_ftms,
        available_fn=treadmill_available,
    ),
    RetroWalkNumberEntityDescription(
        key="belt_incline",
        translation_key="belt_incline",
        native_unit_of_measurement=PERCENTAGE,
        native_step=0.5,
        mode=NumberMode.BOX,
        value_fn=lambda coordinator: coordinator.data.telemetry.get(
            "target_inclination"
        ),
        set_fn=lambda coordinator, value: coordinator.async_set_incline(value),
        min_fn=lambda coordinator: _incline_limit(coordinator, upper=False),
        max_fn=lambda coordinator: _incline_limit(coordinator, upper=True),
        exists_fn=has_remote_ftms,
        available_fn=treadmill_available,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's numbers."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(station_entities(coordinator, RetroWalkNumber, NUMBERS))


class RetroWalkNumber(RetroWalkEntity, NumberEntity):
    """A setting of the next session, or a setting of the belt itself."""

    entity_description: RetroWalkNumberEntityDescription

    @property
    def native_value(self) -> float | None:
        """The current value."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def native_min_value(self) -> float:
        """The lowest value allowed."""
        return self.entity_description.min_fn(self.coordinator)

    @property
    def native_max_value(self) -> float:
        """The highest value allowed (speeds stop at the walker's cap)."""
        return self.entity_description.max_fn(self.coordinator)

    def shown(self) -> tuple[Any, ...]:
        """The value and its range (the cap changes with the walker)."""
        return (*super().shown(), self.native_min_value, self.native_max_value)

    async def async_set_native_value(self, value: float) -> None:
        """Change the value."""
        await self.entity_description.set_fn(self.coordinator, value)
