"""Base entity shared by every Retro Walk platform."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_TREADMILL_TYPE, DOMAIN, TreadmillType
from .coordinator import RetroWalkCoordinator
from .treadmill.ftms import FtmsTreadmill

MODELS = {
    TreadmillType.NONE: "Hallway station",
    TreadmillType.SIMULATED: "Simulated treadmill",
    TreadmillType.LINKED: "Linked treadmill",
    TreadmillType.FTMS: "FTMS treadmill",
}


def has_ftms(coordinator: RetroWalkCoordinator) -> bool:
    """Whether the station drives a Bluetooth FTMS treadmill."""
    return isinstance(coordinator.treadmill, FtmsTreadmill)


def has_remote_ftms(coordinator: RetroWalkCoordinator) -> bool:
    """Whether the station may set the FTMS treadmill's speed and incline."""
    return has_ftms(coordinator) and coordinator.treadmill.remote_control


def treadmill_available(coordinator: RetroWalkCoordinator) -> bool:
    """Whether the treadmill can be read and commanded now."""
    return coordinator.treadmill.available


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
