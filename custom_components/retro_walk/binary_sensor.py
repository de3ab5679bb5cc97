"""Binary sensors of a Retro Walk station."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RetroWalkConfigEntry
from .entity import RetroWalkEntity

PARALLEL_UPDATES = 0

SESSION_ACTIVE = BinarySensorEntityDescription(
    key="session_active",
    translation_key="session_active",
    device_class=BinarySensorDeviceClass.RUNNING,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's binary sensors."""
    async_add_entities(
        [RetroWalkSessionActive(entry.runtime_data.coordinator, SESSION_ACTIVE)]
    )


class RetroWalkSessionActive(RetroWalkEntity, BinarySensorEntity):
    """On while a session is under way, paused or not."""

    @property
    def is_on(self) -> bool:
        """Whether a session is under way."""
        return self.coordinator.data.active
