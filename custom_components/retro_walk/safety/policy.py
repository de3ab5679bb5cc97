"""The safety decisions of one station (no Home Assistant import).

``SafetyPolicy.decide(event, now)`` takes one input and the time (seconds on
a monotonic clock) and returns the actions to take, in order: the belt
command first, then what is shown, then who is told. The Home Assistant side
(``runner.py``) carries them out and feeds the policy.

The response, by tier (``detection.Tier``):

1. *Pause now*: the belt is paused. Raised by the detector, by the station
   when the motion stream goes silent under a running belt, when the walker
   leaves the running belt (after a debounce) or comes too close to its rear.
2. *Confirmed fall*: the belt is stopped and the partners are alerted; the
   alert is repeated to the partners and the escalation targets every
   acknowledgement window until somebody answers (at most
   ``max_escalations`` times). "Need help" goes to the escalation targets at
   once. Raised by the detector and by a radar's fall sensor.
3. *Unsteady*: the belt is slowed one step and the walker prompted; while the
   belt is halted (after a slip or a fall) it is only noted and shown.

Without a belt (hallway, outdoor) every tier is noted and alerts instead. A
belt that does not confirm its standstill alerts too. While an alert waits for
an answer, no new alert is sent: the escalation already repeats it.

Time: the policy keeps its own clock, which only moves forward. A time that is
not finite, or earlier than the clock, is taken as the clock (one bad input
cannot move a decision backwards); a time far ahead moves it ahead, and every
deadline passed by then is handled at once. It starts at 0 (monotonic clocks
do not run negative). Timers are deadlines on that
clock: ``ArmTimer`` asks the host to call back with ``TimerFired`` after the
given seconds. A ``TimerFired`` whose token matches the armed timer moves the
clock to the deadline (the host's scheduler has reached it); any other is
ignored. ``decide`` never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
import math
from typing import Any, Final
import uuid

from custom_components.retro_walk.const import (
    KIND_LEFT_BELT,
    KIND_RADAR_FALL,
    KIND_STREAM_LOST,
    KIND_TOO_CLOSE,
)
from custom_components.retro_walk.detection import Tier

# Unanswered alerts are repeated (to the partners and the escalation targets)
# at most this many times.
MAX_ESCALATIONS: Final = 3
# The instability binary sensor stays on this long after a detection (s).
UNSAFE_HOLD: Final = 30.0
# The kind of the alert raised for a belt that was not seen at rest.
KIND_DID_NOT_STOP: Final = "treadmill_did_not_stop"
# Due timers handled per decision at most (they cannot re-arm in the past;
# this only bounds a misconfigured zero-second window).
_MAX_EXPIRIES: Final = 64


class Timer(StrEnum):
    """The policy's timers; each is armed at most once at a time."""

    STREAM = "stream"  # the motion stream's silence watchdog
    LEFT_BELT = "left_belt"  # the walker missing from the running belt
    UNSAFE = "unsafe"  # how long the instability stays shown
    ESCALATION = "escalation"  # the pending alert's acknowledgement window


class Answer(StrEnum):
    """What a partner answers to an alert."""

    OK = "ok"
    HELP = "help"


@dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    """A station's safety settings (its options and its kind of belt)."""

    has_belt: bool
    watches_stream: bool  # a motion stream is configured and there is a belt
    has_presence_sensors: bool = False
    stream_timeout: float = 1.0
    start_grace: float = 10.0  # after a session's belt starts, for its first message
    left_belt_debounce: float = 0.5
    min_clearance_cm: float = 30.0
    ack_timeout: float = 60.0
    max_escalations: int = MAX_ESCALATIONS
    unsafe_hold: float = UNSAFE_HOLD


# Inputs -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StationState:
    """The session and the belt, as the station last published them."""

    session_id: str | None  # None unless a session is under way
    active: bool = False  # a session is under way (moving or halted)
    moving: bool = False  # the walker should be walking
    belt_running: bool = False  # moving, and the belt is seen moving
    paused_by_safety: bool = False


@dataclass(frozen=True, kw_only=True)
class Detected:
    """The detector found an instability."""

    tier: int
    kind: str
    features: Mapping[str, float] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class SamplesArrived:
    """A motion message was accepted."""


@dataclass(frozen=True)
class PresenceReading:
    """Whether any presence sensor sees the walker on the belt."""

    present: bool


@dataclass(frozen=True)
class ClearanceReading:
    """The distance to the rear end of the deck (cm), None when unknown."""

    centimetres: float | None


@dataclass(frozen=True)
class RadarReading:
    """Whether the fall sensor reports a fall."""

    fall: bool


@dataclass(frozen=True)
class BeltDidNotStop:
    """The belt was not seen at rest in time after a pause or stop."""


@dataclass(frozen=True)
class AlertAnswer:
    """A partner answered: from a phone (with the alert's id) or a button."""

    answer: Answer
    alert_id: str | None = None  # None: whichever alert is pending


@dataclass(frozen=True)
class TimerFired:
    """The host's timer armed by ``ArmTimer(timer, …, token)`` went off."""

    timer: Timer
    token: int


@dataclass(frozen=True)
class Tick:
    """Time passes (deadlines that are due are handled)."""


type Event = (
    StationState
    | Detected
    | SamplesArrived
    | PresenceReading
    | ClearanceReading
    | RadarReading
    | BeltDidNotStop
    | AlertAnswer
    | TimerFired
    | Tick
)


# Actions ------------------------------------------------------------------


@dataclass(frozen=True)
class PauseBelt:
    """Pause the belt and the session for safety (``kind`` is the reason)."""

    kind: str
    tier: int


@dataclass(frozen=True)
class StopBelt:
    """Stop the belt and halt the session for safety."""

    kind: str
    tier: int


@dataclass(frozen=True)
class SlowBelt:
    """Slow the belt one step (an unsteady walker)."""


@dataclass(frozen=True)
class Note:
    """Record a safety event with the session without halting it."""

    kind: str
    tier: int


@dataclass(frozen=True)
class ShowInstability:
    """Show the detection (event entity, instability sensor)."""

    tier: int
    kind: str
    features: Mapping[str, float] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class AlertPartner:
    """Alert the partners, with answer buttons for ``alert_id``."""

    alert_id: str
    tier: int
    kind: str


@dataclass(frozen=True)
class Escalate:
    """Nobody answered: tell the partners and the escalation targets again."""

    alert_id: str
    escalation: int  # 1, 2, …
    minutes: float  # since the alert was raised


@dataclass(frozen=True)
class CallForHelp:
    """Help was requested: tell the escalation targets at once."""

    alert_id: str


@dataclass(frozen=True)
class DismissAlert:
    """Somebody answered "I'm OK": take the alert down."""

    alert_id: str


@dataclass(frozen=True)
class PromptWalker:
    """Tell the walker the belt was slowed."""


@dataclass(frozen=True)
class ArmTimer:
    """Call back with ``TimerFired(timer, token)`` in ``seconds``.

    Replaces the timer of that name if one is armed.
    """

    timer: Timer
    seconds: float
    token: int


@dataclass(frozen=True)
class CancelTimer:
    """Forget the timer of that name."""

    timer: Timer


@dataclass(frozen=True)
class Refresh:
    """What the entities show of the policy changed (instability, alert)."""


type Action = (
    PauseBelt
    | StopBelt
    | SlowBelt
    | Note
    | ShowInstability
    | AlertPartner
    | Escalate
    | CallForHelp
    | DismissAlert
    | PromptWalker
    | ArmTimer
    | CancelTimer
    | Refresh
)


# State --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Alert:
    """A partner alert: raised at ``created`` (policy clock), maybe answered."""

    alert_id: str
    tier: int
    kind: str
    created: float
    escalations: int = 0
    answer: Answer | None = None

    @property
    def pending(self) -> bool:
        """Whether it waits for an answer."""
        return self.answer is None


@dataclass(frozen=True)
class _Armed:
    deadline: float
    token: int


def _new_alert_id() -> str:
    return uuid.uuid4().hex[:12]


def _seconds(value: float) -> float:
    """A delay: finite and not negative (a broken setting fires at once)."""
    return value if math.isfinite(value) and value > 0 else 0.0


class SafetyPolicy:
    """Turns a station's inputs into the safety response (see the module)."""

    def __init__(
        self, config: PolicyConfig, *, new_alert_id: Callable[[], str] | None = None
    ) -> None:
        """Start with nothing under way."""
        self.config = config
        self._new_alert_id = new_alert_id or _new_alert_id
        self._clock = 0.0
        self._timers: dict[Timer, _Armed] = {}
        self._tokens = 0
        # The station as last seen.
        self._session_id: str | None = None
        self._active = False
        self._moving = False
        self._belt_running = False
        self._paused_by_safety = False
        # The stream of the session under way.
        self._session_started = 0.0
        self._last_sample: float | None = None
        # Sensors as last read.
        self._present = True
        self._clearance: float | None = None
        self._radar: bool | None = None
        self.alert: Alert | None = None
        self.last_detection: dict[str, Any] | None = None

    # What the entities show ---------------------------------------------

    @property
    def now(self) -> float:
        """The policy's clock: the latest good time seen, 0 at first."""
        return self._clock

    @property
    def unsafe(self) -> bool:
        """Whether the walker was unstable lately (or is halted for it)."""
        return self._paused_by_safety or Timer.UNSAFE in self._timers

    @property
    def alert_pending(self) -> bool:
        """Whether an alert waits for an answer."""
        return self.alert is not None and self.alert.pending

    def deadline(self, timer: Timer) -> float | None:
        """When ``timer`` is due on the policy's clock, None when not armed."""
        armed = self._timers.get(timer)
        return None if armed is None else armed.deadline

    # Deciding -------------------------------------------------------------

    def decide(self, event: Event, now: float) -> list[Action]:
        """The actions that ``event`` at ``now`` calls for, in order."""
        actions: list[Action] = []
        self._advance(now)
        if isinstance(event, TimerFired):
            armed = self._timers.get(event.timer)
            if armed is not None and armed.token == event.token:
                self._advance(armed.deadline)
                self._expire(actions, fired=armed)
        self._expire(actions)
        self._handle(event, actions)
        return actions

    def _handle(self, event: Event, actions: list[Action]) -> None:
        match event:
            case StationState():
                self._station(event, actions)
            case Detected():
                self._raise(event.tier, event.kind, dict(event.features), actions)
            case SamplesArrived():
                self._samples(actions)
            case PresenceReading():
                self._presence_reading(event, actions)
            case ClearanceReading():
                self._clearance_reading(event.centimetres, actions)
            case RadarReading():
                self._radar_reading(event, actions)
            case BeltDidNotStop():
                self._alert(Tier.PAUSE_NOW, KIND_DID_NOT_STOP, actions)
            case AlertAnswer():
                self._answer(event, actions)
            case TimerFired() | Tick():
                pass

    def _advance(self, now: float) -> None:
        if not isinstance(now, (int, float)) or not math.isfinite(now):
            return
        if now > self._clock:
            self._clock = float(now)

    # Timers -----------------------------------------------------------------

    def _arm(self, timer: Timer, seconds: float, actions: list[Action]) -> None:
        seconds = _seconds(seconds)
        self._tokens += 1
        self._timers[timer] = _Armed(self.now + seconds, self._tokens)
        actions.append(ArmTimer(timer, seconds, self._tokens))

    def _cancel(self, timer: Timer, actions: list[Action]) -> None:
        if self._timers.pop(timer, None) is not None:
            actions.append(CancelTimer(timer))

    def _expire(self, actions: list[Action], fired: _Armed | None = None) -> None:
        """Handle every timer that is due, earliest first.

        ``fired``: the one whose host timer went off; the others are due
        before the host's timers went off, which must then not.
        """
        for _ in range(_MAX_EXPIRIES):
            due = [
                (armed.deadline, armed.token, timer)
                for timer, armed in self._timers.items()
                if armed.deadline <= self.now
            ]
            if not due:
                return
            _, token, timer = min(due)
            del self._timers[timer]
            if fired is None or token != fired.token:
                actions.append(CancelTimer(timer))
            self._timer_due(timer, actions)

    def _timer_due(self, timer: Timer, actions: list[Action]) -> None:
        match timer:
            case Timer.STREAM:
                if self._moving and self.config.watches_stream:
                    self._stream_lost(actions)
            case Timer.LEFT_BELT:
                if self._belt_running:
                    self._raise(Tier.PAUSE_NOW, KIND_LEFT_BELT, {}, actions)
            case Timer.UNSAFE:
                actions.append(Refresh())
            case Timer.ESCALATION:
                self._escalate(actions)

    # The station -------------------------------------------------------------

    def _station(self, state: StationState, actions: list[Action]) -> None:
        session_id = state.session_id if state.active else None
        if session_id is not None and session_id != self._session_id:
            # A new session: its stream starts now.
            self._session_started = self.now
            self._last_sample = None
        self._session_id = session_id
        self._active = bool(state.active)
        self._belt_running = bool(state.belt_running)
        self._paused_by_safety = bool(state.paused_by_safety)
        moving = bool(state.moving)
        if moving != self._moving:
            self._moving = moving
            if moving and self.config.watches_stream:
                # The phone gets time to begin a session's stream; once it
                # has, a belt that runs again (after a pause) gets no more
                # than a running one: a stream that died during the pause
                # must not leave it unwatched for the grace.
                started = self._last_sample is not None
                grace = (
                    self.config.stream_timeout if started else self.config.start_grace
                )
                self._arm(Timer.STREAM, grace, actions)
            elif not moving:
                self._cancel(Timer.STREAM, actions)
        self._check_presence(actions)

    # The motion stream --------------------------------------------------------

    def _samples(self, actions: list[Action]) -> None:
        if self._session_id is not None:
            self._last_sample = self.now
        if self._moving and self.config.watches_stream:
            self._arm(Timer.STREAM, self.config.stream_timeout, actions)

    def silence(self) -> float:
        """Seconds without motion in this session (since its start if none came)."""
        since = (
            self._session_started if self._last_sample is None else self._last_sample
        )
        return max(self.now - since, 0.0)

    def _stream_lost(self, actions: list[Action]) -> None:
        silence = self.silence()
        features = {"silence_s": round(silence, 2)} if math.isfinite(silence) else {}
        self._raise(Tier.PAUSE_NOW, KIND_STREAM_LOST, features, actions)

    # Sensors ------------------------------------------------------------------

    def _check_presence(self, actions: list[Action]) -> None:
        absent = (
            self.config.has_presence_sensors
            and self._belt_running
            and not self._present
        )
        if absent and Timer.LEFT_BELT not in self._timers:
            self._arm(Timer.LEFT_BELT, self.config.left_belt_debounce, actions)
        elif not absent:
            self._cancel(Timer.LEFT_BELT, actions)

    def _presence_reading(self, event: PresenceReading, actions: list[Action]) -> None:
        self._present = bool(event.present)
        if self._active:
            self._check_presence(actions)

    def _radar_reading(self, event: RadarReading, actions: list[Action]) -> None:
        before, self._radar = self._radar, bool(event.fall)
        if self._active and self._radar and before is not True:
            self._raise(Tier.CONFIRMED_FALL, KIND_RADAR_FALL, {}, actions)

    def _clearance_reading(self, value: float | None, actions: list[Action]) -> None:
        now_cm = (
            float(value)
            if isinstance(value, (int, float)) and math.isfinite(value)
            else None
        )
        before, self._clearance = self._clearance, now_cm
        limit = self.config.min_clearance_cm
        if (
            self._active
            and now_cm is not None
            and now_cm < limit
            and (before is None or before >= limit)
            and self._belt_running
        ):
            self._raise(
                Tier.PAUSE_NOW,
                KIND_TOO_CLOSE,
                {"clearance_cm": round(now_cm, 1)},
                actions,
            )

    # The response -------------------------------------------------------------

    def _raise(
        self, tier: int, kind: str, features: dict[str, float], actions: list[Action]
    ) -> None:
        """Respond to an instability of ``tier`` (the belt command first)."""
        has_belt = self.config.has_belt
        if tier == Tier.PAUSE_NOW and has_belt:
            actions.append(PauseBelt(kind, tier))
        elif tier == Tier.CONFIRMED_FALL and has_belt:
            actions.append(StopBelt(kind, tier))
        elif tier == Tier.UNSTEADY and has_belt:
            actions.append(Note(kind, tier))
            if not self._moving:
                # Halted (after a slip or a fall): no belt to slow, no prompt.
                self._show(tier, kind, features, actions)
                return
            actions.append(SlowBelt())
        else:
            # No belt to halt (hallway, outdoor): people must know instead.
            actions.append(Note(kind, tier))
        self._show(tier, kind, features, actions)
        if tier == Tier.CONFIRMED_FALL or not has_belt:
            self._alert(tier, kind, actions)
        elif tier == Tier.UNSTEADY:
            actions.append(PromptWalker())

    def _show(
        self, tier: int, kind: str, features: dict[str, float], actions: list[Action]
    ) -> None:
        self.last_detection = {"tier": tier, "kind": kind, "features": features}
        self._arm(Timer.UNSAFE, self.config.unsafe_hold, actions)
        actions.append(ShowInstability(tier, kind, features))

    # Partner alerts -----------------------------------------------------------

    def _alert(self, tier: int, kind: str, actions: list[Action]) -> None:
        """Raise an alert unless one waits for an answer (it is being repeated)."""
        if self.alert_pending:
            return
        alert = Alert(
            alert_id=self._new_alert_id(), tier=tier, kind=kind, created=self.now
        )
        self.alert = alert
        actions.append(AlertPartner(alert.alert_id, tier, kind))
        if self.config.max_escalations > 0:
            self._arm(Timer.ESCALATION, self.config.ack_timeout, actions)
        actions.append(Refresh())

    def _escalate(self, actions: list[Action]) -> None:
        alert = self.alert
        if alert is None or not alert.pending:
            return
        escalations = alert.escalations + 1
        self.alert = replace(alert, escalations=escalations)
        actions.append(
            Escalate(alert.alert_id, escalations, (self.now - alert.created) / 60)
        )
        if escalations < self.config.max_escalations:
            self._arm(Timer.ESCALATION, self.config.ack_timeout, actions)
        actions.append(Refresh())

    def _answer(self, event: AlertAnswer, actions: list[Action]) -> None:
        alert = self.alert
        if (
            alert is None
            or not alert.pending
            or (event.alert_id is not None and event.alert_id != alert.alert_id)
            or event.answer not in (Answer.OK, Answer.HELP)
        ):
            return
        answer = Answer(event.answer)
        self.alert = replace(alert, answer=answer)
        self._cancel(Timer.ESCALATION, actions)
        if answer is Answer.HELP:
            actions.append(CallForHelp(alert.alert_id))
        else:
            actions.append(DismissAlert(alert.alert_id))
        actions.append(Refresh())
