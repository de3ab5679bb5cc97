"""Confirming that the belt really stops after a pause or stop command.

A command the treadmill accepts can still be ignored. After every halt the
measured belt speed must reach zero within the station's "time for the belt
to stop"; otherwise the ``retro_walk_treadmill_did_not_stop`` event fires, the
station's Treadmill event entity shows it and a critical repair issue is
raised, which clears once the belt is seen at rest.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from .const import (
    CONF_STOP_CONFIRM_SECONDS,
    DEFAULT_STOP_CONFIRM_SECONDS,
    DOMAIN,
    EVENT_TREADMILL_DID_NOT_STOP,
    ISSUE_TREADMILL_DID_NOT_STOP,
)
from .treadmill import Treadmill

_LOGGER = logging.getLogger(__name__)


class StandstillWatch:
    """Watches one station's belt come to rest after each halt."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        treadmill: Treadmill,
        *,
        on_did_not_stop: Callable[[dict[str, Any]], None],
    ) -> None:
        """Watch ``treadmill``; ``on_did_not_stop`` gets the alert's data."""
        self._hass = hass
        self._entry = entry
        self._treadmill = treadmill
        self._on_did_not_stop = on_did_not_stop
        self._deadline: CALLBACK_TYPE | None = None
        self._reason = ""

    @property
    def timeout(self) -> float:
        """Seconds the belt has to come to rest after a pause or stop."""
        entry = self._entry
        return float(
            entry.options.get(
                CONF_STOP_CONFIRM_SECONDS,
                entry.data.get(CONF_STOP_CONFIRM_SECONDS, DEFAULT_STOP_CONFIRM_SECONDS),
            )
        )

    @property
    def _issue_id(self) -> str:
        return f"{ISSUE_TREADMILL_DID_NOT_STOP}_{self._entry.entry_id}"

    @callback
    def async_expect(self, reason: str) -> None:
        """Watch the measured belt speed fall to zero within the timeout.

        A check already under way keeps its deadline: more halt commands must
        not postpone the alert.
        """
        if not self._treadmill.has_belt or self._deadline is not None:
            return
        self._reason = reason
        self._deadline = async_call_later(self._hass, self.timeout, self._async_expired)
        self.async_check()

    @callback
    def async_cancel(self) -> None:
        """Stop watching (the belt is told to run again, or the station unloads)."""
        if self._deadline is not None:
            self._deadline()
            self._deadline = None

    @callback
    def async_check(self) -> None:
        """Clear the check once the belt is seen at rest."""
        if self._deadline is None or self._treadmill.speed != 0:
            return
        self.async_cancel()
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)

    @callback
    def _async_expired(self, _now: Any) -> None:
        """Time is up: alert unless the belt is at rest by now."""
        self._deadline = None
        speed = self._treadmill.speed
        if speed == 0:
            ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)
            return
        title = self._entry.title
        _LOGGER.error(
            "The treadmill of %s did not stop within %s s after %s (speed: %s)",
            title,
            self.timeout,
            self._reason,
            "unknown" if speed is None else f"{speed} km/h",
        )
        data = {
            "config_entry_id": self._entry.entry_id,
            "station": title,
            "reason": self._reason,
            "speed": speed,
            "timeout": self.timeout,
        }
        self._hass.bus.async_fire(EVENT_TREADMILL_DID_NOT_STOP, data)
        self._on_did_not_stop(data)
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.CRITICAL,
            translation_key=ISSUE_TREADMILL_DID_NOT_STOP,
            translation_placeholders={"station": title, "timeout": f"{self.timeout:g}"},
        )
