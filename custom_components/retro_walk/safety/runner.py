"""The safety response: pause, confirm, notify, escalate.

Tier 1 (pause now) pauses the belt and marks the session paused by safety;
tier 2 (confirmed fall) stops the belt and alerts the partners with an
actionable notification, escalating until somebody answers; tier 3 (unsteady)
slows the belt one step and prompts the walker. Without a treadmill every
tier alerts instead. The station itself raises tier 1 when the motion stream
dies under a running belt, the walker leaves the belt or gets too close to its
rear end, and tier 2 when a radar reports a fall. A belt that does not confirm
its standstill alerts the partners too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging
import time
from typing import Any
import uuid

from homeassistant.components import persistent_notification
from homeassistant.const import (
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfLength,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import translation
from homeassistant.helpers.event import async_call_later, async_track_state_change_event
from homeassistant.util.unit_conversion import DistanceConverter

from .const import (
    ACTION_HELP,
    ACTION_OK,
    CONF_ACK_TIMEOUT,
    CONF_CLEARANCE_SENSOR,
    CONF_ESCALATION_TARGETS,
    CONF_FALL_SENSOR,
    CONF_MIN_CLEARANCE,
    CONF_PARTNER_TARGETS,
    CONF_PRESENCE_SENSORS,
    CONF_STREAM_TIMEOUT,
    CONF_WALKER_TARGETS,
    DEFAULT_ACK_TIMEOUT,
    DEFAULT_MIN_CLEARANCE,
    DEFAULT_STREAM_TIMEOUT,
    DOMAIN,
    KIND_LEFT_BELT,
    KIND_RADAR_FALL,
    KIND_STREAM_LOST,
    KIND_TOO_CLOSE,
    LEFT_BELT_DEBOUNCE,
    STREAM_START_GRACE,
    StationEvent,
)
from .coordinator import RetroWalkConfigEntry, RetroWalkCoordinator
from .detection import Detection, Tier
from .motion import MotionInput

_LOGGER = logging.getLogger(__name__)

MOBILE_APP_ACTION_EVENT = "mobile_app_notification_action"
# Unanswered alerts are repeated (to the partners and the escalation targets)
# at most this many times.
MAX_ESCALATIONS = 3
# The instability binary sensor stays on this long after a detection.
UNSAFE_HOLD = 30.0


async def async_notification_text(
    hass: HomeAssistant, key: str, placeholders: dict[str, str]
) -> str:
    """A translated notification text (the ``common`` strings)."""
    strings = await translation.async_get_translations(
        hass, hass.config.language, "common", [DOMAIN]
    )
    prefix = f"component.{DOMAIN}.common"
    text = strings.get(f"{prefix}.{key}", key)
    for name, value in placeholders.items():
        # A readable name for a detection, its code when there is none.
        shown = (
            strings.get(f"{prefix}.kind_{value}", value) if name == "kind" else value
        )
        text = text.replace(f"{{{name}}}", shown)
    return text


@dataclass(kw_only=True)
class Alert:
    """A partner alert waiting for an answer."""

    alert_id: str
    tier: int
    kind: str
    created: float
    escalations: int = 0
    answer: str | None = None  # "ok" or "help"


class PartnerAlerts:
    """Actionable notifications to the partners, escalated until answered."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: RetroWalkConfigEntry,
        on_change: Callable[[], None],
    ) -> None:
        """Prepare; nothing is sent until an alert is raised."""
        self._hass = hass
        self._entry = entry
        self._on_change = on_change
        self.current: Alert | None = None
        self._escalation: CALLBACK_TYPE | None = None

    @property
    def pending(self) -> bool:
        """Whether an alert is waiting for an answer."""
        return self.current is not None and self.current.answer is None

    def _targets(self, key: str) -> list[str]:
        return [str(target) for target in self._entry.options.get(key, [])]

    async def _async_texts(self, key: str, placeholders: dict[str, str]) -> str:
        return await async_notification_text(self._hass, key, placeholders)

    async def _async_notify(
        self, targets: list[str], title: str, message: str, alert: Alert
    ) -> None:
        ok = await self._async_texts("notification_action_ok", {})
        help_ = await self._async_texts("notification_action_help", {})
        data = {
            "title": title,
            "message": message,
            "data": {
                "tag": f"retro_walk_{alert.alert_id}",
                # notify.persistent_notification: one notification per alert.
                "notification_id": f"retro_walk_{alert.alert_id}",
                "actions": [
                    {"action": f"{ACTION_OK}_{alert.alert_id}", "title": ok},
                    {"action": f"{ACTION_HELP}_{alert.alert_id}", "title": help_},
                ],
                # Android: show at once; iOS: break through focus modes.
                "priority": "high",
                "ttl": 0,
                "push": {"interruption-level": "time-sensitive"},
            },
        }
        for target in targets:
            service = target.removeprefix("notify.")
            try:
                await self._hass.services.async_call(
                    "notify", service, data, blocking=True
                )
            except (HomeAssistantError, ValueError) as err:
                _LOGGER.error("Could not notify %s: %s", target, err)

    async def async_alert(self, tier: int, kind: str) -> None:
        """Raise an alert; while one waits for an answer, escalation goes on.

        A second detection of the same emergency (the fall, then the walker
        lying still) does not send the alert again: the escalation timer
        already repeats it until somebody answers.
        """
        if self.pending:
            return
        alert = Alert(
            alert_id=uuid.uuid4().hex[:12], tier=tier, kind=kind, created=time.time()
        )
        self.current = alert
        station = self._entry.title
        title = await self._async_texts("notification_title", {"station": station})
        message = await self._async_texts(
            f"notification_tier_{tier}", {"station": station, "kind": kind}
        )
        persistent_notification.async_create(
            self._hass, message, title, f"{DOMAIN}_{self._entry.entry_id}_alert"
        )
        partners = self._targets(CONF_PARTNER_TARGETS)
        if not partners:
            _LOGGER.warning(
                "%s: no partner to notify; only a persistent notification", station
            )
        await self._async_notify(partners, title, message, alert)
        self._schedule_escalation()
        self._on_change()

    def _schedule_escalation(self) -> None:
        self._cancel_escalation()
        timeout = float(self._entry.options.get(CONF_ACK_TIMEOUT, DEFAULT_ACK_TIMEOUT))
        self._escalation = async_call_later(self._hass, timeout, self._async_escalate)

    @callback
    def _cancel_escalation(self) -> None:
        if self._escalation is not None:
            self._escalation()
            self._escalation = None

    async def _async_escalate(self, _now: Any) -> None:
        """Nobody answered in time: tell the partners again and the next ones."""
        self._escalation = None
        alert = self.current
        if alert is None or alert.answer is not None:
            return
        alert.escalations += 1
        station = self._entry.title
        title = await self._async_texts("notification_title", {"station": station})
        message = await self._async_texts(
            "notification_unanswered",
            {
                "station": station,
                "minutes": f"{(time.time() - alert.created) / 60:.0f}",
            },
        )
        targets = self._targets(CONF_PARTNER_TARGETS) + self._targets(
            CONF_ESCALATION_TARGETS
        )
        _LOGGER.warning(
            "%s: alert not answered; escalation %d", station, alert.escalations
        )
        persistent_notification.async_create(
            self._hass, message, title, f"{DOMAIN}_{self._entry.entry_id}_alert"
        )
        await self._async_notify(targets, title, message, alert)
        if alert.escalations < MAX_ESCALATIONS:
            self._schedule_escalation()
        self._on_change()

    async def async_answer(self, answer: str) -> bool:
        """Record the answer to the pending alert ("ok" or "help")."""
        alert = self.current
        if alert is None or alert.answer is not None:
            return False
        alert.answer = answer
        self._cancel_escalation()
        if answer == "help":
            # Somebody needs help: the next people hear of it at once.
            station = self._entry.title
            title = await self._async_texts("notification_title", {"station": station})
            message = await self._async_texts("notification_help", {"station": station})
            await self._async_notify(
                self._targets(CONF_ESCALATION_TARGETS), title, message, alert
            )
        else:
            persistent_notification.async_dismiss(
                self._hass, f"{DOMAIN}_{self._entry.entry_id}_alert"
            )
        self._on_change()
        return True

    @callback
    def async_handle_action(self, event: Event) -> None:
        """An action button was pressed on a phone."""
        alert = self.current
        if alert is None:
            return
        action = str(event.data.get("action", ""))
        for prefix, answer in ((ACTION_OK, "ok"), (ACTION_HELP, "help")):
            if action == f"{prefix}_{alert.alert_id}":
                self._hass.async_create_task(
                    self.async_answer(answer), eager_start=True
                )

    @callback
    def async_shutdown(self) -> None:
        """Stop escalating (the station unloads)."""
        self._cancel_escalation()


class SafetyPolicy:
    """Turns detections and sensors into the safety response for one station."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: RetroWalkConfigEntry,
        coordinator: RetroWalkCoordinator,
    ) -> None:
        """Wire the station's motion input and partner alerts."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self.motion = MotionInput(
            hass,
            entry,
            on_detection=self._async_detection,
            on_samples=self._async_samples,
        )
        self.alerts = PartnerAlerts(hass, entry, coordinator.async_update_listeners)
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._watchdog: CALLBACK_TYPE | None = None
        self._left_belt: CALLBACK_TYPE | None = None
        self._moving = False
        self.last_detection: dict[str, Any] | None = None
        self._unsafe_until = 0.0
        self._unsafe_timer: CALLBACK_TYPE | None = None

    # Life cycle -------------------------------------------------------------

    async def async_start(self) -> None:
        """Start listening to motion, sensors and phone actions."""
        await self.motion.async_start()
        coordinator = self._coordinator
        self._unsubscribe.append(
            coordinator.async_add_listener(self._async_station_updated)
        )
        self._unsubscribe.append(
            coordinator.async_add_station_listener(self._async_station_event)
        )
        self._unsubscribe.append(
            self._hass.bus.async_listen(
                MOBILE_APP_ACTION_EVENT, self.alerts.async_handle_action
            )
        )
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
        self._async_station_updated()

    @callback
    def async_stop(self) -> None:
        """Let go of everything."""
        self.motion.async_stop()
        self.alerts.async_shutdown()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for timer in (self._watchdog, self._left_belt, self._unsafe_timer):
            if timer is not None:
                timer()
        self._watchdog = self._left_belt = self._unsafe_timer = None

    # State ------------------------------------------------------------------

    @property
    def unsafe(self) -> bool:
        """Whether the walker was unstable lately (or the session is halted for it)."""
        session = self._coordinator.session
        if session is not None and session.state == "paused_by_safety":
            return True
        return time.monotonic() < self._unsafe_until

    @callback
    def _async_station_updated(self) -> None:
        """The session changed: arm or disarm the detector and the watchdogs.

        The detector runs for the whole session, paused or not (a slip that
        paused the belt may still turn into a fall); a new session
        recalibrates it. The stream watchdog only guards a moving session.
        """
        session = self._coordinator.session
        self.motion.async_set_session(
            None if session is None or not session.is_active else session.session_id
        )
        moving = session is not None and session.is_moving
        if moving != self._moving:
            self._moving = moving
            if moving and self._watches_stream:
                self._arm_watchdog(STREAM_START_GRACE)
            elif not moving:
                self._disarm_watchdog()
        self._async_check_presence()

    @property
    def _watches_stream(self) -> bool:
        return self.motion.enabled and self._coordinator.treadmill.has_belt

    # The motion stream --------------------------------------------------------

    @callback
    def _async_samples(self) -> None:
        if self._moving and self._watches_stream:
            self._arm_watchdog(
                float(
                    self._entry.options.get(CONF_STREAM_TIMEOUT, DEFAULT_STREAM_TIMEOUT)
                )
            )

    def _arm_watchdog(self, seconds: float) -> None:
        self._disarm_watchdog()
        self._watchdog = async_call_later(self._hass, seconds, self._async_stream_lost)

    def _disarm_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog()
            self._watchdog = None

    @callback
    def _async_stream_lost(self, _now: Any) -> None:
        """No motion under a running belt: fail safe."""
        self._watchdog = None
        last = self.motion.stats.last_message
        silence = None if last is None else round(time.monotonic() - last, 2)
        _LOGGER.warning(
            "%s: the motion stream stopped; pausing the belt", self._entry.title
        )
        self._async_raise(
            1, KIND_STREAM_LOST, {} if silence is None else {"silence_s": silence}
        )

    @callback
    def _async_detection(self, detection: Detection) -> None:
        self._async_raise(int(detection.tier), detection.kind, dict(detection.features))

    # Sensors ------------------------------------------------------------------

    @callback
    def _async_sensor_changed(self, event: Event[EventStateChangedData]) -> None:
        options = self._entry.options
        entity_id = event.data["entity_id"]
        new = event.data["new_state"]
        session = self._coordinator.session
        if session is None or not session.is_active:
            return
        if entity_id == options.get(CONF_FALL_SENSOR):
            old = event.data["old_state"]
            if (
                new is not None
                and new.state == STATE_ON
                and (old is None or old.state != STATE_ON)
            ):
                self._async_raise(Tier.CONFIRMED_FALL, KIND_RADAR_FALL, {})
            return
        if entity_id == options.get(CONF_CLEARANCE_SENSOR):
            self._async_check_clearance(event)
            return
        self._async_check_presence()

    def _belt_running(self) -> bool:
        session = self._coordinator.session
        return bool(
            session is not None
            and session.is_moving
            and self._coordinator.treadmill.moving
        )

    @callback
    def _async_check_presence(self) -> None:
        sensors = self._entry.options.get(CONF_PRESENCE_SENSORS, [])
        absent = (
            bool(sensors)
            and self._belt_running()
            and not any(
                (state := self._hass.states.get(sensor)) is not None
                and state.state == STATE_ON
                for sensor in sensors
            )
        )
        if absent and self._left_belt is None:
            self._left_belt = async_call_later(
                self._hass, LEFT_BELT_DEBOUNCE, self._async_left_belt
            )
        elif not absent and self._left_belt is not None:
            self._left_belt()
            self._left_belt = None

    @callback
    def _async_left_belt(self, _now: Any) -> None:
        self._left_belt = None
        if self._belt_running():
            self._async_raise(1, KIND_LEFT_BELT, {})

    def _async_check_clearance(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        old = event.data["old_state"]
        limit = float(
            self._entry.options.get(CONF_MIN_CLEARANCE, DEFAULT_MIN_CLEARANCE)
        )
        now_cm = _centimetres(new)
        before_cm = _centimetres(old)
        if (
            now_cm is not None
            and now_cm < limit
            and (before_cm is None or before_cm >= limit)
            and self._belt_running()
        ):
            self._async_raise(1, KIND_TOO_CLOSE, {"clearance_cm": round(now_cm, 1)})

    # The response -------------------------------------------------------------

    @callback
    def _async_station_event(self, event: StationEvent, data: dict[str, Any]) -> None:
        if event is StationEvent.DID_NOT_STOP:
            # The belt could not be confirmed at rest: people must know.
            self._hass.async_create_task(
                self.alerts.async_alert(1, "treadmill_did_not_stop"), eager_start=True
            )

    @callback
    def _async_raise(self, tier: int, kind: str, features: dict[str, float]) -> None:
        """Show the detection and respond to it (the belt command goes out first)."""
        self._hass.async_create_task(
            self.async_respond(tier, kind, features), eager_start=True
        )

    async def async_respond(
        self, tier: int, kind: str, features: dict[str, float]
    ) -> None:
        """Respond to an instability of ``tier``."""
        coordinator = self._coordinator
        has_belt = coordinator.treadmill.has_belt
        if tier == Tier.PAUSE_NOW and has_belt:
            await coordinator.async_safety_halt(kind, tier=tier)
        elif tier == Tier.CONFIRMED_FALL and has_belt:
            await coordinator.async_safety_halt(kind, tier=tier, stop=True)
        elif tier == Tier.UNSTEADY and has_belt:
            coordinator.async_note(kind, tier)
            if not self._moving:
                # Halted (after a slip or a fall): no belt to slow, no prompt.
                self._show(tier, kind, features)
                return
            await coordinator.async_slow_down()
        else:
            # No belt to halt (hallway, outdoor): people must know instead.
            coordinator.async_note(kind, tier)
        self._show(tier, kind, features)
        if tier == Tier.CONFIRMED_FALL or not has_belt:
            await self.alerts.async_alert(tier, kind)
        elif tier == Tier.UNSTEADY:
            await self._async_prompt_walker()

    def _show(self, tier: int, kind: str, features: dict[str, float]) -> None:
        self.last_detection = {"tier": tier, "kind": kind, "features": features}
        self._unsafe_until = time.monotonic() + UNSAFE_HOLD
        if self._unsafe_timer is not None:
            self._unsafe_timer()
        self._unsafe_timer = async_call_later(
            self._hass, UNSAFE_HOLD, self._async_unsafe_over
        )
        self._coordinator.async_fire_instability(tier, kind, features)

    @callback
    def _async_unsafe_over(self, _now: Any) -> None:
        self._unsafe_timer = None
        self._unsafe_until = 0.0
        self._coordinator.async_update_listeners()

    async def _async_prompt_walker(self) -> None:
        station = self._entry.title
        message = await async_notification_text(
            self._hass, "notification_unsteady", {"station": station}
        )
        persistent_notification.async_create(
            self._hass, message, station, f"{DOMAIN}_{self._entry.entry_id}_unsteady"
        )
        for target in self._entry.options.get(CONF_WALKER_TARGETS, []):
            try:
                await self._hass.services.async_call(
                    "notify",
                    str(target).removeprefix("notify."),
                    {"title": station, "message": message},
                    blocking=True,
                )
            except (HomeAssistantError, ValueError) as err:
                _LOGGER.error("Could not prompt %s: %s", target, err)


def _centimetres(state: Any) -> float | None:
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
