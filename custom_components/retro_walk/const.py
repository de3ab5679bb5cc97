"""Constants for the Retro Walk integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "retro_walk"

# Config entry data: the station.
CONF_TREADMILL_TYPE: Final = "treadmill_type"

# Walkers are config subentries of this type; their data (the name is the
# subentry's title):
SUBENTRY_WALKER: Final = "walker"
CONF_WALKER_NAME: Final = "walker_name"  # only in the station's first form
CONF_BODY_MASS: Final = "body_mass"
CONF_EXPERIENCE: Final = "experience"
CONF_WEEKLY_GOAL: Final = "weekly_goal"
CONF_PERSON: Final = "person"
# The profile a station from before walker profiles gets (entry 1.2 -> 1.3).
MIGRATED_WALKER_NAME: Final = "Walker"
# The sensors of each walker's device (the station had them before 1.3).
WALKER_SENSOR_KEYS: Final = (
    "weekly_backward_minutes",
    "weekly_goal_progress",
    "sessions_this_week",
    "streak",
    "next_backward_minutes",
)

# Linked Home Assistant entities of an existing treadmill integration.
CONF_SPEED_SENSOR: Final = "speed_sensor"
CONF_SPEED_CONTROL: Final = "speed_control"
CONF_PAUSE_CONTROL: Final = "pause_control"
CONF_STOP_CONTROL: Final = "stop_control"

# Options (tunables).
CONF_WARM_UP_MINUTES: Final = "warm_up_minutes"
CONF_COOL_DOWN_MINUTES: Final = "cool_down_minutes"
CONF_FORWARD_SPEED: Final = "forward_speed"
CONF_STOP_CONFIRM_SECONDS: Final = "stop_confirm_seconds"
CONF_REMOTE_CONTROL: Final = "remote_control"
# Write every finished session as a FIT file (on unless switched off).
CONF_EXPORT_FIT: Final = "export_fit"
DEFAULT_EXPORT_FIT: Final = True
# A report without dates covers this many weeks up to today.
DEFAULT_REPORT_WEEKS: Final = 12

# Motion input and the safety response (options).
CONF_WEBHOOK_ENABLED: Final = "webhook_enabled"
CONF_WEBHOOK_LOCAL_ONLY: Final = "webhook_local_only"
CONF_MQTT_TOPIC: Final = "mqtt_topic"
CONF_STREAM_TIMEOUT: Final = "stream_timeout"
CONF_PRESENCE_SENSORS: Final = "presence_sensors"
CONF_FALL_SENSOR: Final = "fall_sensor"
CONF_CLEARANCE_SENSOR: Final = "clearance_sensor"
CONF_MIN_CLEARANCE: Final = "min_clearance"
CONF_PARTNER_TARGETS: Final = "partner_targets"
CONF_ESCALATION_TARGETS: Final = "escalation_targets"
CONF_WALKER_TARGETS: Final = "walker_targets"
CONF_ACK_TIMEOUT: Final = "ack_timeout"

DEFAULT_STREAM_TIMEOUT: Final = 1.0
DEFAULT_MIN_CLEARANCE: Final = 30.0  # cm between the walker and the deck's rear end
DEFAULT_ACK_TIMEOUT: Final = 60.0
# After a session starts, the phone has this long to start streaming (a
# belt resumed once the stream began gets only the stream timeout).
STREAM_START_GRACE: Final = 10.0
# A walker missing from the belt for this long (s) while it runs is tier 1.
LEFT_BELT_DEBOUNCE: Final = 0.5
# Largest webhook body accepted (bytes); Sensor Logger sends well under it.
MAX_WEBHOOK_BODY: Final = 1024 * 1024

DEFAULT_BODY_MASS: Final = 70.0
DEFAULT_WEEKLY_GOAL: Final = 60
DEFAULT_WARM_UP_MINUTES: Final = 3.0
DEFAULT_COOL_DOWN_MINUTES: Final = 2.0
DEFAULT_FORWARD_SPEED: Final = 3.0
DEFAULT_STOP_CONFIRM_SECONDS: Final = 5.0

# Fired on the event bus when a belt was told to stop and was not seen at rest.
EVENT_TREADMILL_DID_NOT_STOP: Final = "retro_walk_treadmill_did_not_stop"
ISSUE_TREADMILL_DID_NOT_STOP: Final = "treadmill_did_not_stop"


class TreadmillType(StrEnum):
    """How a station's belt is driven."""

    NONE = "none"
    SIMULATED = "simulated"
    LINKED = "linked"
    FTMS = "ftms"


class StationEvent(StrEnum):
    """What the station's event entities report."""

    SAFETY_KEY_STOP = "safety_key_stop"
    DID_NOT_STOP = "did_not_stop"
    INSTABILITY = "instability"  # data: tier, kind, features
    SESSION = "session"  # data: event_type (a SessionEventType) and its summary


class SessionEventType(StrEnum):
    """The session event entity's event types."""

    STARTED = "started"  # data: program, target_backward_minutes
    # data: program, duration, backward minutes, distance, energy, end reason,
    # instability counts
    FINISHED = "finished"


# Where a station event's data names the event type of the session event entity.
ATTR_SESSION_EVENT_TYPE: Final = "event_type"


# The instability event entity's event types, one per detector tier.
TIER_EVENT_TYPES: Final = {1: "pause_now", 2: "confirmed_fall", 3: "unsteady"}


# Instability kinds the station raises itself (the detector adds its own).
KIND_STREAM_LOST: Final = "stream_lost"
KIND_LEFT_BELT: Final = "left_belt"
KIND_TOO_CLOSE: Final = "too_close"
KIND_RADAR_FALL: Final = "radar_fall"

# Mobile app notification actions (the alert id follows).
ACTION_OK: Final = "RETRO_WALK_OK"
ACTION_HELP: Final = "RETRO_WALK_HELP"


# Service names and fields.
SERVICE_START_SESSION: Final = "start_session"
SERVICE_PAUSE_SESSION: Final = "pause_session"
SERVICE_RESUME_SESSION: Final = "resume_session"
SERVICE_STOP_SESSION: Final = "stop_session"
SERVICE_GET_HISTORY: Final = "get_history"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_PROGRAM: Final = "program"
ATTR_BACKWARD_MINUTES: Final = "backward_minutes"
ATTR_SPEED: Final = "speed"
ATTR_LIMIT: Final = "limit"
ATTR_WALKER: Final = "walker"
SERVICE_DELETE_WALKER_HISTORY: Final = "delete_walker_history"
SERVICE_EXPORT_SESSION: Final = "export_session"
SERVICE_EXPORT_REPORT: Final = "export_report"
ATTR_SESSION_ID: Final = "session_id"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
