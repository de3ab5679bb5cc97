"""Diagnostics for Retro Walk stations."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant

from .const import CONF_BODY_MASS
from .coordinator import RetroWalkConfigEntry

TO_REDACT = {CONF_BODY_MASS, CONF_NAME, "title", "station"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: RetroWalkConfigEntry
) -> dict[str, Any]:
    """The station's configuration, state and recent history (redacted)."""
    data = entry.runtime_data
    coordinator = data.coordinator
    session = coordinator.session
    history = data.history.history
    return {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        "treadmill": {
            "type": type(data.treadmill).__name__,
            "available": data.treadmill.available,
            "speed": data.treadmill.speed,
        },
        "status": {
            "state": coordinator.data.state,
            "phase": coordinator.data.phase,
            "belt_speed": coordinator.data.belt_speed,
            "target_speed": coordinator.data.target_speed,
        },
        "session": None
        if session is None
        else async_redact_data(session.as_dict(), TO_REDACT),
        "settings": dict(history.settings),
        "history": {
            "sessions": len(history.records),
            "unreadable": len(history.unreadable),
            "recent": [record.as_dict() for record in history.records[-5:]],
        },
    }
