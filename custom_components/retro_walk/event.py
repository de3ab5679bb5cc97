"""Event entities of a Retro Walk station: what the treadmill reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    ATTR_SESSION_EVENT_TYPE,
    TIER_EVENT_TYPES,
    SessionEventType,
    StationEvent,
)
from .coordinator import RetroWalkConfigEntry
from .entity import RetroWalkEntity, RetroWalkEntityDescription, station_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RetroWalkEventEntityDescription(
    EventEntityDescription, RetroWalkEntityDescription
):
    """Describes a Retro Walk event entity."""

    # Which station event it shows, and as which event type with which
    # attributes (taken from the event's data).
    station_event: StationEvent | None = None
    event_fn: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]] = lambda data: (
        "",
        data,
    )


def _instability_event(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event type is the tier; kind and features follow."""
    return TIER_EVENT_TYPES[int(data["tier"])], data


def _session_event(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Started or finished; the session's program or summary follows."""
    attributes = dict(data)
    return str(attributes.pop(ATTR_SESSION_EVENT_TYPE)), attributes


EVENTS: tuple[RetroWalkEventEntityDescription, ...] = (
    RetroWalkEventEntityDescription(
        key="treadmill",
        translation_key="treadmill",
        event_types=[StationEvent.SAFETY_KEY_STOP, StationEvent.DID_NOT_STOP],
        exists_fn=lambda coordinator: coordinator.treadmill.has_belt,
    ),
    RetroWalkEventEntityDescription(
        key="instability",
        translation_key="instability",
        event_types=list(TIER_EVENT_TYPES.values()),
        station_event=StationEvent.INSTABILITY,
        event_fn=_instability_event,
    ),
    RetroWalkEventEntityDescription(
        key="session",
        translation_key="session",
        event_types=[SessionEventType.STARTED, SessionEventType.FINISHED],
        station_event=StationEvent.SESSION,
        event_fn=_session_event,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's event entities."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(station_entities(coordinator, RetroWalkEvent, EVENTS))


class RetroWalkEvent(RetroWalkEntity, EventEntity):
    """Reports the station's events as they happen."""

    entity_description: RetroWalkEventEntityDescription

    async def async_added_to_hass(self) -> None:
        """Listen for the station's events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_add_station_listener(self._async_station_event)
        )

    @callback
    def _async_station_event(self, event: StationEvent, data: dict[str, Any]) -> None:
        description = self.entity_description
        if description.station_event is not None:
            if event is not description.station_event:
                return
            event_type, data = description.event_fn(data)
        elif event.value in self.event_types:
            event_type = event.value
        else:
            return
        self._trigger_event(event_type, data)
        self.async_write_ha_state()
