"""Diagnostics for Retro Walk stations."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_ADDRESS, CONF_NAME, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import (
    CONF_BODY_MASS,
    CONF_ESCALATION_TARGETS,
    CONF_PARTNER_TARGETS,
    CONF_PERSON,
    CONF_WALKER_NAME,
    CONF_WALKER_TARGETS,
)
from .coordinator import RetroWalkConfigEntry
from .safety.runner import SafetyRunner
from .treadmill import Treadmill
from .treadmill.ftms import FtmsTreadmill

TO_REDACT = {
    CONF_BODY_MASS,
    CONF_NAME,
    CONF_ADDRESS,
    CONF_WEBHOOK_ID,
    # Notify services name people and their phones.
    CONF_PARTNER_TARGETS,
    CONF_ESCALATION_TARGETS,
    CONF_WALKER_TARGETS,
    "title",
    "station",
    "serial_number",
    # Walkers are people: their names and the person they are linked to.
    "walker",
    CONF_WALKER_NAME,
    CONF_PERSON,
}


def _treadmill(treadmill: Treadmill) -> dict[str, Any]:
    info: dict[str, Any] = {
        "type": type(treadmill).__name__,
        "available": treadmill.available,
        "remote_control": treadmill.remote_control,
        "speed": treadmill.speed,
        "telemetry": dict(treadmill.telemetry),
    }
    if isinstance(treadmill, FtmsTreadmill):
        info["address"] = treadmill.address
        machine = treadmill.machine
        if machine is not None:
            info["device_info"] = dict(machine.device_info)
            info["supported_properties"] = list(machine.supported_properties)
            info["supported_settings"] = list(machine.supported_settings)
            info["ranges"] = {
                key: list(limits) for key, limits in machine.supported_ranges.items()
            }
    return async_redact_data(info, TO_REDACT)


def _safety(safety: SafetyRunner) -> dict[str, Any]:
    motion = safety.motion
    alert = safety.alert
    return {
        "motion": {
            "enabled": motion.enabled,
            "active": motion.active,
            "calibrated": motion.detector.calibrated,
            "messages": motion.stats.messages,
            "samples": motion.stats.samples,
            "rejected": dict(motion.stats.rejected),
        },
        "unsafe": safety.unsafe,
        "last_detection": safety.last_detection,
        "alert": None
        if alert is None
        else {
            "tier": alert.tier,
            "kind": alert.kind,
            "escalations": alert.escalations,
            "answer": alert.answer,
        },
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: RetroWalkConfigEntry
) -> dict[str, Any]:
    """The station's configuration, treadmill, state and recent history (redacted)."""
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
        "walkers": [
            async_redact_data(
                {
                    "walker_id": subentry.subentry_id,
                    "title": subentry.title,
                    "data": dict(subentry.data),
                    "records": len(coordinator.walker_records(walker)),
                },
                TO_REDACT,
            )
            for walker in coordinator.walkers
            if (subentry := entry.subentries.get(walker.walker_id)) is not None
        ],
        "treadmill": _treadmill(data.treadmill),
        "status": {
            "state": coordinator.data.state,
            "phase": coordinator.data.phase,
            "belt_speed": coordinator.data.belt_speed,
            "target_speed": coordinator.data.target_speed,
        },
        "session": None
        if session is None
        else async_redact_data(session.as_dict(), TO_REDACT),
        "safety": _safety(data.safety),
        "settings": dict(history.settings),
        "history": {
            "sessions": len(history.records),
            "unreadable": len(history.unreadable),
            "recent": [
                async_redact_data(record.as_dict(), TO_REDACT)
                for record in history.records[-5:]
            ],
        },
    }
