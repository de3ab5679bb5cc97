"""Session history, the active session and station settings, stored per station."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import logging
import os
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, UnsupportedStorageVersionError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .session import Session, SessionRecord

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
# A running session is written at least this often, so a crash (kill -9, power
# loss) loses at most this much of it. Saves requested meanwhile (every tick)
# join the pending one instead of postponing it.
SAVE_DELAY = 10.0

ISSUE_STORAGE_UNREADABLE = "storage_unreadable"
ISSUE_STORAGE_NEWER = "storage_newer_version"
ISSUE_RECORDS_UNREADABLE = "records_unreadable"


def storage_key(entry_id: str) -> str:
    """The storage key of one station; every station has a file of its own."""
    return f"{DOMAIN}.{entry_id}"


class RetroWalkStore(Store[Any]):
    """A versioned store; migrations go in ``_async_migrate_func``."""

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: Any,
    ) -> Any:
        """Migrate older layouts (version 1.1 is the first one)."""
        if old_major_version > STORAGE_VERSION:
            raise NotImplementedError
        return old_data


@dataclass(kw_only=True)
class StationHistory:
    """What a station remembers across restarts."""

    records: list[SessionRecord] = field(default_factory=list)
    active: Session | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    # Records that could not be read: kept verbatim so nothing is lost.
    unreadable: list[Any] = field(default_factory=list)


class HistoryStore:
    """Loads and saves one station's history without ever losing it."""

    def __init__(self, hass: HomeAssistant, entry_id: str, station_name: str) -> None:
        """Set up the store for a station."""
        self._hass = hass
        self._entry_id = entry_id
        self._station_name = station_name
        self._store = RetroWalkStore(
            hass,
            STORAGE_VERSION,
            storage_key(entry_id),
            minor_version=STORAGE_MINOR_VERSION,
            private=True,
            atomic_writes=True,
        )
        self._writable = True
        self._pending_save: CALLBACK_TYPE | None = None
        self.history = StationHistory()

    async def async_load(self) -> StationHistory:
        """Load the history; report and work around anything unreadable."""
        try:
            raw = await self._store.async_load()
        except UnsupportedStorageVersionError as err:
            self._async_refuse_newer(err)
            return self.history
        except (HomeAssistantError, OSError, KeyError, TypeError, ValueError) as err:
            await self._async_set_aside(err)
            return self.history
        if raw is not None and not isinstance(raw, dict):
            await self._async_set_aside(
                TypeError(f"expected an object, got {type(raw).__name__}")
            )
            return self.history
        # Read (or nothing there yet): an earlier problem is over.
        for issue in (ISSUE_STORAGE_UNREADABLE, ISSUE_STORAGE_NEWER):
            ir.async_delete_issue(self._hass, DOMAIN, f"{issue}_{self._entry_id}")
        if raw is not None:
            self.history = self._parse(raw)
        return self.history

    @callback
    def _async_refuse_newer(self, err: UnsupportedStorageVersionError) -> None:
        """A newer Retro Walk wrote the file (a downgrade): leave it untouched.

        The station runs, but nothing is written over the file, so going back
        to the newer version finds every session where it was.
        """
        self._writable = False
        _LOGGER.error(
            "The history of %s was written by a newer version of Retro Walk (%s); "
            "it is left untouched and nothing is saved until Retro Walk is updated",
            self._station_name,
            err,
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            f"{ISSUE_STORAGE_NEWER}_{self._entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_STORAGE_NEWER,
            translation_placeholders={
                "station": self._station_name,
                "path": self._store.path,
            },
        )

    def _parse(self, raw: dict[str, Any]) -> StationHistory:
        history = StationHistory()
        sessions = raw.get("sessions", [])
        unreadable = list(raw.get("unreadable", []))
        for item in sessions if isinstance(sessions, list) else [sessions]:
            try:
                history.records.append(SessionRecord.from_dict(item))
            except KeyError, TypeError, ValueError, AttributeError:
                unreadable.append(item)
        if (active := raw.get("active")) is not None:
            try:
                history.active = Session.from_dict(active)
            except KeyError, TypeError, ValueError, AttributeError:
                _LOGGER.warning(
                    "The active session of %s could not be restored and was kept aside",
                    self._station_name,
                )
                unreadable.append({"active": active})
        settings = raw.get("settings", {})
        history.settings = settings if isinstance(settings, dict) else {}
        history.unreadable = unreadable
        if len(unreadable) > len(raw.get("unreadable", [])):
            _LOGGER.warning(
                "%d stored session(s) of %s could not be read; they are kept unchanged",
                len(unreadable),
                self._station_name,
            )
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                f"{ISSUE_RECORDS_UNREADABLE}_{self._entry_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_RECORDS_UNREADABLE,
                translation_placeholders={
                    "station": self._station_name,
                    "count": str(len(unreadable)),
                },
            )
        history.records.sort(key=lambda record: record.started_at)
        return history

    async def _async_set_aside(self, err: Exception) -> None:
        """Move an unreadable file aside (or stop writing) and raise an issue."""
        path = self._store.path
        backup = f"{path}.unreadable.{dt_util.utcnow().strftime('%Y%m%dT%H%M%S')}"
        try:
            await self._hass.async_add_executor_job(os.replace, path, backup)
        except OSError:
            # The file cannot even be moved: never write over it.
            self._writable = False
            backup = path
        _LOGGER.error(
            "The history of %s could not be read (%s); it is kept at %s and %s",
            self._station_name,
            err,
            backup,
            "a new history is started" if self._writable else "nothing will be saved",
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            f"{ISSUE_STORAGE_UNREADABLE}_{self._entry_id}",
            is_fixable=False,
            is_persistent=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_STORAGE_UNREADABLE,
            translation_placeholders={
                "station": self._station_name,
                "path": backup,
                "error": str(err),
            },
        )

    def _data(self) -> dict[str, Any]:
        history = self.history
        return {
            "sessions": [record.as_dict() for record in history.records],
            "active": None if history.active is None else history.active.as_dict(),
            "settings": dict(history.settings),
            "unreadable": list(history.unreadable),
        }

    @callback
    def async_schedule_save(self) -> None:
        """Save within SAVE_DELAY; later requests never postpone a pending save.

        (Store.async_delay_save restarts its delay on every call: called every
        second by a running session, it would never write.)
        """
        if self._writable and self._pending_save is None:
            self._pending_save = async_call_later(
                self._hass, SAVE_DELAY, self._async_save_pending
            )

    async def _async_save_pending(self, _now: datetime) -> None:
        self._pending_save = None
        await self.async_save()

    @callback
    def async_cancel_pending_save(self) -> None:
        """Forget a scheduled save (the station unloads after saving)."""
        if self._pending_save is not None:
            self._pending_save()
            self._pending_save = None

    async def async_save(self) -> None:
        """Save now (session ended, state changed); covers a pending save."""
        self.async_cancel_pending_save()
        if self._writable:
            await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        """Delete the station's history (the entry was removed)."""
        await self._store.async_remove()
