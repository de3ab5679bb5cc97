"""Pause and resume buttons of a Retro Walk station."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator
from .entity import (
    RetroWalkEntity,
    RetroWalkEntityDescription,
    has_remote_ftms,
    station_entities,
    treadmill_available,
)

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class RetroWalkButtonEntityDescription(
    ButtonEntityDescription, RetroWalkEntityDescription
):
    """Describes a Retro Walk button."""

    press_fn: Callable[[RetroWalkCoordinator], Awaitable[None]]


# One press of "speed up" or "slow down", km/h.
SPEED_STEP = 0.5


BUTTONS: tuple[RetroWalkButtonEntityDescription, ...] = (
    RetroWalkButtonEntityDescription(
        key="pause",
        translation_key="pause",
        press_fn=lambda coordinator: coordinator.async_pause(),
    ),
    RetroWalkButtonEntityDescription(
        key="resume",
        translation_key="resume",
        press_fn=lambda coordinator: coordinator.async_resume(),
    ),
    RetroWalkButtonEntityDescription(
        key="acknowledge_alert",
        translation_key="acknowledge_alert",
        press_fn=lambda coordinator: (
            coordinator.config_entry.runtime_data.safety.async_acknowledge()
        ),
    ),
    RetroWalkButtonEntityDescription(
        key="speed_up",
        translation_key="speed_up",
        press_fn=lambda coordinator: coordinator.async_step_speed(SPEED_STEP),
        exists_fn=has_remote_ftms,
        available_fn=treadmill_available,
    ),
    RetroWalkButtonEntityDescription(
        key="slow_down",
        translation_key="slow_down",
        press_fn=lambda coordinator: coordinator.async_step_speed(-SPEED_STEP),
        exists_fn=has_remote_ftms,
        available_fn=treadmill_available,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's buttons."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(station_entities(coordinator, RetroWalkButton, BUTTONS))


class RetroWalkButton(RetroWalkEntity, ButtonEntity):
    """A button that commands the session."""

    entity_description: RetroWalkButtonEntityDescription

    async def async_press(self) -> None:
        """Run the command."""
        await self.entity_description.press_fn(self.coordinator)
