"""Constants for the Retro Walk integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "retro_walk"

# Config entry data: the station and its walker.
CONF_BODY_MASS: Final = "body_mass"
CONF_EXPERIENCE: Final = "experience"
CONF_WEEKLY_GOAL: Final = "weekly_goal"
CONF_TREADMILL_TYPE: Final = "treadmill_type"

# Linked Home Assistant entities of an existing treadmill integration.
CONF_SPEED_SENSOR: Final = "speed_sensor"
CONF_SPEED_CONTROL: Final = "speed_control"
CONF_PAUSE_CONTROL: Final = "pause_control"
CONF_STOP_CONTROL: Final = "stop_control"

# Options (tunables).
CONF_WARM_UP_MINUTES: Final = "warm_up_minutes"
CONF_COOL_DOWN_MINUTES: Final = "cool_down_minutes"
CONF_FORWARD_SPEED: Final = "forward_speed"

DEFAULT_BODY_MASS: Final = 70.0
DEFAULT_WEEKLY_GOAL: Final = 60
DEFAULT_WARM_UP_MINUTES: Final = 3.0
DEFAULT_COOL_DOWN_MINUTES: Final = 2.0
DEFAULT_FORWARD_SPEED: Final = 3.0


class TreadmillType(StrEnum):
    """How a station's belt is driven."""

    NONE = "none"
    SIMULATED = "simulated"
    LINKED = "linked"


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
