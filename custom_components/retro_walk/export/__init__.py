"""Exports of finished sessions: FIT activity files and a clinician's report.

Pure Python, no Home Assistant import. :mod:`.activity` holds the plain data a
FIT file is written from, :mod:`.fit` writes it (with fit-tool) and
:mod:`.report` writes the CSV and HTML progress report. This package imports
neither writer, so reading the data classes needs no FIT library.
"""

from __future__ import annotations

from .activity import Activity, Lap, Pause, Record, activity_from_record, safe_name

__all__ = ["Activity", "Lap", "Pause", "Record", "activity_from_record", "safe_name"]
