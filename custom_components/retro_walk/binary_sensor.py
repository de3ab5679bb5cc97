"""Binary sensors of a Retro Walk station."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator
from .entity import (
    RetroWalkEntity,
    RetroWalkEntityDescription,
    has_ftms,
    station_entities,
    treadmill_available,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RetroWalkBinarySensorEntityDescription(
    BinarySensorEntityDescription, RetroWalkEntityDescription
):
    """Describes a Retro Walk binary sensor."""

    is_on_fn: Callable[[RetroWalkCoordinator], bool]


BINARY_SENSORS: tuple[RetroWalkBinarySensorEntityDescription, ...] = (
    RetroWalkBinarySensorEntityDescription(
        key="session_active",
        translation_key="session_active",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda coordinator: coordinator.data.active,
    ),
    RetroWalkBinarySensorEntityDescription(
        key="treadmill_connected",
        translation_key="treadmill_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=treadmill_available,
        exists_fn=has_ftms,
    ),
    RetroWalkBinarySensorEntityDescription(
        key="instability",
        translation_key="instability",
        device_class=BinarySensorDeviceClass.SAFETY,
        is_on_fn=lambda coordinator: (
            coordinator.config_entry.runtime_data.safety.unsafe
        ),
    ),
    RetroWalkBinarySensorEntityDescription(
        key="partner_alert",
        translation_key="partner_alert",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda coordinator: (
            coordinator.config_entry.runtime_data.safety.alert_pending
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's binary sensors."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        station_entities(coordinator, RetroWalkBinarySensor, BINARY_SENSORS)
    )


class RetroWalkBinarySensor(RetroWalkEntity, BinarySensorEntity):
    """A yes/no fact about the station."""

    entity_description: RetroWalkBinarySensorEntityDescription

    @property
    def is_on(self) -> bool:
        """The fact."""
        return self.entity_description.is_on_fn(self.coordinator)
