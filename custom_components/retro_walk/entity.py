"""Base entity shared by every Retro Walk platform."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_TREADMILL_TYPE, DOMAIN, TreadmillType
from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator
from .treadmill.ftms import FtmsTreadmill
from .walker import Walker

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


def station_device_info(coordinator: RetroWalkCoordinator) -> DeviceInfo:
    """The station's device.

    It shows what the machine says it is, if connected already (the
    coordinator updates the device when it connects later).
    """
    entry = coordinator.config_entry
    machine = coordinator.treadmill.device_info
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=machine.get("manufacturer", "Retro Walk"),
        model=machine.get(
            "model", MODELS[TreadmillType(entry.data[CONF_TREADMILL_TYPE])]
        ),
        sw_version=machine.get("sw_version"),
        hw_version=machine.get("hw_version"),
    )


class WritesOnChange(CoordinatorEntity[RetroWalkCoordinator]):
    """A coordinator entity that writes its state only when what it shows changes."""

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


class RetroWalkEntity(WritesOnChange):
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
        self._attr_device_info = station_device_info(coordinator)

    @property
    def available(self) -> bool:
        """Available while the station runs and the description allows it."""
        return super().available and self.entity_description.available_fn(
            self.coordinator
        )


class RetroWalkWalkerEntity(WritesOnChange):
    """An entity of one walker profile, on the walker's device.

    The walker's device hangs off the station's; it belongs to the walker's
    subentry, so removing the walker removes it (the history stays).
    """

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: RetroWalkCoordinator,
        walker: Walker,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its walker."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self.walker_id = walker.walker_id
        self._attr_unique_id = f"{entry.entry_id}_{walker.walker_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, coordinator.walker_device_id(walker))},
            name=walker.name,
            manufacturer="Retro Walk",
            model="Walker profile",
        )
        station = dr.async_get(coordinator.hass).async_get_device_by_identifier(
            (DOMAIN, entry.entry_id), entry.entry_id
        )
        if station is not None:  # (created before the platforms are set up)
            self._attr_device_info["via_device_id"] = station.id

    @property
    def available(self) -> bool:
        """Available while the station runs and the walker exists."""
        return super().available and self.walker_id in self.coordinator.data.walkers


def async_add_walker_entities(
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_fn: Callable[[RetroWalkCoordinator, Walker], list[RetroWalkWalkerEntity]],
) -> None:
    """Add each walker's entities now, and those of walkers added later."""
    coordinator = entry.runtime_data.coordinator

    @callback
    def add(walkers: list[Walker]) -> None:
        for walker in walkers:
            async_add_entities(
                entities_fn(coordinator, walker), config_subentry_id=walker.walker_id
            )

    add(coordinator.walkers)
    entry.async_on_unload(coordinator.async_add_walker_listener(add))
