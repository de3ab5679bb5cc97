#!/usr/bin/env python3
"""Give the demo's walkers a few weeks of past sessions, and their statistics.

A newcomer opening the demo should see progression: the card's chart, the
clinician's report and the FIT export need sessions, and the dashboard's
statistics graph needs long-term statistics. Two steps:

``seed`` (offline, run by ``scripts/onboard.py`` before Home Assistant starts)
    writes the Demo station's history (``.storage/retro_walk.<entry id>``) with
    about seven weeks of sessions of Ana and Luis, up to yesterday, only when
    the station has no history yet (and was never seeded): a user's sessions
    are never touched. The records are made by the integration's own session
    engine (``custom_components/retro_walk/session.py``: start, advance,
    pause, resume, stop, record), so they are exactly what the station writes.
    Each walker follows ``suggest_backward_minutes`` from session to session
    (Ana, a beginner, from 2 minutes on the starter program, then intervals;
    Luis, intermediate, from 3 minutes on intervals with a long ratio walk on
    some weekends), at belt speeds growing within their caps, with a few
    pauses, safety pauses (tier 1) and unsteady notes (tier 3). Deterministic
    (seeded) relative to the time of seeding. A marker file in the config dir
    (``.retro_walk_demo_history``) records what was seeded.

``import-statistics`` (online, started by ``scripts/demo`` next to Home
Assistant) waits for Home Assistant, then imports hourly long-term statistics
of each walker's "Backward minutes this week" and "Sessions this week" sensors
for the seeded weeks through ``recorder/import_statistics``, once (marker
``.retro_walk_demo_statistics``). Only hours before the first statistics the
recorder compiled itself are imported, and sums are offset to meet those, so
the live statistics carry on from the imported ones.

Standard library plus aiohttp (the import); Home Assistant is not imported.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
import importlib.util
import json
import os
from pathlib import Path
import random
import re
import sys
from types import ModuleType
from typing import Any, Self
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
SESSION_PY = REPO_ROOT / "custom_components" / "retro_walk" / "session.py"
DEFAULT_CONFIG_DIR = REPO_ROOT / ".demo" / "config"
DEFAULT_TOKEN_FILE = REPO_ROOT / ".demo" / "token"

DOMAIN = "retro_walk"
ENTRY_UNIQUE_ID = "d3e0c5a1f2b44c6e9a7b8c9d0e1f2a3b"
ENTRY_TITLE = "Demo station"
STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
SEED_MARKER = ".retro_walk_demo_history"
STATISTICS_MARKER = ".retro_walk_demo_statistics"
DEFAULT_TIME_ZONE = "Europe/Madrid"
SEED = 20260413
WEEKS = 7  # full weeks before the current one (which is seeded up to yesterday)

# The past sessions use Retro Walk's default warm-up, cool-down and forward
# speed (const.py), as a real station would: the demo entry's own options are
# shortened so that a newcomer's first try is quick.
WARM_UP_MINUTES = 3.0
COOL_DOWN_MINUTES = 2.0
FORWARD_SPEED = 3.0
TICK_SECONDS = 2.0

# Sensor keys of a walker's weekly statistics (unique id: entry_walker_key).
WEEKLY_MINUTES_KEY = "weekly_backward_minutes"
WEEKLY_SESSIONS_KEY = "sessions_this_week"


@dataclass(frozen=True, kw_only=True)
class WalkerPlan:
    """How one demo walker trains."""

    walker_id: str
    name: str
    experience: str
    body_mass: float
    # (weekday, Monday 0) -> usual local start (hours); sessions a week.
    days: dict[int, float]
    per_week: tuple[int, ...]
    # Backward speed (km/h) in the first and the last week.
    speed_from: float
    speed_to: float
    # A long walk on the ratio program (1 backward for 10 forward) on these
    # weekdays, while the suggested minutes stay at or under this.
    ratio_days: tuple[int, ...] = ()
    ratio_max_minutes: float = 0.0
    # Per session: chance of a user pause and of unsteady notes (tier 3).
    pause_chance: float = 0.12
    unsteady_chance: float = 0.15


# --------------------------------------------------------------------------
# The integration's session engine and the demo's walkers, without packages
# --------------------------------------------------------------------------
_MODULES: dict[str, ModuleType] = {}


def _load(name: str, path: Path) -> ModuleType:
    """A module from its file, loaded once, on its own."""
    if (module := _MODULES.get(name)) is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            msg = f"cannot load {path}"
            raise ImportError(msg)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        _MODULES[name] = module
    return module


def engine() -> ModuleType:
    """``custom_components/retro_walk/session.py``, loaded on its own.

    Importing it through the package would import Home Assistant (its
    ``__init__``): slow, and not needed.
    """
    return _load("_retro_walk_session_engine", SESSION_PY)


def _demo_walker(name: str) -> dict[str, Any]:
    """A demo walker's profile as ``scripts/onboard.py`` writes it."""
    onboard = _load("_retro_walk_onboard", Path(__file__).with_name("onboard.py"))
    (walker,) = (item for item in onboard.DEMO_WALKERS if item["title"] == name)
    return {
        "walker_id": walker["subentry_id"],
        "name": name,
        "experience": walker["data"]["experience"],
        "body_mass": walker["data"]["body_mass"],
    }


PLANS: tuple[WalkerPlan, ...] = (
    WalkerPlan(
        **_demo_walker("Ana"),
        days={0: 10.0, 2: 18.5, 3: 10.5, 5: 11.0},
        per_week=(2, 3, 3),
        speed_from=1.8,
        speed_to=2.6,
        unsteady_chance=0.2,
    ),
    WalkerPlan(
        **_demo_walker("Luis"),
        days={1: 7.25, 3: 19.75, 5: 9.0, 6: 10.0},
        per_week=(3, 3, 4),
        speed_from=3.0,
        speed_to=4.0,
        ratio_days=(5, 6),
        ratio_max_minutes=6.0,
        pause_chance=0.1,
        unsteady_chance=0.08,
    ),
)
# Safety pauses (tier 1, the detector's kinds) on given sessions of a walker
# (0-based): (walker, session, kind, resumed after s, or None: stopped there).
ANA_ID, LUIS_ID = (plan.walker_id for plan in PLANS)
SAFETY_PAUSES: tuple[tuple[str, int, str, float | None], ...] = (
    (ANA_ID, 6, "drop", 50.0),
    (ANA_ID, 14, "spin", None),
    (LUIS_ID, 11, "impact", 40.0),
)
# Sessions stopped early by the walker: (walker, session, share of the program).
STOPPED_EARLY: tuple[tuple[str, int, float], ...] = ((LUIS_ID, 17, 0.7),)


# --------------------------------------------------------------------------
# Generating the sessions
# --------------------------------------------------------------------------
def monday(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def local_time(day: date, hours: float, tz: tzinfo) -> datetime:
    """``hours`` after midnight of ``day``, local wall-clock time."""
    minutes = round(hours * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)


@dataclass(kw_only=True)
class _Slot:
    plan: WalkerPlan
    start: float  # epoch s
    weekday: int
    progress: float  # 0 (first week) .. 1 (this week)


def _slots(rng: random.Random, today: date, tz: tzinfo) -> list[_Slot]:
    """When each walker walks, from the first week's Monday up to yesterday."""
    first = monday(today) - timedelta(weeks=WEEKS)
    slots: list[_Slot] = []
    for week in range(WEEKS + 1):
        week_start = first + timedelta(weeks=week)
        for plan in PLANS:
            count = rng.choice(plan.per_week)
            weekdays = sorted(rng.sample(sorted(plan.days), count))
            for weekday in weekdays:
                day = week_start + timedelta(days=weekday)
                if day >= today:
                    continue
                hours = plan.days[weekday] + rng.uniform(-0.6, 0.6)
                start = local_time(day, hours, tz) + timedelta(
                    seconds=rng.randrange(60)
                )
                slots.append(
                    _Slot(
                        plan=plan,
                        start=start.timestamp(),
                        weekday=weekday,
                        progress=week / WEEKS,
                    )
                )
    slots.sort(key=lambda slot: slot.start)
    return slots


def _profile(plan: WalkerPlan, profiles: dict[str, dict[str, Any]]) -> WalkerPlan:
    """The plan with the walker's stored profile (body mass, experience)."""
    data = profiles.get(plan.walker_id) or {}
    body_mass = data.get("body_mass")
    experience = data.get("experience")
    return replace(
        plan,
        body_mass=float(body_mass)
        if isinstance(body_mass, int | float) and 20 <= body_mass <= 400  # noqa: PLR2004
        else plan.body_mass,
        experience=experience
        if experience in ("beginner", "intermediate", "advanced")
        else plan.experience,
    )


def _program(
    eng: ModuleType, plan: WalkerPlan, slot: _Slot, previous: list[Any]
) -> Any:
    """The program of the next session: what the walker would choose."""
    minutes = eng.suggest_backward_minutes(previous, eng.Experience(plan.experience))
    if (
        slot.weekday in plan.ratio_days
        and minutes <= plan.ratio_max_minutes
        and not any(r.program is eng.ProgramKind.RATIO for r in previous[-3:])
    ):
        return eng.ProgramKind.RATIO
    if plan.experience == "beginner" and minutes <= eng.STARTER_MAX_MINUTES:
        return eng.ProgramKind.STARTER
    return eng.ProgramKind.INTERVALS


@dataclass(kw_only=True)
class _Event:
    """Something that happens in a session, once it has walked ``at`` seconds.

    Backwards (``backward``: of backward walking, and only while walking
    backwards: unsteadiness and stumbles) or in all.
    """

    at: float
    what: str  # "pause", "unsteady", "safety", "stop"
    backward: bool
    detail: Any = None


def _events(
    rng: random.Random, plan: WalkerPlan, index: int, session: Any
) -> list[_Event]:
    """What happens in a walker's ``index``-th session (0-based)."""
    total = sum(segment.duration for segment in session.segments)
    backward = session.target_backward_minutes * 60
    events = [
        _Event(
            at=rng.uniform(0.3, 0.7) * backward,
            what="safety",
            backward=True,
            detail=(kind, resume_after),
        )
        for walker_id, number, kind, resume_after in SAFETY_PAUSES
        if walker_id == plan.walker_id and number == index
    ]
    if not events and rng.random() < plan.pause_chance:
        events.append(
            _Event(
                at=rng.uniform(0.2, 0.8) * total,
                what="pause",
                backward=False,
                detail=rng.uniform(25, 110),
            )
        )
    if rng.random() < plan.unsteady_chance:
        events.extend(
            _Event(at=rng.uniform(0.2, 0.95) * backward, what="unsteady", backward=True)
            for _ in range(rng.choice((1, 1, 2)))
        )
    events.extend(
        _Event(at=share * total, what="stop", backward=False)
        for walker_id, number, share in STOPPED_EARLY
        if walker_id == plan.walker_id and number == index
    )
    return events


def _happen(eng: ModuleType, session: Any, event: _Event, now: float) -> float:
    """Let ``event`` happen at ``now``; return the time after it."""
    if event.what == "pause":
        session.pause(now)
        now += round(event.detail)
        session.resume(now)
    elif event.what == "unsteady":
        session.note(now, "unsteady", 3)
    elif event.what == "stop":
        session.stop(now)
    else:
        kind, resume_after = event.detail
        # The walker wobbles (tier 3, the belt slows), then stumbles (tier 1).
        session.note(now - 6.0, "unsteady", 3)
        session.pause(now, safety=kind, tier=1)
        now += 20.0 if resume_after is None else resume_after
        if resume_after is None:
            session.stop(now)  # shaken: that is it for today
        else:
            session.resume(now)
    return now


def _walk(
    rng: random.Random, slot: _Slot, plan: WalkerPlan, previous: list[Any]
) -> Any:
    """Walk one session with the engine; return its SessionRecord."""
    eng = engine()
    experience = eng.Experience(plan.experience)
    speed = plan.speed_from + (plan.speed_to - plan.speed_from) * slot.progress
    settings = eng.ProgramSettings(
        experience=experience,
        backward_minutes=eng.suggest_backward_minutes(previous, experience),
        backward_speed=eng.cap_speed(
            round(speed + rng.uniform(-0.1, 0.1), 1), experience
        ),
        forward_speed=FORWARD_SPEED,
        warm_up_minutes=WARM_UP_MINUTES,
        cool_down_minutes=COOL_DOWN_MINUTES,
    )
    now = slot.start
    session = eng.Session.start(
        program=_program(eng, plan, slot, previous),
        settings=settings,
        body_mass=plan.body_mass,
        now=now,
        walker_id=plan.walker_id,
        walker=plan.name,
    )
    session.session_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    cap = eng.SPEED_CAP_KMH[experience]
    events = _events(rng, plan, len(previous), session)
    while session.state is not eng.SessionState.FINISHED:
        # The belt runs close to its target, never over the walker's cap.
        measured = min(session.segment.speed + rng.uniform(-0.06, 0.04), cap)
        now += TICK_SECONDS
        session.advance(now, belt_speed=round(measured, 2))
        backward = session.phase is eng.PhaseKind.BACKWARD
        metrics = session.metrics
        due = [
            event
            for event in events
            if (backward and event.backward and metrics.backward_time >= event.at)
            or (not event.backward and metrics.active_time >= event.at)
        ]
        for event in due[:1]:
            if session.is_moving:
                events.remove(event)
                now = _happen(eng, session, event, now)
    return session.record()


def generate_records(
    now: datetime,
    *,
    seed: int = SEED,
    profiles: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The demo's past sessions up to the day before ``now`` (aware), as stored.

    ``profiles`` maps walker ids to their stored profile (subentry data).
    """
    if now.tzinfo is None:
        msg = "now must be time-zone aware"
        raise ValueError(msg)
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    plans = {plan.walker_id: _profile(plan, profiles or {}) for plan in PLANS}
    done: dict[str, list[Any]] = {walker_id: [] for walker_id in plans}
    end = 0.0
    records: list[Any] = []
    for slot in _slots(rng, now.date(), now.tzinfo):
        plan = plans[slot.plan.walker_id]
        # One station: a session never starts before the last one ended.
        slot.start = max(slot.start, end + rng.uniform(600, 1500))
        record = _walk(rng, slot, plan, done[plan.walker_id])
        done[plan.walker_id].append(record)
        records.append(record)
        end = record.ended_at
    return [record.as_dict() for record in records if record.ended_at < now.timestamp()]


# --------------------------------------------------------------------------
# The config dir (offline)
# --------------------------------------------------------------------------
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError, ValueError:
        return None


def demo_entry(config_dir: Path) -> dict[str, Any] | None:
    """The stored Demo station config entry, or None."""
    content = _read_json(config_dir / ".storage" / "core.config_entries")
    data = content.get("data") if isinstance(content, dict) else None
    entries = data.get("entries") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("domain") != DOMAIN:
            continue
        if (
            entry.get("unique_id") == ENTRY_UNIQUE_ID
            or entry.get("title") == ENTRY_TITLE
        ):
            return entry
    return None


def walker_profiles(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The entry's walkers: subentry id -> data (with its title as name)."""
    profiles: dict[str, dict[str, Any]] = {}
    for sub in entry.get("subentries") or []:
        if isinstance(sub, dict) and sub.get("subentry_type") == "walker":
            data = sub.get("data") if isinstance(sub.get("data"), dict) else {}
            profiles[str(sub.get("subentry_id"))] = {**data, "name": sub.get("title")}
    return profiles


def configured_time_zone(config_dir: Path) -> tzinfo:
    """The time zone in the config dir's configuration.yaml (the demo's)."""
    try:
        text = (config_dir / "configuration.yaml").read_text(encoding="utf-8")
    except OSError:
        text = ""
    match = re.search(r"^\s*time_zone:\s*['\"]?([\w/+-]+)", text, re.MULTILINE)
    try:
        return ZoneInfo(match.group(1) if match else DEFAULT_TIME_ZONE)
    except ZoneInfoNotFoundError, ValueError:
        return ZoneInfo(DEFAULT_TIME_ZONE)


def store_path(config_dir: Path, entry_id: str) -> Path:
    """The station's history file."""
    return config_dir / ".storage" / f"{DOMAIN}.{entry_id}"


def _write_private(path: Path, content: Any) -> None:
    """Write JSON atomically with mode 600 (as Home Assistant's private stores)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{path.name}.seed-{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=4)
    temp.replace(path)


def seed(config_dir: Path, now: datetime | None = None) -> int:
    """Seed the Demo station's history if it has none; return sessions written.

    Nothing is written when the station already has sessions (or records it
    could not read), when its file is of another version, or when it was
    seeded before (the marker file), so a history the user emptied stays so.
    """
    entry = demo_entry(config_dir)
    if entry is None or not isinstance(entry.get("entry_id"), str):
        return 0
    entry_id = entry["entry_id"]
    marker = config_dir / SEED_MARKER
    if marker.exists():
        return 0
    path = store_path(config_dir, entry_id)
    content = _read_json(path) if path.exists() else None
    if path.exists():
        if not isinstance(content, dict) or (
            content.get("version"),
            content.get("minor_version"),
        ) != (STORAGE_VERSION, STORAGE_MINOR_VERSION):
            return 0  # unreadable or another version: Home Assistant decides
        data = content.get("data")
        if not isinstance(data, dict) or data.get("sessions") or data.get("unreadable"):
            return 0
    else:
        data = {"active": None, "settings": {}, "unreadable": []}
    tz = configured_time_zone(config_dir)
    now = datetime.now(tz) if now is None else now.astimezone(tz)
    records = generate_records(now, profiles=walker_profiles(entry))
    key = f"{DOMAIN}.{entry_id}"
    _write_private(
        path,
        {
            "version": STORAGE_VERSION,
            "minor_version": STORAGE_MINOR_VERSION,
            "key": key,
            "data": {**data, "sessions": records},
        },
    )
    _write_private(
        marker,
        {
            "entry_id": entry_id,
            "seeded_at": now.isoformat(),
            "time_zone": str(tz),
            "sessions": len(records),
            "first": records[0]["started_at"] if records else None,
            "last": records[-1]["ended_at"] if records else None,
        },
    )
    return len(records)


# --------------------------------------------------------------------------
# Long-term statistics
# --------------------------------------------------------------------------
def week_start_of(moment: datetime) -> datetime:
    """Midnight on the Monday of ``moment``'s week, in its time zone."""
    day = monday(moment.date())
    return datetime.combine(day, time(0), tzinfo=moment.tzinfo)


def hourly_statistics(
    records: list[dict[str, Any]],
    walker_id: str,
    *,
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> dict[str, list[dict[str, Any]]]:
    """Hourly rows of a walker's weekly minutes and sessions, as the recorder's.

    One row per hour from ``start`` up to ``end`` (UTC hours, ``end``
    excluded). A row's state is the sensor's at the end of its hour: the
    week's (Monday 00:00 local, its ``last_reset``) backward minutes, rounded
    to a tenth as the sensor does, and sessions of the sessions that ended by
    then. Sums grow by every increase and go on across weeks; they start at 0
    (``offset_sums`` moves them onto the live statistics).
    """
    own = sorted(
        (r for r in records if r.get("walker_id") == walker_id),
        key=lambda r: r["ended_at"],
    )
    ends = [float(r["ended_at"]) for r in own]
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rows: dict[str, list[dict[str, Any]]] = {
        WEEKLY_MINUTES_KEY: [],
        WEEKLY_SESSIONS_KEY: [],
    }
    sums = dict.fromkeys(rows, 0.0)
    states = dict.fromkeys(rows, 0.0)
    last_week: datetime | None = None
    while hour < end:
        hour_end = hour + timedelta(hours=1)
        week = week_start_of(hour.astimezone(tz))
        week_ts = week.timestamp()
        done = own[: bisect.bisect_left(ends, hour_end.timestamp())]
        in_week = [r for r in done if r["started_at"] >= week_ts]
        values = {
            WEEKLY_MINUTES_KEY: round(sum(r["backward_time"] for r in in_week) / 60, 1),
            WEEKLY_SESSIONS_KEY: float(len(in_week)),
        }
        for key, value in values.items():
            # A new week is a new cycle from 0 (the recorder's last_reset).
            before = states[key] if week == last_week else 0.0
            sums[key] = round(sums[key] + value - before, 1)
            states[key] = value
            rows[key].append(
                {
                    "start": hour.isoformat(),
                    "state": value,
                    "sum": sums[key],
                    "last_reset": week.astimezone(UTC).isoformat(),
                }
            )
        last_week = week
        hour = hour_end
    return rows


def offset_sums(rows: list[dict[str, Any]], anchor: tuple[float, float] | None) -> None:
    """Shift the rows' sums so they meet the live statistics.

    ``anchor`` is the live sum at the end of the last imported hour (the
    recorder starts its own sum at 0 when it first compiles a sensor): the
    imported sums end there. Without live statistics they end at 0.
    """
    if not rows:
        return
    target = 0.0 if anchor is None else anchor[1]
    shift = target - rows[-1]["sum"]
    for row in rows:
        row["sum"] = round(row["sum"] + shift, 1)


class HomeAssistantError(Exception):
    """Home Assistant did not answer as expected."""


class _Client:
    """A small websocket client (aiohttp)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._id = 0
        self._ws: Any = None
        self._http: Any = None

    async def __aenter__(self) -> Self:
        import aiohttp  # only the online step needs it

        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        ws_url = re.sub(r"^http", "ws", self.url) + "/api/websocket"
        self._ws = await self._http.ws_connect(ws_url, max_msg_size=64 * 1024 * 1024)
        hello = await self._ws.receive_json()
        if hello.get("type") != "auth_required":
            raise HomeAssistantError(hello)
        await self._ws.send_json({"type": "auth", "access_token": self.token})
        auth = await self._ws.receive_json()
        if auth.get("type") != "auth_ok":
            raise HomeAssistantError(f"authentication failed: {auth}")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._ws.close()
        await self._http.close()

    async def call(self, message: dict[str, Any]) -> Any:
        """Send one command and return its result."""
        self._id += 1
        await self._ws.send_json({**message, "id": self._id})
        while True:
            answer = await self._ws.receive_json()
            if answer.get("id") == self._id and answer.get("type") == "result":
                if not answer.get("success"):
                    raise HomeAssistantError(
                        f"{message['type']}: {answer.get('error')}"
                    )
                return answer.get("result")

    async def rest(self, path: str) -> Any:
        """GET a REST endpoint."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self._http.get(self.url + path, headers=headers) as resp:
            if resp.status != 200:  # noqa: PLR2004
                raise HomeAssistantError(f"GET {path}: HTTP {resp.status}")
            return await resp.json()


async def _wait_for(
    url: str, token: str, deadline: float, watch_pid: int | None
) -> None:
    """Wait until Home Assistant answers its API."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while True:
            if watch_pid is not None and os.getppid() != watch_pid:
                msg = "Home Assistant has exited"
                raise HomeAssistantError(msg)
            try:
                async with http.get(url.rstrip("/") + "/api/", headers=headers) as resp:
                    if resp.status == 200:  # noqa: PLR2004
                        return
            except aiohttp.ClientError, TimeoutError, OSError:
                pass
            if loop.time() > deadline:
                msg = f"no answer from {url}"
                raise HomeAssistantError(msg)
            await asyncio.sleep(2)


def _row_start(row: dict[str, Any]) -> float:
    start = row["start"]
    return (
        start / 1000
        if isinstance(start, int | float)
        else datetime.fromisoformat(start).timestamp()
    )


async def _live_anchor(
    client: _Client, statistic_id: str, since: datetime
) -> tuple[float, float] | None:
    """Where the statistics the recorder compiled itself begin: (hour, sum).

    The hour holding the earliest row (hourly or five-minute) is the first
    one not to import. The recorder starts a sensor's sum at 0 when it first
    compiles it: the earliest five-minute row (kept ten days) is that zero
    point, with its sum; past those ten days, the earliest hourly row's sum.
    """
    first: dict[str, tuple[float, float]] = {}
    for period in ("hour", "5minute"):
        result = await client.call(
            {
                "type": "recorder/statistics_during_period",
                "start_time": since.astimezone(UTC).isoformat(),
                "statistic_ids": [statistic_id],
                "period": period,
                "types": ["sum", "state"],
            }
        )
        if rows := result.get(statistic_id):
            first[period] = (_row_start(rows[0]), float(rows[0].get("sum") or 0.0))
    hour, short = first.get("hour"), first.get("5minute")
    if short is not None and (hour is None or short[0] < hour[0] + 3600):
        return short[0] - short[0] % 3600, short[1]
    return hour


async def _entity_ids(client: _Client, entry_id: str, walker_id: str) -> dict[str, str]:
    """The walker's weekly sensors' entity ids (from the entity registry)."""
    registry = await client.call({"type": "config/entity_registry/list"})
    wanted = {
        f"{entry_id}_{walker_id}_{key}": key
        for key in (WEEKLY_MINUTES_KEY, WEEKLY_SESSIONS_KEY)
    }
    return {
        wanted[item["unique_id"]]: item["entity_id"]
        for item in registry
        if item.get("platform") == DOMAIN and item.get("unique_id") in wanted
    }


METADATA = {
    WEEKLY_MINUTES_KEY: {"unit_of_measurement": "min", "unit_class": "duration"},
    WEEKLY_SESSIONS_KEY: {"unit_of_measurement": None, "unit_class": None},
}


@dataclass(kw_only=True)
class SeededHistory:
    """What ``import-statistics`` imports: the seeded station's history."""

    entry_id: str
    walker_ids: list[str]
    records: list[dict[str, Any]]
    first: float  # the first seeded session's start (epoch s)
    time_zone: str


def pending_import(config_dir: Path) -> SeededHistory | None:
    """The seeded history whose statistics are still to import, or None."""
    seeded = _read_json(config_dir / SEED_MARKER)
    if (config_dir / STATISTICS_MARKER).exists() or not isinstance(seeded, dict):
        return None
    if not seeded.get("sessions") or seeded.get("first") is None:
        return None
    entry_id = str(seeded["entry_id"])
    content = _read_json(store_path(config_dir, entry_id))
    data = content.get("data") if isinstance(content, dict) else None
    sessions = data.get("sessions") if isinstance(data, dict) else None
    demo_walkers = {plan.walker_id for plan in PLANS}
    return SeededHistory(
        entry_id=entry_id,
        walker_ids=[
            walker_id
            for walker_id in walker_profiles(demo_entry(config_dir) or {})
            if walker_id in demo_walkers
        ],
        records=[r for r in sessions or [] if isinstance(r, dict)],
        first=float(seeded["first"]),
        time_zone=str(seeded.get("time_zone") or DEFAULT_TIME_ZONE),
    )


async def _walker_entities(
    client: _Client, entry_id: str, walker_id: str, deadline: float
) -> dict[str, str]:
    """The walker's weekly sensors, once the station has set them up."""
    loop = asyncio.get_running_loop()
    entity_ids = await _entity_ids(client, entry_id, walker_id)
    while len(entity_ids) < len(METADATA):
        if loop.time() > deadline:
            msg = f"the weekly sensors of walker {walker_id} did not show up"
            raise HomeAssistantError(msg)
        await asyncio.sleep(2)
        entity_ids = await _entity_ids(client, entry_id, walker_id)
    return entity_ids


async def import_statistics(
    url: str,
    token: str,
    history: SeededHistory,
    *,
    wait: float = 600.0,
    watch_pid: int | None = None,
    log: Any = print,
) -> int:
    """Import the seeded weeks' hourly statistics; return the rows imported.

    Waits (up to ``wait`` seconds) for Home Assistant and the walkers' sensors.
    Hours the recorder already has statistics for (and any after) are left
    alone: run again, it imports nothing.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    await _wait_for(url, token, deadline, watch_pid)
    total = 0
    async with _Client(url, token) as client:
        config = await client.rest("/api/config")
        tz = ZoneInfo(config.get("time_zone") or history.time_zone)
        start = week_start_of(datetime.fromtimestamp(history.first, tz))
        this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        for walker_id in history.walker_ids:
            entities = await _walker_entities(
                client, history.entry_id, walker_id, deadline
            )
            for key, entity_id in entities.items():
                anchor = await _live_anchor(client, entity_id, start)
                end = (
                    this_hour
                    if anchor is None
                    else datetime.fromtimestamp(anchor[0], UTC)
                )
                rows = hourly_statistics(
                    history.records, walker_id, start=start, end=end, tz=tz
                )[key]
                offset_sums(rows, anchor)
                if not rows:
                    log(f"{entity_id}: statistics there already; nothing to import")
                    continue
                await client.call(
                    {
                        "type": "recorder/import_statistics",
                        "metadata": {
                            "has_sum": True,
                            "mean_type": 0,
                            "name": None,
                            "source": "recorder",
                            "statistic_id": entity_id,
                            **METADATA[key],
                        },
                        "stats": rows,
                    }
                )
                total += len(rows)
                log(
                    f"{entity_id}: imported {len(rows)} hourly rows "
                    f"({rows[0]['start']} to {rows[-1]['start']})"
                )
    return total


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seed_parser = commands.add_parser(
        "seed", help="seed the station's history (offline)"
    )
    seed_parser.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR)
    stats = commands.add_parser(
        "import-statistics", help="import the seeded weeks' statistics (online)"
    )
    stats.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR)
    stats.add_argument("--url", default="http://127.0.0.1:8123")
    stats.add_argument("--token-file", type=Path, default=DEFAULT_TOKEN_FILE)
    stats.add_argument(
        "--wait", type=float, default=600.0, help="seconds to wait for Home Assistant"
    )
    stats.add_argument(
        "--watch-pid", type=int, default=None, help="give up when this parent is gone"
    )
    args = parser.parse_args(argv)
    config_dir: Path = args.config_dir.resolve()
    if args.command == "seed":
        count = seed(config_dir)
        print(
            f"seeded {count} past sessions"
            if count
            else "history already there: not seeded"
        )
        return 0
    history = pending_import(config_dir)
    if history is None:
        print("no seeded history with statistics to import")
        return 0
    import aiohttp  # only the online step needs it

    try:
        token = args.token_file.read_text(encoding="utf-8").strip()
        rows = asyncio.run(
            import_statistics(
                args.url, token, history, wait=args.wait, watch_pid=args.watch_pid
            )
        )
    except (HomeAssistantError, OSError, TimeoutError, aiohttp.ClientError) as err:
        print(f"statistics not imported: {err}", file=sys.stderr)
        return 1
    _write_private(
        config_dir / STATISTICS_MARKER,
        {"imported_at": datetime.now(UTC).isoformat(), "rows": rows},
    )
    print(f"imported {rows} hourly rows of statistics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
