"""Base entity shared by every Retro Walk platform."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_TREADMILL_TYPE, DOMAIN, TreadmillType
from .coordinator import RetroWalkCoordinator

MODELS = {
    TreadmillType.NONE: "Hallway station",
    TreadmillType.SIMULATED: "Simulated treadmill",
    TreadmillType.LINKED: "Linked treadmill",
}


class RetroWalkEntity(CoordinatorEntity[RetroWalkCoordinator]):
    """An entity of one station, on the station's device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: RetroWalkCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to its station."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer="Retro Walk",
            model=MODELS[TreadmillType(entry.data[CONF_TREADMILL_TYPE])],
        )
