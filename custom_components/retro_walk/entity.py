"""Base entity shared by every Retro Walk platform."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import callback
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


@dataclass(frozen=True, kw_only=True)
class RetroWalkEntityDescription(EntityDescription):
    """What every Retro Walk entity description adds to Home Assistant's."""

    # Whether the station has the entity (e.g. only FTMS stations).
    exists_fn: Callable[[RetroWalkCoordinator], bool] = lambda _: True
    # Whether the value can be read now (e.g. belt readings need the treadmill).
    available_fn: Callable[[RetroWalkCoordinator], bool] = lambda _: True


def station_entities[D: RetroWalkEntityDescription, E](
    coordinator: RetroWalkCoordinator,
    entity_class: Callable[[RetroWalkCoordinator, D], E],
    descriptions: Iterable[D],
) -> list[E]:
    """The entities of a platform table that this station has."""
    return [
        entity_class(coordinator, description)
        for description in descriptions
        if description.exists_fn(coordinator)
    ]


class RetroWalkEntity(CoordinatorEntity[RetroWalkCoordinator]):
    """An entity of one station, on the station's device."""

    _attr_has_entity_name = True
    entity_description: RetroWalkEntityDescription

    def __init__(
        self, coordinator: RetroWalkCoordinator, description: RetroWalkEntityDescription
    ) -> None:
        """Attach the entity to its station."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        # What the machine says it is, if connected already (the coordinator
        # updates the device when it connects later).
        machine = coordinator.treadmill.device_info
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            manufacturer=machine.get("manufacturer", "Retro Walk"),
            model=machine.get(
                "model", MODELS[TreadmillType(entry.data[CONF_TREADMILL_TYPE])]
            ),
            sw_version=machine.get("sw_version"),
            hw_version=machine.get("hw_version"),
        )

    @property
    def available(self) -> bool:
        """Available while the station runs and the description allows it."""
        return super().available and self.entity_description.available_fn(
            self.coordinator
        )

    _last_shown: tuple[Any, ...] | None = None

    def shown(self) -> tuple[Any, ...]:
        """What the frontend shows of the entity.

        The station publishes its status every second while something moves;
        an entity writes its state only when this changes, so fifty stations
        do not write (and record) the same values over and over.
        """
        return (self.available, self.state, self.extra_state_attributes)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when what it shows has changed."""
        shown = self.shown()
        if shown != self._last_shown:
            self._last_shown = shown
            super()._handle_coordinator_update()
