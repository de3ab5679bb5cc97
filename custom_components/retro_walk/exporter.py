"""Writes a station's sessions to files: FIT activities and clinician's reports.

Files go under Home Assistant's config directory, one folder per walker:
``retro_walk/exports/<walker>/``. The writing itself (pure, in ``export/``)
runs in the executor; this module decides where and from what.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .export import activity_from_record, safe_name
from .export.fit import fit_filename, write_fit
from .export.report import write_report
from .session import SessionRecord

EXPORT_DIR = ("retro_walk", "exports")


def walker_dir(hass: HomeAssistant, walker: str | None) -> Path:
    """The folder of one walker's exports."""
    return Path(hass.config.path(*EXPORT_DIR, safe_name(walker or "walker")))


def _utc_offset(when: float) -> float | None:
    offset = datetime.fromtimestamp(when, dt_util.get_default_time_zone()).utcoffset()
    return None if offset is None else offset.total_seconds()


async def async_write_fit(
    hass: HomeAssistant, record: SessionRecord, *, treadmill: bool
) -> Path:
    """Write a finished session as a FIT activity; return the file's path."""
    activity = activity_from_record(
        record, treadmill=treadmill, utc_offset_s=_utc_offset(record.started_at)
    )
    path = walker_dir(hass, record.walker) / fit_filename(activity)
    return await hass.async_add_executor_job(write_fit, activity, path)


async def async_write_report(
    hass: HomeAssistant,
    records: list[SessionRecord],
    *,
    walker: str,
    goal_minutes: float,
    start: date,
    end: date,
) -> tuple[Path, Path]:
    """Write a walker's CSV and HTML report for ``start``..``end``."""
    rows: list[dict[str, Any]] = [
        # (The records are the walker's already, whatever name they were
        # walked under before a rename.)
        {
            **record.as_dict(),
            "walker": walker,
            "peak_backward_speed": record.peak_backward_speed,
        }
        for record in records
    ]
    return await hass.async_add_executor_job(
        lambda: write_report(
            rows,
            walker,
            goal_minutes,
            start,
            end,
            walker_dir(hass, walker),
            tz=dt_util.get_default_time_zone(),
            generated=dt_util.now(),
        )
    )
