"""Sensors of a Retro Walk station (the session, its metrics) and of its walkers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfSpeed,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RetroWalkConfigEntry
from .entity import (
    RetroWalkEntity,
    RetroWalkEntityDescription,
    RetroWalkWalkerEntity,
    async_add_walker_entities,
    has_ftms,
    station_entities,
    treadmill_available,
)
from .session import PhaseKind, SessionState
from .status import StationStatus, WalkerProgress
from .treadmill.ftms_protocol import TrainingStatusCode

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RetroWalkSensorEntityDescription(
    SensorEntityDescription, RetroWalkEntityDescription
):
    """Describes a Retro Walk sensor."""

    value_fn: Callable[[StationStatus], float | str | datetime | None]
    last_reset_fn: Callable[[StationStatus], datetime | None] = lambda _: None
    attributes_fn: Callable[[StationStatus], dict[str, Any]] | None = None
    # The smallest change worth a state write, in the native unit (None: one
    # unit of the display precision). Durations show tenths of a minute.
    shown_step: float | None = None


SENSORS: tuple[RetroWalkSensorEntityDescription, ...] = (
    RetroWalkSensorEntityDescription(
        key="session_state",
        translation_key="session_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in SessionState],
        value_fn=lambda status: status.state.value,
    ),
    RetroWalkSensorEntityDescription(
        key="phase",
        translation_key="phase",
        device_class=SensorDeviceClass.ENUM,
        options=[phase.value for phase in PhaseKind],
        value_fn=lambda status: None if status.phase is None else status.phase.value,
    ),
    RetroWalkSensorEntityDescription(
        key="elapsed",
        translation_key="elapsed",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        shown_step=6.0,
        value_fn=lambda status: status.elapsed,
    ),
    RetroWalkSensorEntityDescription(
        key="remaining",
        translation_key="remaining",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        shown_step=6.0,
        value_fn=lambda status: status.remaining,
    ),
    RetroWalkSensorEntityDescription(
        key="session_started",
        translation_key="session_started",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda status: status.started_at,
    ),
    RetroWalkSensorEntityDescription(
        # Dashboards count down to it themselves: a timer that needs no
        # state write every second (it moves only when the plan does).
        key="session_ends",
        translation_key="session_ends",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda status: status.ends_at,
    ),
    RetroWalkSensorEntityDescription(
        key="backward_time",
        translation_key="backward_time",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        shown_step=6.0,
        value_fn=lambda status: status.backward_time,
    ),
    RetroWalkSensorEntityDescription(
        key="forward_time",
        translation_key="forward_time",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        shown_step=6.0,
        value_fn=lambda status: status.forward_time,
    ),
    RetroWalkSensorEntityDescription(
        key="backward_distance",
        translation_key="backward_distance",
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfLength.METERS,
        suggested_display_precision=0,
        value_fn=lambda status: status.backward_distance,
    ),
    RetroWalkSensorEntityDescription(
        key="backward_pace",
        translation_key="backward_pace",
        native_unit_of_measurement="min/km",
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        value_fn=lambda status: status.backward_pace,
    ),
    RetroWalkSensorEntityDescription(
        key="belt_speed",
        translation_key="belt_speed",
        device_class=SensorDeviceClass.SPEED,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        suggested_display_precision=1,
        value_fn=lambda status: status.belt_speed,
        exists_fn=lambda coordinator: coordinator.treadmill.has_belt,
        available_fn=treadmill_available,
    ),
    RetroWalkSensorEntityDescription(
        key="treadmill_distance",
        translation_key="treadmill_distance",
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfLength.METERS,
        suggested_display_precision=0,
        value_fn=lambda status: status.telemetry.get("distance_total"),
        exists_fn=has_ftms,
        available_fn=treadmill_available,
    ),
    RetroWalkSensorEntityDescription(
        key="treadmill_elapsed",
        translation_key="treadmill_elapsed",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=lambda status: status.telemetry.get("time_elapsed"),
        exists_fn=has_ftms,
        available_fn=treadmill_available,
    ),
    RetroWalkSensorEntityDescription(
        key="incline",
        translation_key="incline",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda status: status.telemetry.get("inclination"),
        exists_fn=has_ftms,
        available_fn=treadmill_available,
    ),
    RetroWalkSensorEntityDescription(
        key="training_status",
        translation_key="training_status",
        device_class=SensorDeviceClass.ENUM,
        options=[code.name.lower() for code in TrainingStatusCode],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: _training_status(status.telemetry),
        exists_fn=has_ftms,
        available_fn=treadmill_available,
    ),
    RetroWalkSensorEntityDescription(
        key="target_speed",
        translation_key="target_speed",
        device_class=SensorDeviceClass.SPEED,
        native_unit_of_measurement=UnitOfSpeed.KILOMETERS_PER_HOUR,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: status.target_speed,
    ),
    RetroWalkSensorEntityDescription(
        key="energy",
        translation_key="energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_CALORIE,
        suggested_display_precision=0,
        value_fn=lambda status: status.energy,
    ),
    RetroWalkSensorEntityDescription(
        key="pauses",
        translation_key="pauses",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=lambda status: status.pauses,
    ),
    RetroWalkSensorEntityDescription(
        key="safety_pauses",
        translation_key="safety_pauses",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=lambda status: status.safety_pauses,
    ),
    RetroWalkSensorEntityDescription(
        key="instability_events",
        translation_key="instability_events",
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=0,
        value_fn=lambda status: sum(status.tier_counts.values()),
        attributes_fn=lambda status: {
            f"tier_{tier}": count for tier, count in status.tier_counts.items()
        },
    ),
)


@dataclass(frozen=True, kw_only=True)
class WalkerSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a walker's progress."""

    value_fn: Callable[[WalkerProgress], float]
    last_reset_fn: Callable[[WalkerProgress], datetime | None] = lambda _: None
    attributes_fn: Callable[[WalkerProgress], dict[str, Any]] | None = None


# One set per walker, on the walker's device (keys: WALKER_SENSOR_KEYS).
WALKER_SENSORS: tuple[WalkerSensorEntityDescription, ...] = (
    WalkerSensorEntityDescription(
        key="weekly_backward_minutes",
        translation_key="weekly_backward_minutes",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=lambda progress: progress.weekly.backward_minutes,
        last_reset_fn=lambda progress: progress.weekly.week_start,
    ),
    WalkerSensorEntityDescription(
        key="weekly_goal_progress",
        translation_key="weekly_goal_progress",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda progress: progress.weekly.goal_progress,
        # The goal itself, for cards that chart minutes against it.
        attributes_fn=lambda progress: {"goal_minutes": progress.weekly.goal_minutes},
    ),
    WalkerSensorEntityDescription(
        key="sessions_this_week",
        translation_key="sessions_this_week",
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=0,
        value_fn=lambda progress: progress.weekly.sessions,
        last_reset_fn=lambda progress: progress.weekly.week_start,
    ),
    WalkerSensorEntityDescription(
        key="streak",
        translation_key="streak",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.DAYS,
        suggested_display_precision=0,
        value_fn=lambda progress: progress.weekly.streak_days,
    ),
    WalkerSensorEntityDescription(
        key="next_backward_minutes",
        translation_key="next_backward_minutes",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=lambda progress: progress.next_backward_minutes,
    ),
)


def _training_status(telemetry: dict[str, Any]) -> str | None:
    code = telemetry.get("training_status")
    return None if code is None else TrainingStatusCode(code).name.lower()


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RetroWalkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the station's sensors."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(station_entities(coordinator, RetroWalkSensor, SENSORS))
    async_add_walker_entities(
        entry,
        async_add_entities,
        lambda coordinator, walker: [
            WalkerSensor(coordinator, walker, description)
            for description in WALKER_SENSORS
        ],
    )


class RetroWalkSensor(RetroWalkEntity, SensorEntity):
    """A sensor reading one value of the station's status."""

    entity_description: RetroWalkSensorEntityDescription

    @property
    def native_value(self) -> float | str | datetime | None:
        """The value."""
        return self.entity_description.value_fn(self.coordinator.data)

    def shown(self) -> tuple[Any, ...]:
        """Numbers as far as they are shown: a tick below that writes nothing."""
        description = self.entity_description
        value = self.native_value
        if isinstance(value, int | float) and not isinstance(value, bool):
            step = description.shown_step
            if step is None and description.suggested_display_precision is not None:
                step = 10.0**-description.suggested_display_precision
            if step:
                value = round(value / step)
        return (self.available, value, self.extra_state_attributes, self.last_reset)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details (the session's events per tier)."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data)

    @property
    def last_reset(self) -> datetime | None:
        """When a weekly total started again."""
        return self.entity_description.last_reset_fn(self.coordinator.data)


class WalkerSensor(RetroWalkWalkerEntity, SensorEntity):
    """A sensor of one walker's progress (weekly minutes, streak, next session)."""

    entity_description: WalkerSensorEntityDescription

    @property
    def _progress(self) -> WalkerProgress | None:
        return self.coordinator.data.walkers.get(self.walker_id)

    @property
    def native_value(self) -> float | None:
        """The value."""
        if (progress := self._progress) is None:
            return None
        return self.entity_description.value_fn(progress)

    @property
    def last_reset(self) -> datetime | None:
        """When a weekly total started again."""
        if (progress := self._progress) is None:
            return None
        return self.entity_description.last_reset_fn(progress)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details (the weekly goal of the goal progress)."""
        attributes_fn = self.entity_description.attributes_fn
        if attributes_fn is None or (progress := self._progress) is None:
            return None
        return attributes_fn(progress)

    def shown(self) -> tuple[Any, ...]:
        """The value and when its total started."""
        return (*super().shown(), self.last_reset)
