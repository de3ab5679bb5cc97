"""Numbers of a Retro Walk station: the next session's minutes and speed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfSpeed, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import (
    SETTING_BACKWARD_MINUTES,
    SETTING_BACKWARD_SPEED,
    RetroWalkConfigEntry,
    RetroWalkCoordinator,
)
from .entity import RetroWalkEntity
from .session import MAX_BACKWARD_MINUTES, MIN_BACKWARD_MINUTES, MIN_SPEED_KMH

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class RetroWalkNumberEntityDescription(NumberEntityDescription):
    """Describes a Retro Walk number."""

    setting: str
    value_fn: Callable[[RetroWalkCoordinator], float]
    max_fn: Callable[[RetroWalkCoordinator], float]


NUMBERS: tuple[RetroWalkNumberEntityDescription, ...] = (
    RetroWalkNumberEntityDescription(
        key="target_backward_minutes",
        translation_key="target_backward_minutes",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        native_min_value=MIN_BACKWARD_MINUTES,
        native_step=0.5,
        mode=NumberMode.BOX,
        setting=SETTING_BACKWARD_MINUTES,
        value_fn=lambda coordinator: coordinator.backward_minutes,
        max_fn=lambda _: MAX_BACKWARD_MINUTES,
    ),
    RetroWalkNumberEntityDescription(
        key="backward_speed",
        translation_key="backward_speed",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.SPEED,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        native_min_value=MIN_SPEED_KMH,
        native_step=0.1,
        mode=NumberMode.SLIDER,
        setting=SETTING_BACKWARD_SPEED,
        value_fn=lambda coordinator: coordinator.backward_speed,
        max_fn=lambda coordinator: coordinator.speed_cap,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's numbers."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        RetroWalkNumber(coordinator, description) for description in NUMBERS
    )


class RetroWalkNumber(RetroWalkEntity, NumberEntity):
    """A setting of the next session, kept across restarts."""

    entity_description: RetroWalkNumberEntityDescription

    @property
    def native_value(self) -> float:
        """The current setting."""
        return self.entity_description.value_fn(self.coordinator)

    @property
    def native_max_value(self) -> float:
        """The highest value allowed (the speed cap for the walker)."""
        return self.entity_description.max_fn(self.coordinator)

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting."""
        await self.coordinator.async_set_setting(self.entity_description.setting, value)
