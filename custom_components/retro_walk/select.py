"""The selects of a Retro Walk station: who is on the belt, and their program."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
WALKER = RetroWalkSelectEntityDescription(key="walker", translation_key="walker")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's walker and program selects."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        [
            RetroWalkWalkerSelect(coordinator, WALKER),
            RetroWalkProgramSelect(coordinator, PROGRAM),
        ]
    )


class RetroWalkWalkerSelect(RetroWalkEntity, SelectEntity):
    """Who is on the belt: the walker the next session is for.

    Its options are the station's walker profiles; during a session it shows
    the session's walker and cannot be switched to someone else.
    """

    entity_description: RetroWalkSelectEntityDescription

    @property
    def options(self) -> list[str]:
        """The walkers' names."""
        return [walker.name for walker in self.coordinator.walkers]

    @property
    def current_option(self) -> str | None:
        """The walker on the belt (None while the station has no walker)."""
        return self.coordinator.data.walker

    def shown(self) -> tuple[Any, ...]:
        """The walker on the belt and the names to choose from."""
        return (*super().shown(), tuple(self.options))

    async def async_select_option(self, option: str) -> None:
        """Choose the walker."""
        await self.coordinator.async_select_walker(option)


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
