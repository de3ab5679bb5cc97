"""Partner alerts and the walker's prompt: translated texts, notify actions.

What to send and when is the policy's decision; this module only sends it:
actionable notifications (``I'm OK`` / ``Need help``) through the notify
actions of the station's options, and a persistent notification per station.
"""

from __future__ import annotations

import logging
from typing import Any

from custom_components.retro_walk.const import (
    ACTION_HELP,
    ACTION_OK,
    CONF_ESCALATION_TARGETS,
    CONF_PARTNER_TARGETS,
    CONF_WALKER_TARGETS,
    DOMAIN,
)
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import translation

_LOGGER = logging.getLogger(__name__)


async def async_notification_text(
    hass: HomeAssistant, key: str, placeholders: dict[str, str]
) -> str:
    """A translated notification text (the ``common`` strings)."""
    strings = await translation.async_get_translations(
        hass, hass.config.language, "common", [DOMAIN]
    )
    prefix = f"component.{DOMAIN}.common"
    text = strings.get(f"{prefix}.{key}", key)
    for name, value in placeholders.items():
        # A readable name for a detection, its code when there is none.
        shown = (
            strings.get(f"{prefix}.kind_{value}", value) if name == "kind" else value
        )
        text = text.replace(f"{{{name}}}", shown)
    return text


class PartnerNotifier:
    """Sends one station's alerts, escalations and prompts."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Nothing is sent until asked."""
        self._hass = hass
        self._entry = entry

    @property
    def _station(self) -> str:
        """The station as alerts name it, with the walker on its belt.

        ("Gym 2 (Ana)": in a clinic, the partner must know who it is.)
        """
        title = self._entry.title
        try:
            walker = self._entry.runtime_data.coordinator.data.walker
        except AttributeError:  # not set up yet, or no status: the station
            return title
        return f"{title} ({walker})" if walker else title

    @property
    def _notification_id(self) -> str:
        return f"{DOMAIN}_{self._entry.entry_id}_alert"

    def _targets(self, key: str) -> list[str]:
        return [str(target) for target in self._entry.options.get(key, [])]

    async def _async_text(self, key: str, placeholders: dict[str, str]) -> str:
        return await async_notification_text(self._hass, key, placeholders)

    async def _async_title(self) -> str:
        return await self._async_text("notification_title", {"station": self._station})

    async def _async_notify(
        self, targets: list[str], title: str, message: str, alert_id: str
    ) -> None:
        ok = await self._async_text("notification_action_ok", {})
        help_ = await self._async_text("notification_action_help", {})
        data = {
            "title": title,
            "message": message,
            "data": {
                "tag": f"retro_walk_{alert_id}",
                # notify.persistent_notification: one notification per alert.
                "notification_id": f"retro_walk_{alert_id}",
                "actions": [
                    {"action": f"{ACTION_OK}_{alert_id}", "title": ok},
                    {"action": f"{ACTION_HELP}_{alert_id}", "title": help_},
                ],
                # Android: show at once; iOS: break through focus modes.
                "priority": "high",
                "ttl": 0,
                "push": {"interruption-level": "time-sensitive"},
            },
        }
        for target in targets:
            await self._async_call_notify(target, data, "Could not notify %s: %s")

    async def _async_call_notify(
        self, target: str, data: dict[str, Any], error: str
    ) -> None:
        try:
            await self._hass.services.async_call(
                "notify", target.removeprefix("notify."), data, blocking=True
            )
        except Exception as err:  # noqa: BLE001 - one broken target must not silence the next
            # (A notify action may also refuse its data with a schema error.)
            _LOGGER.error(error, target, err)

    async def async_alert(self, alert_id: str, tier: int, kind: str) -> None:
        """Alert the partners (and show a persistent notification)."""
        title = await self._async_title()
        message = await self._async_text(
            f"notification_tier_{tier}", {"station": self._station, "kind": kind}
        )
        persistent_notification.async_create(
            self._hass, message, title, self._notification_id
        )
        partners = self._targets(CONF_PARTNER_TARGETS)
        if not partners:
            _LOGGER.warning(
                "%s: no partner to notify; only a persistent notification",
                self._station,
            )
        await self._async_notify(partners, title, message, alert_id)

    async def async_escalate(
        self, alert_id: str, escalation: int, minutes: float
    ) -> None:
        """Nobody answered: tell the partners again and the escalation targets."""
        title = await self._async_title()
        message = await self._async_text(
            "notification_unanswered",
            {"station": self._station, "minutes": f"{minutes:.0f}"},
        )
        _LOGGER.warning(
            "%s: alert not answered; escalation %d", self._station, escalation
        )
        persistent_notification.async_create(
            self._hass, message, title, self._notification_id
        )
        targets = self._targets(CONF_PARTNER_TARGETS) + self._targets(
            CONF_ESCALATION_TARGETS
        )
        await self._async_notify(targets, title, message, alert_id)

    async def async_help(self, alert_id: str) -> None:
        """Somebody needs help: the escalation targets hear of it at once."""
        title = await self._async_title()
        message = await self._async_text(
            "notification_help", {"station": self._station}
        )
        await self._async_notify(
            self._targets(CONF_ESCALATION_TARGETS), title, message, alert_id
        )

    @callback
    def async_dismiss(self) -> None:
        """The alert was answered "I'm OK": take its notification down."""
        persistent_notification.async_dismiss(self._hass, self._notification_id)

    async def async_prompt_walker(self) -> None:
        """Tell the walker the belt was slowed (unsteady)."""
        station = self._station
        message = await self._async_text("notification_unsteady", {"station": station})
        persistent_notification.async_create(
            self._hass, message, station, f"{DOMAIN}_{self._entry.entry_id}_unsteady"
        )
        for target in self._targets(CONF_WALKER_TARGETS):
            await self._async_call_notify(
                target,
                {"title": station, "message": message},
                "Could not prompt %s: %s",
            )
