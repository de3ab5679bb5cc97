"""The safety response's Home Assistant side: inputs in, actions out.

``SafetyRunner`` listens to the station's motion input, its sensors, the
station itself and the partners' phones, turns each into an input of the
pure ``SafetyPolicy`` (``policy.py``) with the time, and carries out the
actions it returns: belt commands and session notes on the station, timers,
notifications. It decides nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
import logging
import time
from typing import Any, Protocol

from custom_components.retro_walk.const import (
    ACTION_HELP,
    ACTION_OK,
    CONF_ACK_TIMEOUT,
    CONF_CLEARANCE_SENSOR,
    CONF_FALL_SENSOR,
    CONF_MIN_CLEARANCE,
    CONF_PRESENCE_SENSORS,
    CONF_STREAM_TIMEOUT,
    DEFAULT_ACK_TIMEOUT,
    DEFAULT_MIN_CLEARANCE,
    DEFAULT_STREAM_TIMEOUT,
    DOMAIN,
    KIND_STREAM_LOST,
    LEFT_BELT_DEBOUNCE,
    STREAM_START_GRACE,
    StationEvent,
)
from custom_components.retro_walk.detection import Detection
from custom_components.retro_walk.motion import MotionInput
from custom_components.retro_walk.session import Session, SessionState
from custom_components.retro_walk.treadmill import Treadmill
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfLength
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_call_later, async_track_state_change_event
from homeassistant.util.unit_conversion import DistanceConverter

from .notifications import PartnerNotifier
from .policy import (
    Action,
    Alert,
    AlertAnswer,
    AlertPartner,
    Answer,
    ArmTimer,
    BeltDidNotStop,
    CallForHelp,
    CancelTimer,
    ClearanceReading,
    Detected,
    DismissAlert,
    Escalate,
    Event as PolicyEvent,
    Note,
    PauseBelt,
    PolicyConfig,
    PresenceReading,
    PromptWalker,
    RadarReading,
    Refresh,
    SafetyPolicy,
    SamplesArrived,
    ShowInstability,
    SlowBelt,
    StationState,
    StopBelt,
    Timer,
    TimerFired,
)

_LOGGER = logging.getLogger(__name__)

MOBILE_APP_ACTION_EVENT = "mobile_app_notification_action"
# Actions that talk to the belt or to phones: carried out in a task, in order.
_AWAITED = (
    PauseBelt,
    StopBelt,
    SlowBelt,
    AlertPartner,
    Escalate,
    CallForHelp,
    PromptWalker,
)


class Station(Protocol):
    """What the runner needs of the station (``RetroWalkCoordinator``).

    The station owns the session and the belt; the runner only reads their
    state and asks it to act. It is a protocol so that the safety side does
    not import the coordinator (which holds the runner in its entry data).
    """

    treadmill: Treadmill

    @property
    def session(self) -> Session | None:
        """The session under way, if any."""

    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> Callable[[], None]:
        """Listen for status updates."""

    def async_add_station_listener(
        self, listener: Callable[[StationEvent, dict[str, Any]], None]
    ) -> Callable[[], None]:
        """Listen for station events."""

    def async_update_listeners(self) -> None:
        """Have the entities show the state again."""

    async def async_safety_halt(
        self, reason: str, *, tier: int = 1, stop: bool = False
    ) -> None:
        """Pause (or stop) the belt and the session for safety."""

    def async_note(self, kind: str, tier: int) -> None:
        """Record a safety event that does not halt the session."""

    async def async_slow_down(self) -> None:
        """Slow the belt one step."""

    def async_fire_instability(
        self, tier: int, kind: str, features: dict[str, float]
    ) -> None:
        """Show an instability on the station's event entity."""


def _centimetres(state: State | None) -> float | None:
    """A distance sensor's state in cm, None when it has no number."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    unit = state.attributes.get("unit_of_measurement", UnitOfLength.CENTIMETERS)
    if unit in DistanceConverter.VALID_UNITS:
        return DistanceConverter.convert(value, unit, UnitOfLength.CENTIMETERS)
    return value


class SafetyRunner:
    """Feeds one station's safety policy and carries out its actions."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], station: Station
    ) -> None:
        """Wire the station's motion input, policy and notifications."""
        self._hass = hass
        self._entry = entry
        self._station = station
        self.motion = MotionInput(
            hass,
            entry,
            on_detection=self._async_detection,
            on_samples=self._async_samples,
        )
        options = entry.options
        has_belt = station.treadmill.has_belt
        self.policy = SafetyPolicy(
            PolicyConfig(
                has_belt=has_belt,
                watches_stream=self.motion.enabled and has_belt,
                has_presence_sensors=bool(options.get(CONF_PRESENCE_SENSORS)),
                stream_timeout=float(
                    options.get(CONF_STREAM_TIMEOUT, DEFAULT_STREAM_TIMEOUT)
                ),
                start_grace=STREAM_START_GRACE,
                left_belt_debounce=LEFT_BELT_DEBOUNCE,
                min_clearance_cm=float(
                    options.get(CONF_MIN_CLEARANCE, DEFAULT_MIN_CLEARANCE)
                ),
                ack_timeout=float(options.get(CONF_ACK_TIMEOUT, DEFAULT_ACK_TIMEOUT)),
            )
        )
        self._notifier = PartnerNotifier(hass, entry)
        self._timers: dict[Timer, tuple[int, CALLBACK_TYPE]] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []

    # What the entities and diagnostics show ----------------------------------

    @property
    def unsafe(self) -> bool:
        """Whether the walker was unstable lately (or the session is halted for it)."""
        return self.policy.unsafe

    @property
    def alert_pending(self) -> bool:
        """Whether a partner alert waits for an answer."""
        return self.policy.alert_pending

    @property
    def alert(self) -> Alert | None:
        """The latest partner alert, answered or not."""
        return self.policy.alert

    @property
    def last_detection(self) -> dict[str, Any] | None:
        """The latest detection shown (tier, kind, features)."""
        return self.policy.last_detection

    # Life cycle -------------------------------------------------------------

    async def async_start(self) -> None:
        """Start listening to motion, sensors, the station and phone actions."""
        await self.motion.async_start()
        station = self._station
        self._unsubscribe += [
            station.async_add_listener(self._async_station_updated),
            station.async_add_station_listener(self._async_station_event),
            self._hass.bus.async_listen(
                MOBILE_APP_ACTION_EVENT, self._async_phone_action
            ),
        ]
        options = self._entry.options
        watched = [
            *options.get(CONF_PRESENCE_SENSORS, []),
            *[
                options[key]
                for key in (CONF_FALL_SENSOR, CONF_CLEARANCE_SENSOR)
                if options.get(key)
            ],
        ]
        if watched:
            self._unsubscribe.append(
                async_track_state_change_event(
                    self._hass, watched, self._async_sensor_changed
                )
            )
        # Sensors as they are now: a change is judged against them.
        for entity_id in watched:
            self._async_read_sensor(entity_id)
        self._async_station_updated()

    @callback
    def async_stop(self) -> None:
        """Let go of everything."""
        self.motion.async_stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for _, cancel in self._timers.values():
            cancel()
        self._timers.clear()

    async def async_acknowledge(self) -> None:
        """Answer the pending partner alert ("I'm OK") from Home Assistant."""
        actions = self._decide(AlertAnswer(Answer.OK))
        if not any(isinstance(action, DismissAlert) for action in actions):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_pending_alert"
            )

    # Inputs -----------------------------------------------------------------

    @callback
    def _async_station_updated(self) -> None:
        """The session or the belt changed.

        The detector runs for the whole session, paused or not (a slip that
        paused the belt may still turn into a fall); a new session
        recalibrates it.
        """
        session = self._station.session
        active = session is not None and session.is_active
        session_id = session.session_id if session is not None and active else None
        moving = session is not None and session.is_moving
        self.motion.async_set_session(session_id, moving=moving)
        self._decide(
            StationState(
                session_id=session_id,
                active=active,
                moving=moving,
                belt_running=moving and self._station.treadmill.moving,
                paused_by_safety=session is not None
                and session.state is SessionState.PAUSED_BY_SAFETY,
            )
        )

    @callback
    def _async_station_event(self, event: StationEvent, data: dict[str, Any]) -> None:
        if event is StationEvent.DID_NOT_STOP:
            self._decide(BeltDidNotStop())

    @callback
    def _async_samples(self) -> None:
        self._decide(SamplesArrived())

    @callback
    def _async_detection(self, detection: Detection) -> None:
        self._decide(
            Detected(
                tier=int(detection.tier),
                kind=detection.kind,
                features=dict(detection.features),
            )
        )

    @callback
    def _async_sensor_changed(self, event: Event[EventStateChangedData]) -> None:
        self._async_read_sensor(event.data["entity_id"])

    @callback
    def _async_read_sensor(self, entity_id: str) -> None:
        options = self._entry.options
        state = self._hass.states.get(entity_id)
        reading: PolicyEvent
        if entity_id == options.get(CONF_FALL_SENSOR):
            reading = RadarReading(state is not None and state.state == STATE_ON)
        elif entity_id == options.get(CONF_CLEARANCE_SENSOR):
            reading = ClearanceReading(_centimetres(state))
        else:
            reading = PresenceReading(
                any(
                    (sensor := self._hass.states.get(entity)) is not None
                    and sensor.state == STATE_ON
                    for entity in options.get(CONF_PRESENCE_SENSORS, [])
                )
            )
        self._decide(reading)

    @callback
    def _async_phone_action(self, event: Event) -> None:
        """An action button was pressed on a phone."""
        action = str(event.data.get("action", ""))
        for prefix, answer in ((ACTION_OK, Answer.OK), (ACTION_HELP, Answer.HELP)):
            if action.startswith(f"{prefix}_"):
                alert_id = action.removeprefix(f"{prefix}_")
                self._decide(AlertAnswer(answer, alert_id))

    # Timers -----------------------------------------------------------------

    @callback
    def _async_arm(self, timer: Timer, seconds: float, token: int) -> None:
        self._async_cancel(timer)

        @callback
        def _fired(_now: datetime) -> None:
            if (armed := self._timers.get(timer)) is not None and armed[0] == token:
                del self._timers[timer]
            self._decide(TimerFired(timer, token))

        self._timers[timer] = (token, async_call_later(self._hass, seconds, _fired))

    @callback
    def _async_cancel(self, timer: Timer) -> None:
        if (armed := self._timers.pop(timer, None)) is not None:
            armed[1]()

    # Carrying out -------------------------------------------------------------

    @callback
    def _decide(self, event: PolicyEvent) -> list[Action]:
        """Ask the policy; set its timers now, carry out the rest in order.

        Belt commands and notifications run in a task (the belt command goes
        out before anything else is awaited).
        """
        actions = self.policy.decide(event, time.monotonic())
        rest: list[Action] = []
        for action in actions:
            if isinstance(action, ArmTimer):
                self._async_arm(action.timer, action.seconds, action.token)
            elif isinstance(action, CancelTimer):
                self._async_cancel(action.timer)
            else:
                rest.append(action)
        if any(isinstance(action, _AWAITED) for action in rest):
            self._hass.async_create_task(self._async_carry_out(rest), eager_start=True)
        else:
            for action in rest:
                self._async_do(action)
        return actions

    async def _async_carry_out(self, actions: Sequence[Action]) -> None:
        """Each action in turn; one that fails never keeps the next from running.

        (The belt command comes first; an alert must still go out if, say, a
        notification before it failed.)
        """
        for action in actions:
            try:
                if (coroutine := self._coroutine(action)) is not None:
                    await coroutine
                else:
                    self._async_do(action)
            except Exception:
                _LOGGER.exception(
                    "%s: the safety action %s failed", self._entry.title, action
                )

    def _coroutine(self, action: Action) -> Coroutine[Any, Any, None] | None:
        """The work of an action that takes time (see ``_AWAITED``)."""
        station, notifier = self._station, self._notifier
        work: Coroutine[Any, Any, None] | None = None
        match action:
            case PauseBelt(kind=kind, tier=tier):
                if kind == KIND_STREAM_LOST:
                    _LOGGER.warning(
                        "%s: the motion stream stopped; pausing the belt",
                        self._entry.title,
                    )
                work = station.async_safety_halt(kind, tier=tier)
            case StopBelt(kind=kind, tier=tier):
                work = station.async_safety_halt(kind, tier=tier, stop=True)
            case SlowBelt():
                work = station.async_slow_down()
            case AlertPartner(alert_id=alert_id, tier=tier, kind=kind):
                work = notifier.async_alert(alert_id, tier, kind)
            case Escalate(alert_id=alert_id, escalation=escalation, minutes=minutes):
                work = notifier.async_escalate(alert_id, escalation, minutes)
            case CallForHelp(alert_id=alert_id):
                work = notifier.async_help(alert_id)
            case PromptWalker():
                work = notifier.async_prompt_walker()
        return work

    @callback
    def _async_do(self, action: Action) -> None:
        match action:
            case Note(kind=kind, tier=tier):
                self._station.async_note(kind, tier)
            case ShowInstability(tier=tier, kind=kind, features=features):
                self._station.async_fire_instability(tier, kind, dict(features))
            case DismissAlert():
                self._notifier.async_dismiss()
            case Refresh():
                self._station.async_update_listeners()
