"""Pause and resume buttons of a Retro Walk station."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator
from .entity import RetroWalkEntity

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class RetroWalkButtonEntityDescription(ButtonEntityDescription):
    """Describes a Retro Walk button."""

    press_fn: Callable[[RetroWalkCoordinator], Awaitable[None]]


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
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's buttons."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        RetroWalkButton(coordinator, description) for description in BUTTONS
    )


class RetroWalkButton(RetroWalkEntity, ButtonEntity):
    """A button that commands the session."""

    entity_description: RetroWalkButtonEntityDescription

    async def async_press(self) -> None:
        """Run the command."""
        await self.entity_description.press_fn(self.coordinator)
