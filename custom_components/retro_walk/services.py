"""Retro Walk services: start, pause, resume, stop and history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import probatio as vol

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType

from .const import (
    ATTR_BACKWARD_MINUTES,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_LIMIT,
    ATTR_PROGRAM,
    ATTR_SPEED,
    DOMAIN,
    SERVICE_GET_HISTORY,
    SERVICE_PAUSE_SESSION,
    SERVICE_RESUME_SESSION,
    SERVICE_START_SESSION,
    SERVICE_STOP_SESSION,
)
from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator
from .session import (
    MAX_BACKWARD_MINUTES,
    MIN_BACKWARD_MINUTES,
    MIN_SPEED_KMH,
    SPEED_CAP_KMH,
    ProgramKind,
)

STATION_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})
START_SCHEMA = STATION_SCHEMA.extend(
    {
        vol.Optional(ATTR_PROGRAM): vol.In([kind.value for kind in ProgramKind]),
        vol.Optional(ATTR_BACKWARD_MINUTES): vol.All(
            vol.Coerce(float),
            vol.Range(min=MIN_BACKWARD_MINUTES, max=MAX_BACKWARD_MINUTES),
        ),
        vol.Optional(ATTR_SPEED): vol.All(
            vol.Coerce(float),
            vol.Range(min=MIN_SPEED_KMH, max=max(SPEED_CAP_KMH.values())),
        ),
    }
)
HISTORY_SCHEMA = STATION_SCHEMA.extend(
    {
        vol.Optional(ATTR_LIMIT, default=50): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=10000)
        )
    }
)


def _loaded_entries(hass: HomeAssistant) -> list[RetroWalkConfigEntry]:
    return [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _stations(
    hass: HomeAssistant, call: ServiceCall, *, one: bool
) -> list[RetroWalkCoordinator]:
    """The stations a call is for; ``one`` demands exactly one."""
    if (entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="station_not_found",
                translation_placeholders={"entry_id": entry_id},
            )
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="station_not_loaded",
                translation_placeholders={"station": entry.title},
            )
        return [entry.runtime_data.coordinator]
    entries = _loaded_entries(hass)
    if not entries:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_station"
        )
    if one and len(entries) > 1:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="station_required"
        )
    return [entry.runtime_data.coordinator for entry in entries]


def _station_command(
    hass: HomeAssistant,
    action: Callable[[RetroWalkCoordinator, ServiceCall], Awaitable[None]],
) -> Callable[[ServiceCall], Coroutine[Any, Any, None]]:
    async def handle(call: ServiceCall) -> None:
        (coordinator,) = _stations(hass, call, one=True)
        await action(coordinator, call)

    return handle


async def _start(coordinator: RetroWalkCoordinator, call: ServiceCall) -> None:
    program = call.data.get(ATTR_PROGRAM)
    await coordinator.async_start_session(
        program=None if program is None else ProgramKind(program),
        backward_minutes=call.data.get(ATTR_BACKWARD_MINUTES),
        speed=call.data.get(ATTR_SPEED),
    )


async def _pause(coordinator: RetroWalkCoordinator, call: ServiceCall) -> None:
    await coordinator.async_pause()


async def _resume(coordinator: RetroWalkCoordinator, call: ServiceCall) -> None:
    await coordinator.async_resume()


async def _stop(coordinator: RetroWalkCoordinator, call: ServiceCall) -> None:
    await coordinator.async_stop()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services."""
    commands: dict[str, tuple[vol.Schema, Any]] = {
        SERVICE_START_SESSION: (START_SCHEMA, _start),
        SERVICE_PAUSE_SESSION: (STATION_SCHEMA, _pause),
        SERVICE_RESUME_SESSION: (STATION_SCHEMA, _resume),
        SERVICE_STOP_SESSION: (STATION_SCHEMA, _stop),
    }
    for service, (schema, action) in commands.items():
        hass.services.async_register(
            DOMAIN, service, _station_command(hass, action), schema=schema
        )

    async def get_history(call: ServiceCall) -> ServiceResponse:
        limit: int = call.data[ATTR_LIMIT]
        sessions = [
            item
            for coordinator in _stations(hass, call, one=False)
            for item in coordinator.history_response(limit)
        ]
        sessions.sort(key=lambda item: str(item["started_at"]), reverse=True)
        return {"sessions": cast("list[JsonValueType]", sessions[:limit])}

    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_HISTORY,
        get_history,
        schema=HISTORY_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
