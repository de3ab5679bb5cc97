"""The clinician's report: a CSV of sessions and a self-contained HTML page."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
import math
from pathlib import Path
import re
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import pytest

from custom_components.retro_walk.export.report import (
    CSV_HEADER,
    render_html,
    session_rows,
    weekly_backward_minutes,
    write_report,
)
from custom_components.retro_walk.session import (
    EndReason,
    ProgramKind,
    SafetyEvent,
    SessionRecord,
)

MADRID = ZoneInfo("Europe/Madrid")
START, END = date(2026, 11, 2), date(2026, 11, 22)  # three weeks, Monday to Sunday


def record(
    when: str,
    *,
    backward_s: float = 300,
    forward_s: float = 600,
    events: tuple[tuple[str, int], ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """A history record as SessionRecord.as_dict() gives it, plus extras."""
    started = datetime.fromisoformat(when).replace(tzinfo=MADRID).timestamp()
    data = SessionRecord(
        session_id=f"s-{when}",
        program=ProgramKind.INTERVALS,
        started_at=started,
        ended_at=started + backward_s + forward_s,
        end_reason=EndReason.COMPLETED,
        target_backward_minutes=backward_s / 60,
        active_time=backward_s + forward_s,
        backward_time=backward_s,
        forward_time=forward_s,
        backward_distance=backward_s * 0.8,
        distance=backward_s * 0.8 + forward_s * 1.0,
        energy=42.25,
        pauses=len(events),
        safety_pauses=sum(1 for _, tier in events if tier < 3),
        safety_events=tuple(
            SafetyEvent(at=started + 10 * i, kind=kind, tier=tier)
            for i, (kind, tier) in enumerate(events)
        ),
    ).as_dict()
    return {"walker": "Ana", **data, **extra}


RECORDS = [
    record("2026-11-03T09:00", peak_backward_speed=3.1),
    record(
        "2026-11-05T18:30",
        backward_s=420,
        events=(("spin", 1), ("unsteady", 3), ("unsteady", 3)),
        peak_backward_speed=3.4,
    ),
    record("2026-11-18T08:00", backward_s=600),  # an old record: no peak speed
    record("2026-10-30T09:00"),  # before the range
    record("2026-11-23T00:30"),  # after it (Madrid time)
    record("2026-11-10T09:00", walker="Bea"),  # another walker
    {"walker": "Ana", "program": "starter"},  # unreadable: no start
]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def write(
    tmp_path: Path, records: list[dict[str, Any]] = RECORDS, **kw: Any
) -> tuple[Path, Path]:
    args: dict[str, Any] = {
        "records": records,
        "walker": "Ana",
        "goal_minutes": 10.0,
        "start": START,
        "end": END,
        "directory": tmp_path / "reports",
        "tz": MADRID,
    }
    return write_report(**{**args, **kw})


def test_the_csv_has_a_row_per_session(tmp_path: Path) -> None:
    csv_path, html_path = write(tmp_path)
    assert csv_path == tmp_path / "reports" / "retro_walk_Ana_2026-11-02_2026-11-22.csv"
    assert html_path == csv_path.with_suffix(".html")
    header, *rows = read_csv(csv_path)
    assert tuple(header) == CSV_HEADER
    assert header[:10] == [
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
    ]
    assert rows == [
        ["2026-11-03", "09:00", "intervals", "5.0", "10.0", "840", "3.1", "42.2",
         "0", "0", "0", "0", "0", "s-2026-11-03T09:00"],
        ["2026-11-05", "18:30", "intervals", "7.0", "10.0", "936", "3.4", "42.2",
         "3", "1", "1", "0", "2", "s-2026-11-05T18:30"],
        ["2026-11-18", "08:00", "intervals", "10.0", "10.0", "1080", "", "42.2",
         "0", "0", "0", "0", "0", "s-2026-11-18T08:00"],
    ]  # fmt: skip


def test_dates_are_the_walkers_local_ones(tmp_path: Path) -> None:
    """00:30 in Madrid on the 23rd is still the 22nd in UTC: out in Madrid, in in UTC."""
    late = [record("2026-11-23T00:30")]
    assert len(read_csv(write(tmp_path, late)[0])) == 1
    rows = read_csv(write(tmp_path, late, tz=UTC)[0])
    assert rows[1][:2] == ["2026-11-22", "23:30"]


def test_the_html_holds_three_charts_and_nothing_from_outside(tmp_path: Path) -> None:
    _, html_path = write(tmp_path)
    page = html_path.read_text(encoding="utf-8")
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.DOTALL)
    assert len(svgs) == 3
    for svg in svgs:
        ET.fromstring(svg)  # noqa: S314 - well-formed XML, our own
    weekly, speed, instability = svgs
    assert "Backward minutes per week against the goal" in weekly
    assert weekly.count('class="bar') == 3  # three weeks
    assert weekly.count('class="bar met"') == 2  # 12 and 10 of 10 minutes
    assert 'class="goal"' in weekly
    assert "goal 10 min" in weekly
    assert "Week of 2026-11-09: 0.0 min" in weekly  # an empty week is shown
    assert speed.count('class="peak"') == 2  # the old record has no peak
    assert speed.count('class="speed-dot"') == 3
    assert "<polyline" in speed
    assert instability.count('class="tier1"') == 1
    assert instability.count('class="tier3"') == 1
    assert "2 x unsteady" in instability
    # Self-contained: no script, no fetched resource.
    assert "<script" not in page
    assert not re.search(r"(src|href)=", page)
    assert "http://www.w3.org/2000/svg" in page  # the SVG namespace only
    assert page.count("http") == page.count("http://www.w3.org/2000/svg")
    assert "3</b>sessions" in page


def test_the_walkers_name_is_escaped(tmp_path: Path) -> None:
    name = '<script>alert("x")</script> & Co'
    records = [record("2026-11-03T09:00", walker=name)]
    csv_path, html_path = write(tmp_path, records, walker=name)
    page = html_path.read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert "/" not in csv_path.name.removeprefix("retro_walk_")
    assert csv_path.parent == tmp_path / "reports"
    assert len(read_csv(csv_path)) == 2


def test_an_empty_range(tmp_path: Path) -> None:
    csv_path, html_path = write(
        tmp_path, [], start=date(2026, 1, 1), end=date(2026, 1, 7)
    )
    assert read_csv(csv_path) == [list(CSV_HEADER)]
    page = html_path.read_text(encoding="utf-8")
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.DOTALL)
    assert len(svgs) == 3
    for svg in svgs:
        ET.fromstring(svg)  # noqa: S314 - our own output
        assert "No sessions in this period" in svg
    assert "No sessions in this period." in page
    assert "0</b>sessions" in page


def test_a_range_given_backwards_is_turned_round(tmp_path: Path) -> None:
    csv_path, _ = write(tmp_path, start=END, end=START)
    assert csv_path.name == "retro_walk_Ana_2026-11-02_2026-11-22.csv"
    assert len(read_csv(csv_path)) == 4


def test_bad_numbers_do_not_break_the_report(tmp_path: Path) -> None:
    records = [
        record(
            "2026-11-03T09:00",
            peak_backward_speed=math.nan,
            energy="lots",
            distance=math.inf,
            pauses=None,
            safety_events=[{"tier": 7}, "spin", {"tier": "2"}, {"kind": "x"}],
        ),
        record("2026-11-04T09:00", backward_s=0),
    ]
    csv_path, html_path = write(tmp_path, records, goal_minutes=math.nan)
    _, first, second = read_csv(csv_path)
    assert first[5:13] == ["0", "", "0.0", "0", "0", "1", "1", "0"]
    assert second[3] == "0.0"
    page = html_path.read_text(encoding="utf-8")
    assert "nan" not in page.lower().replace("nanosecond", "")
    assert 'class="goal"' not in page  # no goal line without a goal


def test_records_without_a_walker_count_as_the_walkers() -> None:
    """History from before walkers had profiles names nobody."""
    old = record("2026-11-03T09:00")
    del old["walker"]
    rows = session_rows(
        [old, record("2026-11-04T09:00", walker="Bea")], "Ana", START, END
    )
    assert [row.session_id for row in rows] == ["s-2026-11-03T09:00"]


def test_weekly_minutes_include_empty_weeks() -> None:
    rows = session_rows(RECORDS, "Ana", START, END, MADRID)
    assert weekly_backward_minutes(rows, START, END) == [
        (date(2026, 11, 2), 12.0),
        (date(2026, 11, 9), 0.0),
        (date(2026, 11, 16), 10.0),
    ]
    # A range starting mid-week starts at that week's Monday.
    assert weekly_backward_minutes([], date(2026, 11, 4), date(2026, 11, 4)) == [
        (date(2026, 11, 2), 0.0)
    ]


def test_many_sessions_thin_out_the_labels() -> None:
    records = [record(f"2026-11-{day:02d}T09:00") for day in range(2, 23)]
    rows = session_rows(records, "Ana", START, END, MADRID)
    page = render_html(
        rows,
        "Ana",
        10,
        START,
        END,
        generated=datetime(2026, 11, 23, 8, 0, tzinfo=MADRID),
    )
    assert "made 2026-11-23 08:00" in page
    instability = re.findall(r"<svg .*?</svg>", page, flags=re.DOTALL)[2]
    assert instability.count('text-anchor="middle">') == 11  # 21 sessions, every 2nd


@pytest.mark.parametrize("goal", [0.0, 250.0])
def test_the_goal_line_scales_the_chart(goal: float) -> None:
    rows = session_rows(RECORDS, "Ana", START, END, MADRID)
    weekly = re.findall(r"<svg .*?</svg>", render_html(rows, "Ana", goal, START, END))[
        0
    ]
    assert ('class="goal"' in weekly) is (goal > 0)
    # 10 % above the highest of the goal and the weeks, rounded up.
    assert (">500</text>" if goal else ">20</text>") in weekly
