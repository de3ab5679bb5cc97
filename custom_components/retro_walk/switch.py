"""The session switch: on starts the selected program, off stops the session.

A switch lets Assist's built-in "turn on/off" sentences run sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RetroWalkConfigEntry
from .entity import RetroWalkEntity, RetroWalkEntityDescription

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class RetroWalkSwitchEntityDescription(
    SwitchEntityDescription, RetroWalkEntityDescription
):
    """Describes a Retro Walk switch."""


SESSION = RetroWalkSwitchEntityDescription(key="session", translation_key="session")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's session switch."""
    async_add_entities(
        [RetroWalkSessionSwitch(entry.runtime_data.coordinator, SESSION)]
    )


class RetroWalkSessionSwitch(RetroWalkEntity, SwitchEntity):
    """Starts and stops sessions."""

    entity_description: RetroWalkSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """On while a session is under way."""
        return self.coordinator.data.active

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start the selected program (nothing to do when one is under way)."""
        if not self.coordinator.data.active:
            await self.coordinator.async_start_session()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop the session (nothing to do without one)."""
        if self.coordinator.data.active:
            await self.coordinator.async_stop()
