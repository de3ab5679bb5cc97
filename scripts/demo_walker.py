#!/usr/bin/env python3
"""The demo's simulated walker: a phone on the lower back, over Sensor Logger.

Started in the background by ``scripts/demo`` (run it with the virtual
environment's Python). It waits for Home Assistant, then watches the Demo
station's session state (REST, about every 200 ms) and, while a session is
under way, streams motion to the station's webhook as Sensor Logger's HTTP Push
does on an iPhone (``accelerometer`` without gravity, ``gravity``,
``gyroscope``; 100 Hz, one message every 200 ms, timestamps = now):

* walking: the real lower-back walking of the gaitpy demo recording (a
  GENEActiv at 50 Hz, resampled to 100 Hz; its walking bouts, looped), fetched
  into ``.cache/evaluation`` with the evaluation's download helper; when that
  fails, a synthetic gait (and the log says why);
* paused (by the walker or for safety) or interrupted: standing still on the
  belt (gravity and sensor noise), so the detector keeps seeing the walker.

``input_button.demo_stumble`` and ``input_button.demo_fall`` (demo-only, in
config/configuration.yaml; their state is the time of the last press) splice a
physically modelled event (``evaluation.events``: a recovered stumble, or a
side fall after which the walker lies still until the session is resumed or
ends) into the next seconds of the stream. The station's own detector decides
what that is; the walker runs a copy of the same detector on what it sends and
logs what it expects the station to see.

Logs to ``.demo/walker.log``. Exits when the process given by ``--watch-pid``
(Home Assistant, exec'ed by scripts/demo) is gone, when the API has been
unreachable for 30 s, or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
import contextlib
from dataclasses import dataclass, field
import fcntl
import importlib.util
import json
import logging
import math
import os
from pathlib import Path
import signal
import sys
import time
from types import ModuleType
from typing import Any
import uuid

import aiohttp
import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # for the evaluation package

DEMO_DIR = REPO_ROOT / ".demo"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "evaluation"
DETECTION_DIR = REPO_ROOT / "custom_components" / "retro_walk" / "detection"

RATE_HZ = 100.0
BATCH_S = 0.2
POLL_S = 0.2
API_GONE_S = 30.0  # the API unreachable this long (after it answered): exit
START_TIMEOUT_S = 600.0  # Home Assistant must answer within this after start
MAX_BACKLOG_S = 1.0  # a longer stall is a gap, not a burst of old samples
DISCOVERY_RETRY_S = 5.0
STATS_EVERY_S = 60.0

STANDARD_GRAVITY = 9.80665
SESSION_SENSOR = "sensor.demo_station_session_state"
STUMBLE_BUTTON = "input_button.demo_stumble"
FALL_BUTTON = "input_button.demo_fall"
PHONE_OFF = "input_boolean.demo_phone_off"
STATION_NAME = "Demo station"
MOVING_STATES = frozenset({"warm_up", "forward", "backward", "cool_down"})
NOT_ACTIVE_STATES = frozenset({"idle", "finished", "unknown", "unavailable"})

# gaitpy's demo_data.csv (gaitpy 1.6.1): the bouts of steady walking, in seconds
# of the recording. Left out: putting the device on and taking it off (first
# and last 20 s), standing (54-63 s, 92-99 s, 116-121 s), the non-walking
# activity around 100-115 s (a 6.7 g knock at 112 s) and a 3.8 g spike at 32 s.
GAITPY_RATE_HZ = 50.0
GAITPY_BOUTS_S = ((34.0, 53.0), (64.0, 90.0), (123.0, 151.0))
CROSSFADE_S = 0.5  # between bouts (and the loop's end and start)

# Events: how long the spliced part lasts, and how the walker moves between
# postures (standing up after a fall, stopping or starting to walk).
EVENT_AFTER_S = {"stumble": 2.5, "side_fall": 8.0}
EVENT_LOOKBACK_S = 4.0  # events.inject takes the upright from these seconds
STUMBLE_MIN_DEG = 30.0  # a demo stumble turns the trunk at least this far
MAX_DRAWS = 50
LOGGED_PARAMS = (
    "peak_deg",
    "peak_s",
    "dip_g",
    "catch_g",
    "stop_after",
    "kick_rate",
    "support_low_g",
    "impact_s_after_onset",
    "rest_deg",
    "peak_rate",
    "max_tilt_deg",
)
WALK_RAMP_S = 0.6
GET_UP_S = 2.0
ACC_NOISE = 0.02  # m/s², standing still
GYRO_NOISE = 0.01  # rad/s
YAW_SWAY = 0.6  # rad/s: the pelvis turns to and fro about the spine …
YAW_SWAY_HZ = 0.9  # … once a stride (the recording has no gyroscope)
GRAVITY_TAU_S = 0.5  # the "gravity" the client sends: a low-pass of the total

type FloatArray = npt.NDArray[np.float64]

_LOGGER = logging.getLogger("demo_walker")


# --------------------------------------------------------------------------
# The motion: real walking, standing, lying, spliced events
# --------------------------------------------------------------------------
def _resample(acc: FloatArray, rate_in: float, rate_out: float) -> FloatArray:
    """Linear resampling of an (n, 3) signal."""
    t_in = np.arange(acc.shape[0]) / rate_in
    t_out = np.arange(int(t_in[-1] * rate_out) + 1) / rate_out
    return np.stack([np.interp(t_out, t_in, acc[:, axis]) for axis in range(3)], 1)


def _crossfade_join(parts: list[FloatArray], rate_hz: float) -> FloatArray:
    """Join walking bouts end to start (and the last to the first) smoothly."""
    overlap = int(CROSSFADE_S * rate_hz)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, overlap)))[:, None]
    joined = parts[0]
    for part in [*parts[1:], parts[0][:overlap]]:
        blended = joined[-overlap:] * (1.0 - ramp) + part[:overlap] * ramp
        joined = np.concatenate((joined[:-overlap], blended, part[overlap:]))
    # The tail now fades into the first bout's start: skip that start.
    return joined[overlap:]


def gaitpy_walk(cache: Path) -> FloatArray:
    """The gaitpy walking bouts, looped, at RATE_HZ, m/s² (fetched if missing)."""
    # Imported here: a broken or missing evaluation package means a synthetic gait.
    from evaluation import datasets

    _times, acc_g = datasets.load_gaitpy(cache)
    parts = [
        acc_g[int(start * GAITPY_RATE_HZ) : int(end * GAITPY_RATE_HZ)]
        for start, end in GAITPY_BOUTS_S
    ]
    joined = _crossfade_join(parts, GAITPY_RATE_HZ) * STANDARD_GRAVITY
    return _resample(joined, GAITPY_RATE_HZ, RATE_HZ)


def synthetic_walk(seconds: float = 60.0, seed: int = 7) -> FloatArray:
    """A plain synthetic gait (no recording): 1.8 steps/s, lower back, m/s²."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    step = 2.0 * math.pi * 1.8 * t
    stride = step / 2.0
    g = STANDARD_GRAVITY
    vertical = 0.18 * g * np.sin(step) + 0.05 * g * np.sin(2 * step + 0.5)
    forward = 0.10 * g * np.sin(step + 1.2)
    lateral = 0.07 * g * np.sin(stride + 0.3)
    noise = rng.normal(0.0, 0.03 * g, (t.shape[0], 3))
    # Same axes as the recording: y down the spine (gravity reads -1 g on y).
    # A seamless loop: 60 s hold a whole number of strides (54 at 0.9 Hz).
    return np.stack((lateral, -(g + vertical), forward), axis=1) + noise


@dataclass
class Spliced:
    """Samples of an event still to be sent, and what comes after it."""

    acc: FloatArray
    gyro: FloatArray
    rest: FloatArray | None  # a fall: the posture the walker lies in afterwards
    stops_after: bool  # a stumble after which the walker stands


@dataclass
class Motion:
    """Generates the phone's specific force and rotation rate, sample by sample."""

    walk: FloatArray  # looped walking, m/s², device frame
    rng: np.random.Generator
    cursor: int = 0
    ticks: int = 0  # samples generated, for the yaw sway's phase
    weight: float = 0.0  # how much of the walking shows: 0 standing, 1 walking
    posture: FloatArray = field(default_factory=lambda: np.zeros(3))
    lying: bool = False
    getting_up: FloatArray | None = None  # posture vectors still to go through
    spliced: Spliced | None = None
    recent_acc: FloatArray = field(default_factory=lambda: np.zeros((0, 3)))
    recent_gyro: FloatArray = field(default_factory=lambda: np.zeros((0, 3)))

    def __post_init__(self) -> None:
        """Standing upright: the recording's mean acceleration direction."""
        mean = self.walk.mean(axis=0)
        self.g_mag = float(np.linalg.norm(self.walk, axis=1).mean())
        self.upright = mean / np.linalg.norm(mean) * self.g_mag
        self.posture = self.upright.copy()

    def reset(self, *, walking: bool) -> None:
        """A new session: the walker is on the belt, upright."""
        self.weight = 1.0 if walking else 0.0
        self.posture = self.upright.copy()
        self.lying = False
        self.getting_up = None
        self.spliced = None
        self.recent_acc = np.zeros((0, 3))
        self.recent_gyro = np.zeros((0, 3))

    def take(self, count: int, *, walking: bool) -> tuple[FloatArray, FloatArray]:
        """The next ``count`` samples: (acc m/s², gyro rad/s), each (count, 3)."""
        accs, gyros = [], []
        left = count
        while left > 0:
            part = self.spliced
            if part is None:
                acc, gyro = self._base(left, walking=walking)
            else:
                n = min(left, part.acc.shape[0])
                acc, gyro = part.acc[:n], part.gyro[:n]
                part.acc, part.gyro = part.acc[n:], part.gyro[n:]
                if part.acc.shape[0] == 0:
                    self._after_event(part)
            accs.append(acc)
            gyros.append(gyro)
            left -= acc.shape[0]
        acc = np.concatenate(accs)
        gyro = np.concatenate(gyros)
        keep = int(EVENT_LOOKBACK_S * RATE_HZ)
        self.recent_acc = np.concatenate((self.recent_acc, acc))[-keep:]
        self.recent_gyro = np.concatenate((self.recent_gyro, gyro))[-keep:]
        return acc, gyro

    def _after_event(self, part: Spliced) -> None:
        self.spliced = None
        if part.rest is not None:
            # Lying where the fall ended, until the walker is to walk again.
            self.posture = part.rest / np.linalg.norm(part.rest) * self.g_mag
            self.lying = True
            self.weight = 0.0
        elif part.stops_after:
            self.weight = 0.0

    def _base(self, count: int, *, walking: bool) -> tuple[FloatArray, FloatArray]:
        """Walking, standing or lying, with smooth changes between them."""
        n_walk = self.walk.shape[0]
        index = (self.cursor + np.arange(count)) % n_walk
        self.cursor = int((self.cursor + count) % n_walk)
        dynamic = self.walk[index] - self.upright
        # Posture: lying after a fall until the walker is to walk again.
        postures = np.repeat(self.posture[None, :], count, axis=0)
        if self.lying and walking and self.getting_up is None:
            steps = int(GET_UP_S * RATE_HZ)
            frac = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, steps)))[:, None]
            path = self.posture * (1.0 - frac) + self.upright * frac
            path /= np.linalg.norm(path, axis=1)[:, None]
            self.getting_up = path * self.g_mag
            _LOGGER.info("the walker gets up")
        if self.getting_up is not None:
            m = min(count, self.getting_up.shape[0])
            postures[:m] = self.getting_up[:m]
            postures[m:] = self.upright
            self.getting_up = self.getting_up[m:]
            if self.getting_up.shape[0] == 0:
                self.getting_up = None
                self.lying = False
                self.posture = self.upright.copy()
        upright_now = not self.lying and self.getting_up is None
        target = 1.0 if walking and upright_now else 0.0
        step = (1.0 / (WALK_RAMP_S * RATE_HZ)) * (1 if target > self.weight else -1)
        weights = np.clip(self.weight + step * np.arange(1, count + 1), 0.0, 1.0)
        if target > self.weight:
            weights = np.minimum(weights, target)
        else:
            weights = np.maximum(weights, target)
        self.weight = float(weights[-1])
        acc = postures + weights[:, None] * dynamic
        acc += self.rng.normal(0.0, ACC_NOISE, acc.shape)
        gyro = self.rng.normal(0.0, GYRO_NOISE, acc.shape)
        # Rotation about the spine (device y) leaves the tilt alone; the
        # station's detector sees from it that the walker is on the move.
        phase = 2.0 * math.pi * YAW_SWAY_HZ * (self.ticks + np.arange(count)) / RATE_HZ
        self.ticks += count
        gyro[:, 1] += weights * YAW_SWAY * np.sin(phase)
        return acc, gyro

    def splice(self, kind: str, *, walking: bool) -> dict[str, float]:
        """Write a ``kind`` event into the samples from the next one on."""
        from evaluation import events

        after_s = EVENT_AFTER_S[kind]
        before, before_gyro = self.recent_acc, self.recent_gyro
        minimum = int(0.5 * RATE_HZ)
        if before.shape[0] < minimum:  # just started: the walker stood upright
            pad = minimum - before.shape[0]
            before = np.concatenate((np.repeat(self.upright[None, :], pad, 0), before))
            before_gyro = np.concatenate((np.zeros((pad, 3)), before_gyro))
        # What the walker would have done meanwhile, which the event interrupts.
        self.spliced = None
        upcoming, upcoming_gyro = self._base(
            int(after_s * RATE_HZ) + 2, walking=walking
        )
        acc = np.concatenate((before, upcoming))
        gyro = np.concatenate((before_gyro, upcoming_gyro))
        t_s = np.arange(acc.shape[0]) / RATE_HZ
        onset = before.shape[0]
        for _attempt in range(MAX_DRAWS):
            injected = events.inject(kind, self.rng, t_s, acc, gyro, onset, after_s)
            # The model's gentlest stumbles (trunk excursion 25-30°) hardly
            # look like one; the demo shows a clear stumble.
            if (
                kind != "stumble"
                or injected.params.get("peak_deg", STUMBLE_MIN_DEG) >= STUMBLE_MIN_DEG
            ):
                break
        event_acc = injected.acc[onset:]
        rest = event_acc[-int(0.5 * RATE_HZ) :].mean(axis=0) if injected.falls else None
        self.spliced = Spliced(
            acc=event_acc,
            gyro=injected.gyro[onset:],
            rest=rest,
            stops_after=bool(injected.params.get("stop_after", 0.0)),
        )
        return injected.params


class GravityFilter:
    """What an iPhone reports as gravity: a low-pass of the total acceleration."""

    def __init__(self) -> None:
        """Start without a state (the first sample sets it)."""
        self.state: FloatArray | None = None

    def apply(self, acc: FloatArray) -> FloatArray:
        """Gravity estimates for ``acc`` (state carried over)."""
        alpha = 1.0 / (1.0 + GRAVITY_TAU_S * RATE_HZ)
        out = np.empty_like(acc)
        state = acc[0].copy() if self.state is None else self.state
        for i in range(acc.shape[0]):
            state = state + alpha * (acc[i] - state)
            out[i] = state
        self.state = state
        return out


def sensor_logger_message(
    message_id: int,
    session_id: str,
    times_ns: list[int],
    acc: FloatArray,
    gyro: FloatArray,
    gravity: FloatArray,
) -> dict[str, Any]:
    """One Sensor Logger HTTP Push message, iOS style (CoreMotion timestamps)."""
    linear = acc - gravity
    payload: list[dict[str, Any]] = []
    for i, t in enumerate(times_ns):
        for name, values in (
            ("accelerometer", linear[i]),
            ("gravity", gravity[i]),
            ("gyroscope", gyro[i]),
        ):
            x, y, z = (round(float(v), 5) for v in values)
            payload.append(
                {"name": name, "time": t, "values": {"x": x, "y": y, "z": z}}
            )
    return {
        "messageId": message_id,
        "sessionId": session_id,
        "deviceId": "retro-walk-demo-walker",
        "payload": payload,
    }


def load_detection() -> ModuleType | None:
    """The integration's detection package, without the integration around it.

    ``custom_components/retro_walk/detection`` imports no Home Assistant code;
    loading it on its own spares the walker Home Assistant's import.
    """
    try:
        spec = importlib.util.spec_from_file_location(
            "retro_walk_detection",
            DETECTION_DIR / "__init__.py",
            submodule_search_locations=[str(DETECTION_DIR)],
        )
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    except Exception:
        _LOGGER.warning("no local copy of the detector", exc_info=True)
        return None
    return module


# --------------------------------------------------------------------------
# Home Assistant
# --------------------------------------------------------------------------
class ApiError(Exception):
    """Home Assistant did not answer as expected."""


@dataclass
class Station:
    """What the walker knows about Home Assistant."""

    session_entity: str | None = None
    state: str | None = None
    buttons: dict[str, str | None] = field(default_factory=dict)
    phone_off: bool = False  # the walker's phone stopped recording (demo toggle)
    last_ok: float | None = None  # time.monotonic() of the last answer
    started: float = field(default_factory=time.monotonic)

    @property
    def active(self) -> bool:
        """A session is under way (the walker is on the belt)."""
        return self.state is not None and self.state not in NOT_ACTIVE_STATES

    @property
    def walking(self) -> bool:
        """The belt runs: walk (otherwise stand)."""
        return self.state in MOVING_STATES


class Walker:
    """Polls the station, streams motion, splices events on button presses."""

    def __init__(self, args: argparse.Namespace, walk: FloatArray, source: str) -> None:
        """Prepare; nothing runs before ``run``."""
        self.url = args.url.rstrip("/")
        self.token_file: Path = args.token_file
        self.webhook_file: Path = args.webhook_id_file
        self.watch_pid: int | None = args.watch_pid
        self.token = ""
        self.webhook_id = ""
        self.source = source
        self.motion = Motion(walk=walk, rng=np.random.default_rng())
        self.station = Station()
        self.gravity = GravityFilter()
        self.detection = load_detection()
        self.detector: Any = None
        self.pending: deque[tuple[str, int]] = deque()  # (kind, seen at, epoch ns)
        self.stop = asyncio.Event()
        self.exit_reason = ""
        # Streaming state.
        self.streaming = False
        self.session_id = ""
        self.t0_ns = 0
        self.sent_samples = 0
        self.message_id = 0
        self.stats = {"messages": 0, "failed": 0, "rejected": 0, "gaps": 0}
        self._warned: set[str] = set()
        self.http: aiohttp.ClientSession | None = None

    # -- files ------------------------------------------------------------
    def _read_secrets(self) -> None:
        self.token = self.token_file.read_text(encoding="utf-8").strip()
        self.webhook_id = self.webhook_file.read_text(encoding="utf-8").strip()

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _LOGGER.warning(message, *args)

    # -- REST ---------------------------------------------------------------
    async def _get(self, path: str) -> Any:
        assert self.http is not None  # noqa: S101 - set in run()
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.get(self.url + path, headers=headers) as resp:
            if resp.status == 401:  # noqa: PLR2004
                self._read_secrets()  # a new token (scripts/demo --reset)
                raise ApiError("401 unauthorized")
            if resp.status == 404:  # noqa: PLR2004
                return None
            if resp.status != 200:  # noqa: PLR2004
                raise ApiError(f"{resp.status} on {path}")
            return await resp.json()

    async def _post_json(self, path: str, body: Any) -> Any:
        assert self.http is not None  # noqa: S101
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.post(self.url + path, json=body, headers=headers) as resp:
            if resp.status != 200:  # noqa: PLR2004
                raise ApiError(f"{resp.status} on {path}")
            return await resp.text()

    async def _discover(self) -> str | None:
        """The Demo station's session state sensor (found by its integration)."""
        template = (
            "[{% for e in integration_entities('retro_walk') "
            "if e.startswith('sensor.') and 'session_state' in e %}"
            "{{ [e, device_attr(e, 'name')] | tojson }}{{ ',' if not loop.last }}"
            "{% endfor %}]"
        )
        text = await self._post_json("/api/template", {"template": template})
        found = [(str(item[0]), item[1]) for item in json.loads(text)]
        if not found:
            return None
        if any(entity_id == SESSION_SENSOR for entity_id, _name in found):
            return SESSION_SENSOR
        named = [entity_id for entity_id, name in found if name == STATION_NAME]
        return (named or [found[0][0]])[0]

    async def _poll_once(self) -> None:
        station = self.station
        if station.session_entity is None:
            station.session_entity = await self._discover()
            if station.session_entity is None:
                self._warn_once("no_station", "no retro_walk session state sensor yet")
                return
            _LOGGER.info("watching %s", station.session_entity)
        session, stumble, fall, phone_off = await asyncio.gather(
            self._get(f"/api/states/{station.session_entity}"),
            self._get(f"/api/states/{STUMBLE_BUTTON}"),
            self._get(f"/api/states/{FALL_BUTTON}"),
            self._get(f"/api/states/{PHONE_OFF}"),
        )
        off = phone_off is not None and phone_off["state"] == "on"
        if off != station.phone_off:
            _LOGGER.info(
                "%s: the phone %s",
                PHONE_OFF,
                "stops recording" if off else "records again (a new recording)",
            )
            station.phone_off = off
        if session is None:
            _LOGGER.warning("%s is gone; looking again", station.session_entity)
            station.session_entity = None
            return
        state = str(session["state"])
        if state != station.state:
            _LOGGER.info("session state: %s -> %s", station.state, state)
            station.state = state
        for entity_id, answer, kind in (
            (STUMBLE_BUTTON, stumble, "stumble"),
            (FALL_BUTTON, fall, "side_fall"),
        ):
            if answer is None:
                self._warn_once(
                    entity_id,
                    "%s does not exist (config/configuration.yaml)",
                    entity_id,
                )
                continue
            pressed = str(answer["state"])
            before = station.buttons.get(entity_id)
            station.buttons[entity_id] = pressed
            if before is None or pressed == before:
                continue  # the first look only learns the last press
            if station.active:
                _LOGGER.info("%s pressed (%s): %s next", entity_id, pressed, kind)
                self.pending.append((kind, time.time_ns()))
            else:
                _LOGGER.info("%s pressed, but no session runs: ignored", entity_id)

    async def poll(self) -> None:
        """Follow the session state and the demo buttons."""
        station = self.station
        failing_since: float | None = None
        _LOGGER.info("waiting for Home Assistant at %s", self.url)
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                await self._poll_once()
            except (
                aiohttp.ClientError,
                TimeoutError,
                ApiError,
                OSError,
                ValueError,
            ) as err:
                now = time.monotonic()
                if failing_since is None:
                    failing_since = now
                    if station.last_ok is not None:
                        _LOGGER.warning("Home Assistant does not answer: %s", err)
                if station.last_ok is not None and now - station.last_ok > API_GONE_S:
                    self._quit(f"the API has not answered for {API_GONE_S:.0f} s")
                elif (
                    station.last_ok is None and now - station.started > START_TIMEOUT_S
                ):
                    self._quit(
                        f"Home Assistant did not answer in {START_TIMEOUT_S:.0f} s"
                    )
                if station.state is not None and now - failing_since > 2.0:  # noqa: PLR2004
                    station.state = None  # stop streaming into the void
            else:
                if station.last_ok is None:
                    _LOGGER.info(
                        "Home Assistant answers (after %.1f s)",
                        time.monotonic() - station.started,
                    )
                elif failing_since is not None:
                    _LOGGER.info("Home Assistant answers again")
                failing_since = None
                station.last_ok = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stop.wait(), max(0.0, POLL_S - (time.monotonic() - began))
                )

    # -- streaming -----------------------------------------------------------
    def _begin_stream(self) -> None:
        walking = self.station.walking
        self.motion.reset(walking=walking)
        self.gravity = GravityFilter()
        self.session_id = str(uuid.uuid4())
        self.t0_ns = time.time_ns()
        self.sent_samples = 0
        self.streaming = True
        self.pending.clear()
        self.stats = dict.fromkeys(self.stats, 0)
        if self.detection is not None:
            self.detector = self.detection.Detector()
        _LOGGER.info(
            "session under way (%s): streaming %s to the webhook "
            "as Sensor Logger session %s",
            self.station.state,
            self.source,
            self.session_id,
        )

    def _end_stream(self) -> None:
        self.streaming = False
        _LOGGER.info(
            "stream ends (session %s): stopped streaming after %.0f s "
            "(%d messages, %d failed, %d rejected, %d gaps)",
            self.station.state,
            self.sent_samples / RATE_HZ,
            self.stats["messages"],
            self.stats["failed"],
            self.stats["rejected"],
            self.stats["gaps"],
        )

    def _splice(self, kind: str, onset_sample: int) -> None:
        walking = self.station.walking
        params = self.motion.splice(kind, walking=walking)
        shown = {key: round(params[key], 3) for key in LOGGED_PARAMS if key in params}
        _LOGGER.info(
            "spliced a %s into the stream at +%.2f s (the walker was %s): %s",
            kind.replace("_", " "),
            onset_sample / RATE_HZ,
            "walking" if walking else "standing",
            shown,
        )

    async def stream(self) -> None:
        """Send one message every BATCH_S while a session is under way."""
        next_tick = time.monotonic()
        last_stats = time.monotonic()
        while not self.stop.is_set():
            active = self.station.active and not self.station.phone_off
            if active and not self.streaming:
                self._begin_stream()
            elif not active and self.streaming:
                self._end_stream()
            if self.streaming:
                await self._send_due()
            if not self.streaming:
                last_stats = time.monotonic()
            elif time.monotonic() - last_stats > STATS_EVERY_S:
                last_stats = time.monotonic()
                _LOGGER.info(
                    "streaming: %d messages, %d failed, %d rejected, %d gaps",
                    self.stats["messages"],
                    self.stats["failed"],
                    self.stats["rejected"],
                    self.stats["gaps"],
                )
            next_tick += BATCH_S
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick = time.monotonic()
                delay = 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), delay)

    async def _send_due(self) -> None:
        """Send the samples due by now; a press starts its event at its time."""
        period_ns = int(1e9 / RATE_HZ)
        due = (time.time_ns() - self.t0_ns) // period_ns + 1
        count = int(due - self.sent_samples)
        if count <= 0:
            return
        if count > MAX_BACKLOG_S * RATE_HZ:
            # Stalled (suspended, overloaded): leave a gap, as a phone would.
            skipped = count - int(BATCH_S * RATE_HZ)
            self.sent_samples += skipped
            count -= skipped
            self.stats["gaps"] += 1
            _LOGGER.warning("stalled: %.1f s of samples skipped", skipped / RATE_HZ)
        walking = self.station.walking
        accs, gyros = [], []
        produced = 0
        while self.pending:
            kind, seen_ns = self.pending.popleft()
            # The event starts with the first sample after the press was seen.
            before = (seen_ns - self.t0_ns) // period_ns + 1 - self.sent_samples
            before = min(count, max(0, int(before)))
            if before > produced:
                acc, gyro = self.motion.take(before - produced, walking=walking)
                accs.append(acc)
                gyros.append(gyro)
                produced = before
            self._splice(kind, self.sent_samples + produced)
        if count > produced:
            acc, gyro = self.motion.take(count - produced, walking=walking)
            accs.append(acc)
            gyros.append(gyro)
        acc, gyro = np.concatenate(accs), np.concatenate(gyros)
        times = [self.t0_ns + (self.sent_samples + i) * period_ns for i in range(count)]
        self.sent_samples += count
        gravity = self.gravity.apply(acc)
        message = sensor_logger_message(
            self.message_id, self.session_id, times, acc, gyro, gravity
        )
        self.message_id += 1
        self._mirror(message)
        await self._post_webhook(message)

    def _mirror(self, message: dict[str, Any]) -> None:
        """Run the local copy of the detector on what is sent; log detections."""
        if self.detector is None or self.detection is None:
            return
        try:
            batch = self.detection.parse_message(message)
            found = self.detector.process(batch)
        except Exception:
            _LOGGER.exception("local detector failed; going on without it")
            self.detector = None
            return
        for detection in found:
            _LOGGER.info(
                "local detector copy: tier %d %s at +%.2f s of the stream, features %s",
                int(detection.tier),
                detection.kind,
                (detection.time_ns - self.t0_ns) / 1e9,
                detection.features,
            )

    async def _post_webhook(self, message: dict[str, Any]) -> None:
        assert self.http is not None  # noqa: S101
        try:
            async with self.http.post(
                f"{self.url}/api/webhook/{self.webhook_id}", json=message
            ) as resp:
                text = await resp.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            self.stats["failed"] += 1
            self._warn_once("post", "could not post to the webhook: %s", err)
            return
        self.stats["messages"] += 1
        if resp.status != 200:  # noqa: PLR2004
            self.stats["rejected"] += 1
            self._warn_once(
                f"status{resp.status}",
                "the webhook answered %s: %s",
                resp.status,
                text[:200],
            )
        elif not text:
            # Home Assistant answers 200 with an empty body to unknown webhooks.
            self.stats["rejected"] += 1
            self._read_secrets()
            self._warn_once(
                "unknown",
                "the webhook is not registered: is %s the Demo station's webhook id "
                "(its options)? scripts/demo writes it",
                self.webhook_file,
            )

    # -- life cycle ---------------------------------------------------------
    def _quit(self, reason: str) -> None:
        if not self.stop.is_set():
            self.exit_reason = reason
            self.stop.set()

    async def watch_parent(self) -> None:
        """Exit with Home Assistant (scripts/demo exec's it in its own process)."""
        if self.watch_pid is None:
            return
        while not self.stop.is_set():
            if os.getppid() != self.watch_pid:
                self._quit(f"process {self.watch_pid} (Home Assistant) has exited")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 1.0)

    async def run(self) -> str:
        """Run until told to stop; return why."""
        self._read_secrets()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self._quit, f"signal {sig.name}")
        timeout = aiohttp.ClientTimeout(total=5.0)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            self.http = http
            tasks = [
                asyncio.create_task(self.poll()),
                asyncio.create_task(self.stream()),
                asyncio.create_task(self.watch_parent()),
            ]
            await self.stop.wait()
            if self.streaming:
                self._end_stream()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.exit_reason


# --------------------------------------------------------------------------
# Start
# --------------------------------------------------------------------------
def load_walk(cache: Path) -> tuple[FloatArray, str]:
    """The walking to stream, and what it is."""
    os.environ.setdefault("PIP_TIMEOUT", "15")
    os.environ.setdefault("PIP_RETRIES", "1")
    try:
        walk = gaitpy_walk(cache)
    except Exception as err:  # noqa: BLE001 - any failure: the synthetic gait
        _LOGGER.warning(
            "no gaitpy recording (%s: %s); streaming a synthetic gait instead",
            type(err).__name__,
            err,
        )
        return synthetic_walk(), "a synthetic gait"
    return walk, (
        f"real walking (gaitpy demo recording, {walk.shape[0] / RATE_HZ:.0f} s loop "
        f"at {RATE_HZ:.0f} Hz)"
    )


def _lock(path: Path) -> Any:
    """Hold an exclusive lock for the walker's life (one walker per demo)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def main(argv: list[str] | None = None) -> int:
    """Run from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--token-file", type=Path, default=DEMO_DIR / "token")
    parser.add_argument("--webhook-id-file", type=Path, default=DEMO_DIR / "webhook_id")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--log", type=Path, default=DEMO_DIR / "walker.log")
    parser.add_argument(
        "--watch-pid",
        type=int,
        default=None,
        help="exit when this process (the parent: Home Assistant) is gone",
    )
    args = parser.parse_args(argv)

    args.log.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(args.log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    _LOGGER.addHandler(handler)
    _LOGGER.setLevel(logging.INFO)
    _LOGGER.propagate = False

    lock = _lock(args.log.with_name("walker.lock"))
    if lock is None:
        _LOGGER.warning("another walker runs for this demo; this one exits")
        return 0
    _LOGGER.info("walker started (pid %d), Home Assistant at %s", os.getpid(), args.url)
    walk, source = load_walk(args.cache)
    _LOGGER.info("motion: %s", source)
    reason = asyncio.run(Walker(args, walk, source).run())
    _LOGGER.info("walker exits: %s", reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
