"""The program select of a Retro Walk station."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import SETTING_PROGRAM, RetroWalkConfigEntry
from .entity import RetroWalkEntity, RetroWalkEntityDescription
from .session import ProgramKind

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class RetroWalkSelectEntityDescription(
    SelectEntityDescription, RetroWalkEntityDescription
):
    """Describes a Retro Walk select."""


PROGRAM = RetroWalkSelectEntityDescription(
    key="program",
    translation_key="program",
    entity_category=EntityCategory.CONFIG,
    options=[kind.value for kind in ProgramKind],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's program select."""
    async_add_entities(
        [RetroWalkProgramSelect(entry.runtime_data.coordinator, PROGRAM)]
    )


class RetroWalkProgramSelect(RetroWalkEntity, SelectEntity):
    """Chooses the program the next session follows (kept across restarts)."""

    entity_description: RetroWalkSelectEntityDescription

    @property
    def current_option(self) -> str:
        """The selected program."""
        return self.coordinator.program.value

    async def async_select_option(self, option: str) -> None:
        """Select a program."""
        await self.coordinator.async_set_setting(
            SETTING_PROGRAM, ProgramKind(option).value
        )
