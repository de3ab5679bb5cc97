"""Retro Walk services: run sessions, read and forget history, export it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, timedelta
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
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType

from .const import (
    ATTR_BACKWARD_MINUTES,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_END,
    ATTR_LIMIT,
    ATTR_PROGRAM,
    ATTR_SESSION_ID,
    ATTR_SPEED,
    ATTR_START,
    ATTR_WALKER,
    DEFAULT_REPORT_WEEKS,
    DOMAIN,
    SERVICE_DELETE_WALKER_HISTORY,
    SERVICE_EXPORT_REPORT,
    SERVICE_EXPORT_SESSION,
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
from .walker import find_walker

STATION_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})
WALKER_NAME = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=100))
START_SCHEMA = STATION_SCHEMA.extend(
    {
        vol.Optional(ATTR_WALKER): WALKER_NAME,
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
        ),
        vol.Optional(ATTR_WALKER): WALKER_NAME,
    }
)
DELETE_WALKER_HISTORY_SCHEMA = STATION_SCHEMA.extend(
    {vol.Required(ATTR_WALKER): WALKER_NAME}
)
EXPORT_SESSION_SCHEMA = STATION_SCHEMA.extend(
    {vol.Optional(ATTR_SESSION_ID): vol.All(cv.string, vol.Length(min=1, max=64))}
)
EXPORT_REPORT_SCHEMA = STATION_SCHEMA.extend(
    {
        vol.Optional(ATTR_WALKER): WALKER_NAME,
        vol.Optional(ATTR_START): cv.date,
        vol.Optional(ATTR_END): cv.date,
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
        walker=call.data.get(ATTR_WALKER),
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
        walker: str | None = call.data.get(ATTR_WALKER)
        stations = _stations(hass, call, one=False)
        if walker is not None and not any(
            coordinator.records_of(walker) or find_walker(coordinator.walkers, walker)
            for coordinator in stations
        ):
            # Neither a walker of these stations nor one who walked on them.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_walker",
                translation_placeholders={
                    "walker": walker,
                    "station": ", ".join(c.config_entry.title for c in stations),
                },
            )
        sessions = [
            item
            for coordinator in stations
            for item in coordinator.history_response(limit, walker)
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

    async def delete_walker_history(call: ServiceCall) -> ServiceResponse:
        (coordinator,) = _stations(hass, call, one=True)
        walker: str = call.data[ATTR_WALKER]
        deleted = await coordinator.async_delete_walker_history(walker)
        if not deleted and find_walker(coordinator.walkers, walker) is None:
            raise coordinator.unknown_walker(walker)
        return {"deleted": deleted}

    hass.services.async_register(
        DOMAIN,
        SERVICE_DELETE_WALKER_HISTORY,
        delete_walker_history,
        schema=DELETE_WALKER_HISTORY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_export_services(hass)


async def _export_session(coordinator: RetroWalkCoordinator, call: ServiceCall) -> Any:
    path = await coordinator.async_export_session(call.data.get(ATTR_SESSION_ID))
    return {"path": str(path)}


async def _export_report(coordinator: RetroWalkCoordinator, call: ServiceCall) -> Any:
    walker: str | None = call.data.get(ATTR_WALKER)
    if walker is None:
        if (selected := coordinator.selected_walker) is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_walker",
                translation_placeholders={"station": coordinator.config_entry.title},
            )
        walker = selected.name
    end: date = call.data.get(ATTR_END) or dt_util.now().date()
    start: date = call.data.get(ATTR_START) or end - timedelta(
        weeks=DEFAULT_REPORT_WEEKS
    )
    if start > end:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="start_after_end",
            translation_placeholders={"start": str(start), "end": str(end)},
        )
    csv_path, html_path = await coordinator.async_export_report(walker, start, end)
    return {"csv": str(csv_path), "html": str(html_path)}


@callback
def async_setup_export_services(hass: HomeAssistant) -> None:
    """Register the services that write files (they return the paths)."""
    for service, schema, action in (
        (SERVICE_EXPORT_SESSION, EXPORT_SESSION_SCHEMA, _export_session),
        (SERVICE_EXPORT_REPORT, EXPORT_REPORT_SCHEMA, _export_report),
    ):

        async def handle(call: ServiceCall, action: Any = action) -> ServiceResponse:
            (coordinator,) = _stations(hass, call, one=True)
            return cast("ServiceResponse", await action(coordinator, call))

        hass.services.async_register(
            DOMAIN,
            service,
            handle,
            schema=schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
