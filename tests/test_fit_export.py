"""FIT export of a finished session, read back with an independent decoder.

The files are written with fit-tool, which validates each one as it builds
it here (its strict mode), and read with fitdecode (another implementation of
the FIT protocol, with its own profile): every file a test writes is decoded,
CRC checked, and looked at as a reader would.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import io
import math
from pathlib import Path
from typing import Any

import fitdecode
import pytest

from custom_components.retro_walk.export import (
    Activity,
    Lap,
    Pause,
    Record,
    fit as fit_module,
    safe_name,
)
from custom_components.retro_walk.export.fit import fit_bytes, fit_filename, write_fit
from custom_components.retro_walk.session import PhaseKind

from .test_imports import import_graph

T0 = 1_795_000_000.0  # 2026-11-18, a whole second
Messages = dict[str, list[dict[str, Any]]]


@pytest.fixture(autouse=True)
def strict_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """fit-tool validates each file it builds too (wire, profile, activity rules)."""
    monkeypatch.setattr(fit_module, "STRICT", True)


def decode(data: bytes) -> Messages:
    """Every data message by name, each as its fields (fitdecode, CRC checked)."""
    messages: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    order: list[str] = []
    with fitdecode.FitReader(
        io.BytesIO(data),
        check_crc=fitdecode.CrcCheck.RAISE,
        error_handling=fitdecode.ErrorHandling.RAISE,
    ) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                fields = {field.name: field.value for field in frame.fields}
                messages[frame.name].append(fields)
                order.append(frame.name)
    _assert_no_nan(messages)
    messages["_order"] = [{"name": name} for name in order]
    return dict(messages)


def _assert_no_nan(messages: Messages) -> None:
    for name, items in messages.items():
        for fields in items:
            for key, value in fields.items():
                values = value if isinstance(value, tuple | list) else [value]
                for item in values:
                    if isinstance(item, float):
                        assert math.isfinite(item), (name, key, value)


def export(activity: Activity) -> Messages:
    """Encode and decode, as every test does."""
    return decode(fit_bytes(activity))


def lap(kind: str, start: float, end: float, speed: float = 3.0, **kw: Any) -> Lap:
    """A lap whose distance and energy follow from its speed and length."""
    seconds = end - start
    return Lap(
        kind=PhaseKind(kind),
        start=T0 + start,
        end=T0 + end,
        distance_m=kw.pop("distance_m", speed / 3.6 * seconds),
        energy_kcal=kw.pop("energy_kcal", seconds / 60 * 4),
        avg_speed_kmh=speed,
    )


def starter(**kw: Any) -> Activity:
    """Warm-up 60 s, backward 140 s with a 20 s safety pause, cool-down 60 s."""
    laps = [
        lap("warm_up", 0, 60, 3.0, distance_m=50.0),
        lap("backward", 60, 200, 2.0, distance_m=70.0),
        lap("cool_down", 200, 260, 3.0, distance_m=50.0),
    ]
    defaults: dict[str, Any] = {
        "start": T0,
        "end": T0 + 260,
        "treadmill": True,
        "laps": laps,
        "pauses": [Pause(start=T0 + 100, end=T0 + 120, reason="safety:pause_now")],
        "total_distance_m": 170.0,
        "total_energy_kcal": 14.4,
        "walker": "Ana",
        "session_id": "0123456789abcdef",
        "program": "starter",
    }
    return Activity(**{**defaults, **kw})


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def timer_events(messages: Messages) -> list[tuple[datetime, str, str]]:
    return [
        (event["timestamp"], event["event_type"], event["timer_trigger"])
        for event in messages["event"]
        if event["event"] == "timer"
    ]


# A whole session --------------------------------------------------------------


def test_a_treadmill_session_as_a_reader_sees_it() -> None:
    messages = export(starter())
    order = [item["name"] for item in messages["_order"]]
    assert order[0] == "file_id"
    assert order[-2:] == ["session", "activity"]

    (file_id,) = messages["file_id"]
    assert file_id["type"] == "activity"
    assert file_id["manufacturer"] == "development"
    assert file_id["time_created"] == at(0)
    assert file_id["product_name"] == "Retro Walk"

    (session,) = messages["session"]
    assert session["sport"] == "walking"
    assert session["sub_sport"] == "treadmill"
    assert session["start_time"] == at(0)
    assert session["timestamp"] == at(260)
    assert session["total_elapsed_time"] == 260.0
    assert session["total_timer_time"] == 240.0  # less the 20 s pause
    assert session["total_distance"] == 170.0
    assert session["total_calories"] == 14
    assert session["num_laps"] == 3
    assert session["avg_speed"] == pytest.approx(170 / 240, abs=0.001)
    assert session["max_speed"] == pytest.approx(3 / 3.6, abs=0.001)

    (activity,) = messages["activity"]
    assert activity["num_sessions"] == 1
    assert activity["total_timer_time"] == 240.0
    assert activity["type"] == "manual"
    assert "local_timestamp" not in activity  # no offset given


def test_records_are_one_a_second_except_in_a_pause() -> None:
    records = export(starter())["record"]
    times = [record["timestamp"] for record in records]
    # 261 seconds, less the 19 strictly inside the pause (101 … 119).
    assert len(records) == 261 - 19
    assert times == sorted(times)
    assert not [t for t in times if at(100) < t < at(120)]
    distances = [record["distance"] for record in records]
    assert distances == sorted(distances)
    assert distances[0] == 0.0
    assert distances[-1] == 170.0
    by_time = {record["timestamp"]: record for record in records}
    assert by_time[at(30)]["speed"] == pytest.approx(3 / 3.6, abs=0.001)
    assert by_time[at(30)]["distance"] == 25.0  # half the warm-up
    assert by_time[at(150)]["speed"] == pytest.approx(2 / 3.6, abs=0.001)
    assert by_time[at(100)]["speed"] == 0.0  # the belt stops
    # The backward lap's 70 m are spread over its 120 moving seconds.
    assert by_time[at(120)]["distance"] == pytest.approx(50 + 70 * 40 / 120, abs=0.01)


def test_one_lap_per_phase_and_the_backward_one_marked() -> None:
    messages = export(starter())
    laps = messages["lap"]
    assert [lap["intensity"] for lap in laps] == ["warmup", "active", "cooldown"]
    assert [lap["wkt_step_index"] for lap in laps] == [0, 1, 2]
    steps = messages["workout_step"]
    names = {step["message_index"]: step["wkt_step_name"] for step in steps}
    assert [names[lap["wkt_step_index"]] for lap in laps] == [
        "Warm-up",
        "Backward",
        "Cool-down",
    ]
    assert "backwards" in steps[1]["notes"]
    (workout,) = messages["workout"]
    assert workout["wkt_name"] == "Retro walk: starter"
    assert workout["num_valid_steps"] == 3
    assert messages["sport"][0]["sport"] == "walking"

    backward = laps[1]
    assert backward["start_time"] == at(60)
    assert backward["timestamp"] == at(200)
    assert backward["total_elapsed_time"] == 140.0
    assert backward["total_timer_time"] == 120.0
    assert backward["total_distance"] == 70.0
    assert backward["total_calories"] == 9  # 140 s at 4 kcal/min, rounded
    assert backward["avg_speed"] == pytest.approx(2 / 3.6, abs=0.001)
    assert backward["max_speed"] == pytest.approx(2 / 3.6, abs=0.001)
    assert backward["sport"] == "walking"
    assert [lap["lap_trigger"] for lap in laps] == ["time", "time", "session_end"]
    assert [lap["message_index"] for lap in laps] == [0, 1, 2]


def test_a_safety_pause_is_a_timer_stop_by_the_equipment() -> None:
    assert timer_events(export(starter())) == [
        (at(0), "start", "manual"),
        (at(100), "stop_all", "fitness_equipment"),
        (at(120), "start", "fitness_equipment"),
        (at(260), "stop_all", "manual"),
    ]


def test_the_walkers_own_pause_is_a_manual_timer_stop() -> None:
    messages = export(
        starter(pauses=[Pause(start=T0 + 30, end=T0 + 40, reason="user")])
    )
    assert timer_events(messages)[1:3] == [
        (at(30), "stop_all", "manual"),
        (at(40), "start", "manual"),
    ]
    assert messages["session"][0]["total_timer_time"] == 250.0


def test_overlapping_pauses_are_one_and_keep_the_safety_reason() -> None:
    pauses = [
        Pause(start=T0 + 30, end=T0 + 50, reason="user"),
        Pause(start=T0 + 40, end=T0 + 70, reason="safety:off_belt"),
        Pause(start=T0 - 10, end=T0 - 5, reason="user"),  # before the start
        Pause(start=T0 + 5, end=math.nan, reason="user"),  # unreadable
    ]
    messages = export(starter(pauses=pauses))
    assert timer_events(messages) == [
        (at(0), "start", "manual"),
        (at(30), "stop_all", "fitness_equipment"),
        (at(70), "start", "fitness_equipment"),
        (at(260), "stop_all", "manual"),
    ]
    assert messages["session"][0]["total_timer_time"] == 220.0


def test_a_hallway_session_is_a_plain_walk() -> None:
    messages = export(starter(treadmill=False))
    assert messages["session"][0]["sport"] == "walking"
    assert messages["session"][0]["sub_sport"] == "generic"
    assert {lap["sub_sport"] for lap in messages["lap"]} == {"generic"}


def test_the_local_time_offset() -> None:
    messages = export(starter(utc_offset_s=3600))
    local = messages["activity"][0]["local_timestamp"]
    # fitdecode reads a local date time as if it were UTC.
    assert local == at(260) + timedelta(hours=1)
    for offset in (math.nan, 30 * 3600):
        assert (
            "local_timestamp" not in export(starter(utc_offset_s=offset))["activity"][0]
        )


def test_the_serial_number_tells_sessions_apart() -> None:
    def serial(activity: Activity) -> int:
        return int(export(activity)["file_id"][0]["serial_number"])

    assert serial(starter()) == serial(starter())
    assert serial(starter()) != serial(starter(session_id="another"))
    assert serial(starter(session_id="")) == serial(starter(session_id=""))


def test_a_timer_time_given_is_kept() -> None:
    messages = export(starter(timer_time_s=230.5))
    assert messages["session"][0]["total_timer_time"] == 230.5
    assert messages["activity"][0]["total_timer_time"] == 230.5


# What the issue asks of the running demo's 20-second session ----------------------


def test_a_twenty_second_session() -> None:
    activity = Activity(
        start=T0 + 0.4,
        end=T0 + 20.6,
        laps=[lap("warm_up", 0.4, 20.6, 3.0)],
        total_distance_m=16.8,
        total_energy_kcal=1.2,
    )
    messages = export(activity)
    assert messages["session"][0]["sport"] == "walking"
    assert abs(messages["session"][0]["total_elapsed_time"] - 20.2) < 2
    assert len(messages["record"]) >= 10
    assert len(messages["lap"]) >= 1


# Records given ----------------------------------------------------------------------


def test_records_given_are_written_as_they_are() -> None:
    records = [
        Record(t=T0 + t, speed_mps=0.5 + t / 100, distance_m=t * 0.6) for t in range(21)
    ]
    messages = export(starter(end=T0 + 20, laps=[], records=records))
    written = messages["record"]
    assert len(written) == 21
    assert written[10]["speed"] == pytest.approx(0.6, abs=0.001)
    assert written[10]["distance"] == 6.0
    assert messages["session"][0]["max_speed"] == pytest.approx(0.7, abs=0.001)
    # No phases given: one lap for the whole session, not marked as any.
    (only,) = messages["lap"]
    assert only["total_elapsed_time"] == 20.0
    assert only["total_distance"] == 170.0
    assert "wkt_step_index" not in only
    assert "workout" not in messages


def test_bad_records_given_are_dropped_or_cut_down() -> None:
    records = [
        Record(t=T0 + 2, speed_mps=1.0, distance_m=2.0),
        Record(t=T0 + 1, speed_mps=1.0, distance_m=1.0),  # out of order
        Record(t=T0 + 3, speed_mps=math.nan, distance_m=math.inf),
        Record(t=T0 + 4, speed_mps=-1.0, distance_m=1.5),  # goes back: kept at 2
        Record(t=math.nan, speed_mps=1.0, distance_m=9.0),
        Record(t=T0 + 500, speed_mps=1.0, distance_m=9.0),  # after the end
        Record(t=T0 + 5.2, speed_mps=1.0, distance_m=5.0),
        Record(t=T0 + 4.9, speed_mps=1.0, distance_m=4.9),  # same second: it wins
    ]
    messages = export(starter(end=T0 + 10, laps=[], pauses=[], records=records))
    written = [
        (r["timestamp"], r.get("speed"), r.get("distance")) for r in messages["record"]
    ]
    assert written == [
        (at(1), 1.0, 1.0),
        (at(2), 1.0, 2.0),
        (at(3), None, None),
        (at(4), 0.0, 2.0),
        (at(5), 1.0, 4.9),
    ]


# Edge cases -------------------------------------------------------------------------


def test_no_number_that_is_not_finite_reaches_the_file() -> None:
    nan = math.nan
    laps = [
        Lap(
            kind=PhaseKind.BACKWARD,
            start=T0,
            end=T0 + 30,
            distance_m=nan,
            energy_kcal=math.inf,
            avg_speed_kmh=nan,
        ),
        Lap(
            kind=PhaseKind.COOL_DOWN,
            start=nan,
            end=T0 + 40,
            distance_m=1.0,
            energy_kcal=1.0,
            avg_speed_kmh=1.0,
        ),
    ]
    activity = Activity(
        start=T0,
        end=T0 + 30,
        laps=laps,
        total_distance_m=nan,
        total_energy_kcal=-math.inf,
        timer_time_s=nan,
        utc_offset_s=nan,
    )
    messages = export(activity)  # decode() fails on any NaN
    session = messages["session"][0]
    assert "total_distance" not in session
    assert "total_calories" not in session
    assert session["total_timer_time"] == 30.0
    (only,) = messages["lap"]
    assert "total_distance" not in only
    assert "avg_speed" not in only
    assert {r["speed"] for r in messages["record"]} == {0.0}
    assert {r["distance"] for r in messages["record"]} == {0.0}


def test_a_session_of_no_time_at_all() -> None:
    messages = export(Activity(start=T0, end=T0))
    assert len(messages["record"]) == 1
    assert messages["session"][0]["total_elapsed_time"] == 0.0
    assert messages["session"][0]["total_timer_time"] == 0.0
    assert "avg_speed" not in messages["session"][0]
    assert len(messages["lap"]) == 1
    assert timer_events(messages) == [
        (at(0), "start", "manual"),
        (at(0), "stop_all", "manual"),
    ]


def test_an_end_before_the_start_is_no_time_either() -> None:
    messages = export(Activity(start=T0, end=T0 - 50, laps=[lap("backward", 0, 10)]))
    assert messages["session"][0]["total_elapsed_time"] == 0.0
    assert messages["lap"][0]["total_elapsed_time"] == 0.0
    assert messages["record"][0]["timestamp"] == at(0)


def test_a_session_that_was_paused_throughout() -> None:
    activity = starter(
        pauses=[Pause(start=T0, end=T0 + 260, reason="safety:confirmed_fall")]
    )
    messages = export(activity)
    assert messages["session"][0]["total_elapsed_time"] == 260.0
    assert messages["session"][0]["total_timer_time"] == 0.0
    assert [lap["total_timer_time"] for lap in messages["lap"]] == [0.0, 0.0, 0.0]
    # A record where the timer stopped and one at the end, none in between.
    assert [r["timestamp"] for r in messages["record"]] == [at(0), at(260)]
    assert {r["speed"] for r in messages["record"]} == {0.0}
    assert timer_events(messages) == [
        (at(0), "start", "manual"),
        (at(0), "stop_all", "fitness_equipment"),
    ]


def test_a_very_long_session() -> None:
    """Six hours of intervals: 21,601 records, each field within its range."""
    laps = []
    for block in range(72):
        kind = "backward" if block % 2 else "forward"
        laps.append(
            lap(kind, block * 300, block * 300 + 300, 4.0 if block % 2 else 5.0)
        )
    hours = 6 * 3600
    activity = starter(
        end=T0 + hours,
        laps=laps,
        pauses=[],
        total_distance_m=27_000.0,
        total_energy_kcal=100_000.0,  # beyond uint16: capped, not wrapped
    )
    messages = export(activity)
    assert len(messages["record"]) == hours + 1
    assert len(messages["lap"]) == 72
    assert messages["record"][-1]["distance"] == pytest.approx(
        sum(item.distance_m for item in laps), abs=0.01
    )
    session = messages["session"][0]
    assert session["total_elapsed_time"] == hours
    assert session["total_calories"] == 0xFFFE
    assert [step["wkt_step_name"] for step in messages["workout_step"][:2]] == [
        "Forward",
        "Backward",
    ]
    assert [lap["intensity"] for lap in messages["lap"][:2]] == ["recovery", "active"]


def test_records_thin_out_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fit_module, "MAX_SYNTHESISED_RECORDS", 100)
    activity = starter(end=T0 + 1000, laps=[lap("backward", 0, 1000)], pauses=[])
    messages = export(activity)
    records = messages["record"]
    assert len(records) == 101
    step = records[1]["timestamp"] - records[0]["timestamp"]
    assert step == timedelta(seconds=10)


def test_a_start_that_is_no_time_is_refused() -> None:
    for start in (math.nan, 0.0, 600_000_000.0):
        with pytest.raises(ValueError, match="not a session start time"):
            fit_bytes(Activity(start=start, end=start + 10))


# Files --------------------------------------------------------------------------------


def test_write_fit_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "Ana" / "session.fit"
    written = write_fit(starter(), target)
    assert written == target
    assert decode(target.read_bytes())["session"][0]["total_elapsed_time"] == 260.0
    assert [path.name for path in target.parent.iterdir()] == ["session.fit"]


def test_write_fit_into_a_folder_names_the_file(tmp_path: Path) -> None:
    written = write_fit(starter(session_id="abc/../def"), tmp_path)
    assert written.parent == tmp_path
    assert written.name == fit_filename(starter(session_id="abc/../def"))
    assert written.name == "20261118T110640Z-abc_.._def.fit"
    assert decode(written.read_bytes())["file_id"][0]["type"] == "activity"


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_fit(starter(), tmp_path / "session.fit")
    assert list(tmp_path.iterdir()) == []


# The data classes -------------------------------------------------------------------------


def test_a_lap_takes_its_kind_as_a_string() -> None:
    assert (
        Lap(
            kind="backward",  # type: ignore[arg-type]
            start=0,
            end=1,
            distance_m=0,
            energy_kcal=0,
            avg_speed_kmh=1,
        ).kind
        is PhaseKind.BACKWARD
    )
    with pytest.raises(ValueError, match="sideways"):
        Lap(
            kind="sideways",  # type: ignore[arg-type]
            start=0,
            end=1,
            distance_m=0,
            energy_kcal=0,
            avg_speed_kmh=1,
        )


def test_which_pauses_are_safety_pauses() -> None:
    assert Pause(start=0, end=1, reason="safety:pause_now").safety
    assert Pause(start=0, end=1, reason="safety").safety
    assert not Pause(start=0, end=1, reason="user").safety
    assert not Pause(start=0, end=1).safety


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ana", "Ana"),
        ("María José", "María_José"),
        ("../../etc/passwd", "etc_passwd"),
        ("..", "walker"),
        ("", "walker"),
        ("a/b\\c:d", "a_b_c_d"),
        ("x" * 100, "x" * 64),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_no_records_given_still_makes_one() -> None:
    """Readers refuse an activity without records: one at the start, standing."""
    messages = export(starter(records=[]))
    assert [(r["timestamp"], r["speed"]) for r in messages["record"]] == [(at(0), 0.0)]


def test_the_export_package_imports_no_home_assistant() -> None:
    """Pure like the session engine, and so is what it imports."""
    graph, outside = import_graph()
    seen: set[str] = set()
    todo = [name for name in graph if name == "export" or name.startswith("export.")]
    assert {"export", "export.activity", "export.fit"} <= set(todo)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert not {"homeassistant", "aiohttp", "voluptuous"} & outside[name], name
        todo.extend(graph[name])
