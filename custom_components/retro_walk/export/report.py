"""A clinician's progress report: a CSV of sessions and an HTML page of charts.

Pure Python, no Home Assistant import and no third-party library. The HTML is
one self-contained file (inline CSS and SVG, no script, nothing fetched), so
it opens offline, prints, and can be mailed as it is.

Records are session dicts as ``SessionRecord.as_dict()`` gives them, plus
``walker`` and, in newer ones, ``peak_backward_speed`` (km/h).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from html import escape
import math
from pathlib import Path
from typing import Any

from .activity import safe_name

CSV_HEADER = (
    "date",
    "start_time",
    "program",
    "minutes_backward",
    "minutes_forward",
    "distance_m",
    "peak_backward_speed_kmh",
    "energy_kcal",
    "pauses",
    "safety_pauses",
    "instability_tier1",
    "instability_tier2",
    "instability_tier3",
    "session_id",
)
TIER_NAMES = {1: "Pause now", 2: "Confirmed fall", 3: "Unsteady"}
TIER_COLOURS = {1: "#e8a33d", 2: "#c0392b", 3: "#8e7cc3"}

# Chart geometry (SVG user units).
_WIDTH, _HEIGHT = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 26, 36


def _number(value: object) -> float | None:
    """A finite number from a record, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, kw_only=True)
class SessionRow:
    """One session as the report shows it."""

    started: datetime
    program: str
    minutes_backward: float
    minutes_forward: float
    distance_m: float
    peak_backward_speed_kmh: float | None
    avg_backward_speed_kmh: float | None
    energy_kcal: float
    pauses: int
    safety_pauses: int
    tiers: dict[int, int]
    session_id: str

    def csv_row(self) -> list[str]:
        """The CSV cells, in CSV_HEADER's order."""
        peak = self.peak_backward_speed_kmh
        return [
            self.started.date().isoformat(),
            self.started.strftime("%H:%M"),
            self.program,
            f"{self.minutes_backward:.1f}",
            f"{self.minutes_forward:.1f}",
            f"{self.distance_m:.0f}",
            "" if peak is None else f"{peak:.1f}",
            f"{self.energy_kcal:.1f}",
            str(self.pauses),
            str(self.safety_pauses),
            *(str(self.tiers[tier]) for tier in (1, 2, 3)),
            self.session_id,
        ]


def _row(record: Mapping[str, Any], tz: tzinfo | None) -> SessionRow | None:
    started_at = _number(record.get("started_at"))
    if started_at is None:
        return None
    backward_time = _number(record.get("backward_time")) or 0.0
    backward_distance = _number(record.get("backward_distance")) or 0.0
    tiers = dict.fromkeys((1, 2, 3), 0)
    events = record.get("safety_events")
    for event in events if isinstance(events, list) else []:
        tier = _number(event.get("tier", 1)) if isinstance(event, dict) else None
        if tier is not None and int(tier) in tiers:
            tiers[int(tier)] += 1
    peak = _number(record.get("peak_backward_speed"))
    return SessionRow(
        started=datetime.fromtimestamp(started_at, tz),
        program=str(record.get("program", "")),
        minutes_backward=backward_time / 60,
        minutes_forward=(_number(record.get("forward_time")) or 0.0) / 60,
        distance_m=_number(record.get("distance")) or 0.0,
        peak_backward_speed_kmh=peak,
        avg_backward_speed_kmh=(
            backward_distance / backward_time * 3.6 if backward_time > 0 else None
        ),
        energy_kcal=_number(record.get("energy")) or 0.0,
        pauses=int(_number(record.get("pauses")) or 0),
        safety_pauses=int(_number(record.get("safety_pauses")) or 0),
        tiers=tiers,
        session_id=str(record.get("session_id", "")),
    )


def session_rows(
    records: Iterable[Mapping[str, Any]],
    walker: str,
    start: date,
    end: date,
    tz: tzinfo | None = None,
) -> list[SessionRow]:
    """The walker's sessions that began from ``start`` to ``end`` (both included).

    A record naming another walker is left out; one naming none (kept from
    before walkers had profiles) counts. Unreadable records are skipped.
    """
    rows = []
    for record in records:
        if record.get("walker") not in (None, "", walker):
            continue
        row = _row(record, tz)
        if row is not None and start <= row.started.date() <= end:
            rows.append(row)
    return sorted(rows, key=lambda row: row.started)


def _weeks(start: date, end: date) -> list[date]:
    """The Mondays of every week from ``start`` to ``end``."""
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def weekly_backward_minutes(
    rows: Sequence[SessionRow], start: date, end: date
) -> list[tuple[date, float]]:
    """Backward minutes of each week (by its Monday), empty weeks included."""
    totals = dict.fromkeys(_weeks(start, end), 0.0)
    for row in rows:
        day = row.started.date()
        monday = day - timedelta(days=day.weekday())
        if monday in totals:
            totals[monday] += row.minutes_backward
    return list(totals.items())


# SVG ------------------------------------------------------------------------------


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop always returns


def _frame(title: str, y_max: float, unit: str) -> list[str]:
    """An SVG's opening, its title and the y axis with four grid lines."""
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}"'
            f' role="img" aria-label="{escape(title)}" class="chart">'
        ),
        f"<title>{escape(title)}</title>",
    ]
    plot_height = _HEIGHT - _TOP - _BOTTOM
    for index in range(5):
        value = y_max * index / 4
        y = _HEIGHT - _BOTTOM - plot_height * index / 4
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}"'
            ' class="grid"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:g}</text>"
        )
    parts.append(f'<text x="4" y="12" class="unit">{escape(unit)}</text>')
    return parts


def _y(value: float, y_max: float) -> float:
    plot_height = _HEIGHT - _TOP - _BOTTOM
    return _HEIGHT - _BOTTOM - plot_height * min(value, y_max) / y_max


def _slots(count: int) -> tuple[float, float]:
    """The width of each of ``count`` slots across the plot, and its bar width."""
    slot = (_WIDTH - _LEFT - _RIGHT) / max(count, 1)
    return slot, max(min(slot * 0.7, 48), 1.0)


def _labels(texts: Sequence[str]) -> list[str]:
    """X labels under the slots, thinned to about a dozen."""
    slot, _ = _slots(len(texts))
    every = max(1, math.ceil(len(texts) / 12))
    return [
        f'<text x="{_LEFT + slot * (index + 0.5):.1f}" y="{_HEIGHT - _BOTTOM + 16}"'
        f' text-anchor="middle">{escape(text)}</text>'
        for index, text in enumerate(texts)
        if index % every == 0
    ]


def _empty_note(parts: list[str], *, empty: bool) -> None:
    if empty:
        parts.append(
            f'<text x="{_WIDTH / 2}" y="{_HEIGHT / 2}" text-anchor="middle"'
            ' class="empty">No sessions in this period</text>'
        )


def weekly_chart(weeks: Sequence[tuple[date, float]], goal_minutes: float) -> str:
    """Bars of backward minutes per week, and the weekly goal as a line."""
    goal = max(goal_minutes, 0.0) if math.isfinite(goal_minutes) else 0.0
    y_max = _nice_max(max([goal, *(minutes for _, minutes in weeks)]) * 1.1)
    parts = _frame("Backward minutes per week against the goal", y_max, "min")
    slot, bar = _slots(len(weeks))
    for index, (monday, minutes) in enumerate(weeks):
        x = _LEFT + slot * index + (slot - bar) / 2
        y = _y(minutes, y_max)
        met = goal > 0 and minutes >= goal
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}"'
            f' height="{_HEIGHT - _BOTTOM - y:.1f}" class="bar{" met" if met else ""}">'
            f"<title>Week of {monday.isoformat()}: {minutes:.1f} min</title></rect>"
        )
    if goal > 0:
        y = _y(goal, y_max)
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}"'
            ' class="goal"/>'
            f'<text x="{_WIDTH - _RIGHT}" y="{y - 4:.1f}" text-anchor="end"'
            f' class="goal-label">goal {goal:g} min</text>'
        )
    parts.extend(_labels([monday.strftime("%d %b") for monday, _ in weeks]))
    _empty_note(parts, empty=not any(minutes for _, minutes in weeks))
    parts.append("</svg>")
    return "".join(parts)


def speed_chart(rows: Sequence[SessionRow]) -> str:
    """Backward speed per session: the average as a line, the peak as dots."""
    averages = [row.avg_backward_speed_kmh for row in rows]
    peaks = [row.peak_backward_speed_kmh for row in rows]
    known = [value for value in [*averages, *peaks] if value is not None]
    y_max = _nice_max(max(known, default=0.0) * 1.1)
    parts = _frame("Backward speed per session", y_max, "km/h")
    slot, _ = _slots(len(rows))
    line = [
        f"{_LEFT + slot * (index + 0.5):.1f},{_y(value, y_max):.1f}"
        for index, value in enumerate(averages)
        if value is not None
    ]
    if line:
        parts.append(f'<polyline points="{" ".join(line)}" class="speed"/>')
    for index, (average, peak) in enumerate(zip(averages, peaks, strict=True)):
        x = _LEFT + slot * (index + 0.5)
        if average is not None:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{_y(average, y_max):.1f}" r="3"'
                f' class="speed-dot"><title>average {average:.1f} km/h</title>'
                "</circle>"
            )
        if peak is not None:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{_y(peak, y_max):.1f}" r="4"'
                f' class="peak"><title>peak {peak:.1f} km/h</title></circle>'
            )
    parts.extend(_labels([row.started.strftime("%d %b") for row in rows]))
    _empty_note(parts, empty=not known)
    parts.append("</svg>")
    return "".join(parts)


def instability_chart(rows: Sequence[SessionRow]) -> str:
    """Instability events per session, stacked by tier."""
    totals = [sum(row.tiers.values()) for row in rows]
    # Whole events: an axis of four whole steps.
    y_max = 4.0 * max(1, math.ceil(max(totals, default=0) / 4))
    parts = _frame("Instability events per session", y_max, "events")
    slot, bar = _slots(len(rows))
    for index, row in enumerate(rows):
        x = _LEFT + slot * index + (slot - bar) / 2
        bottom = 0
        for tier in (1, 2, 3):
            count = row.tiers[tier]
            if not count:
                continue
            top_y, bottom_y = _y(bottom + count, y_max), _y(bottom, y_max)
            parts.append(
                f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{bar:.1f}"'
                f' height="{bottom_y - top_y:.1f}" fill="{TIER_COLOURS[tier]}"'
                f' class="tier{tier}"><title>{row.started:%d %b %H:%M}:'
                f" {count} x {TIER_NAMES[tier].lower()}</title></rect>"
            )
            bottom += count
    parts.extend(_labels([row.started.strftime("%d %b") for row in rows]))
    _empty_note(parts, empty=not rows)
    parts.append("</svg>")
    return "".join(parts)


# HTML -------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:720px;color:#1f2933;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.meta{color:#52606d;margin-top:0}
.summary{display:flex;flex-wrap:wrap;gap:.75rem;padding:0;list-style:none}
.summary li{background:#f0f4f8;border-radius:6px;padding:.5rem .8rem}
.summary b{display:block;font-size:1.2rem}
.chart{width:100%;height:auto;font-size:11px;fill:#52606d}
.grid{stroke:#d9e2ec;stroke-width:1}.bar{fill:#4c8bf5}.bar.met{fill:#2f9e44}
.goal{stroke:#c92a2a;stroke-width:2;stroke-dasharray:6 4}.goal-label{fill:#c92a2a}
.speed{fill:none;stroke:#4c8bf5;stroke-width:2}.speed-dot{fill:#4c8bf5}
.peak{fill:#fff;stroke:#e8590c;stroke-width:2}.empty{font-size:14px}
.legend{font-size:.85rem;color:#52606d}.legend span{display:inline-block;width:.8rem;
height:.8rem;border-radius:2px;margin:0 .3rem 0 .8rem;vertical-align:middle}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.3rem .4rem;text-align:right}
td:first-child{white-space:nowrap}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
@media print{body{margin:0}h2{break-after:avoid}svg{break-inside:avoid}}
"""


def _legend(items: Iterable[tuple[str, str]]) -> str:
    return (
        '<p class="legend">'
        + "".join(
            f'<span style="background:{colour}"></span>{escape(label)}'
            for label, colour in items
        )
        + "</p>"
    )


def _table(rows: Sequence[SessionRow]) -> str:
    if not rows:
        return "<p>No sessions in this period.</p>"
    head = (
        "<tr><th>Date</th><th>Program</th><th>Backward min</th><th>Forward min</th>"
        "<th>Distance m</th><th>Peak km/h</th><th>kcal</th><th>Pauses</th>"
        "<th>Tier 1/2/3</th></tr>"
    )
    body = "".join(
        "<tr>"
        f"<td>{row.started:%Y-%m-%d %H:%M}</td><td>{escape(row.program)}</td>"
        f"<td>{row.minutes_backward:.1f}</td><td>{row.minutes_forward:.1f}</td>"
        f"<td>{row.distance_m:.0f}</td>"
        f"<td>{'' if row.peak_backward_speed_kmh is None else f'{row.peak_backward_speed_kmh:.1f}'}</td>"
        f"<td>{row.energy_kcal:.0f}</td><td>{row.pauses}</td>"
        f"<td>{row.tiers[1]}/{row.tiers[2]}/{row.tiers[3]}</td>"
        "</tr>"
        for row in rows
    )
    return f"<table>{head}{body}</table>"


def render_html(
    rows: Sequence[SessionRow],
    walker: str,
    goal_minutes: float,
    start: date,
    end: date,
    *,
    generated: datetime | None = None,
) -> str:
    """The report page: a summary, three charts and the sessions' table."""
    weeks = weekly_backward_minutes(rows, start, end)
    backward = sum(row.minutes_backward for row in rows)
    events = sum(sum(row.tiers.values()) for row in rows)
    goal_weeks = sum(
        1 for _, minutes in weeks if goal_minutes > 0 and minutes >= goal_minutes
    )
    name = escape(walker or "Walker")
    made = f" · made {generated:%Y-%m-%d %H:%M}" if generated else ""
    summary = "".join(
        f"<li><b>{escape(value)}</b>{escape(label)}</li>"
        for value, label in (
            (str(len(rows)), "sessions"),
            (f"{backward:.0f}", "backward minutes"),
            (f"{goal_weeks} of {len(weeks)}", "weeks at the goal"),
            (str(events), "instability events"),
        )
    )
    tiers = _legend((TIER_NAMES[tier], TIER_COLOURS[tier]) for tier in (1, 2, 3))
    speeds = _legend((("average backward speed", "#4c8bf5"), ("peak", "#e8590c")))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Retro walking report: {name}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Retro walking report: {name}</h1>"
        f'<p class="meta">{start:%d %B %Y} to {end:%d %B %Y}'
        f" · weekly goal {goal_minutes:g} backward minutes{made}</p>"
        f'<ul class="summary">{summary}</ul>'
        "<h2>Backward minutes per week</h2>"
        f"{weekly_chart(weeks, goal_minutes)}"
        "<h2>Backward speed</h2>"
        f"{speeds}{speed_chart(rows)}"
        "<h2>Instability events per session</h2>"
        f"{tiers}{instability_chart(rows)}"
        "<h2>Sessions</h2>"
        f"{_table(rows)}"
        "</body></html>\n"
    )


def report_stem(walker: str, start: date, end: date) -> str:
    """``retro_walk_<walker>_<start>_<end>``, safe as a file name."""
    return f"retro_walk_{safe_name(walker)}_{start.isoformat()}_{end.isoformat()}"


def write_report(
    records: Iterable[Mapping[str, Any]],
    walker: str,
    goal_minutes: float,
    start: date,
    end: date,
    directory: Path,
    *,
    tz: tzinfo | None = None,
    generated: datetime | None = None,
) -> tuple[Path, Path]:
    """Write the walker's CSV and HTML report for ``start`` to ``end`` into ``directory``.

    ``tz`` is the time zone that decides a session's date (None: the system's).
    Returns the CSV's and the HTML's paths; the folder is made if missing.
    """
    if end < start:
        start, end = end, start
    goal_minutes = _number(goal_minutes) or 0.0
    rows = session_rows(records, walker, start, end, tz)
    directory.mkdir(parents=True, exist_ok=True)
    stem = report_stem(walker, start, end)
    csv_path = directory / f"{stem}.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_HEADER)
        writer.writerows(row.csv_row() for row in rows)
    html_path = directory / f"{stem}.html"
    html_path.write_text(
        render_html(rows, walker, goal_minutes, start, end, generated=generated),
        encoding="utf-8",
    )
    return csv_path, html_path
