"""Station data and helpers shared by the Retro Walk tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import probatio as vol
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.retro_walk.const import (
    CONF_BODY_MASS,
    CONF_COOL_DOWN_MINUTES,
    CONF_EXPERIENCE,
    CONF_FORWARD_SPEED,
    CONF_PAUSE_CONTROL,
    CONF_SPEED_CONTROL,
    CONF_SPEED_SENSOR,
    CONF_STOP_CONTROL,
    CONF_TREADMILL_TYPE,
    CONF_WARM_UP_MINUTES,
    CONF_WEEKLY_GOAL,
    DOMAIN,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, ServiceResponse

STATION_DATA: dict[str, Any] = {
    CONF_NAME: "Living room",
    CONF_BODY_MASS: 70.0,
    CONF_EXPERIENCE: "beginner",
    CONF_WEEKLY_GOAL: 60,
    CONF_TREADMILL_TYPE: "simulated",
}
STATION_OPTIONS: dict[str, Any] = {
    CONF_WARM_UP_MINUTES: 1.0,
    CONF_COOL_DOWN_MINUTES: 1.0,
    CONF_FORWARD_SPEED: 3.0,
}
LINKED_DATA: dict[str, Any] = {
    **STATION_DATA,
    CONF_NAME: "Gym treadmill",
    CONF_TREADMILL_TYPE: "linked",
    CONF_SPEED_SENSOR: "input_number.belt_speed",
    CONF_SPEED_CONTROL: "input_number.belt_speed",
    CONF_PAUSE_CONTROL: "input_boolean.belt_running",
    CONF_STOP_CONTROL: "script.stop_belt",
}


async def async_tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    """Let time pass second by second, as the station's timer sees it."""
    for _ in range(seconds):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def async_call(hass: HomeAssistant, service: str, **data: Any) -> None:
    """Call a Retro Walk service and wait until it has been handled."""
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


async def async_history(hass: HomeAssistant, **data: Any) -> ServiceResponse:
    """Call the get_history service and return its response."""
    return await hass.services.async_call(
        DOMAIN, "get_history", data, blocking=True, return_response=True
    )


async def async_load_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add a config entry to Home Assistant, set it up and wait until done."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def async_add_station(
    hass: HomeAssistant,
    data: dict[str, Any],
    *,
    unique_id: str | None = None,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Create a station from its data (test options by default) and set it up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=data[CONF_NAME],
        unique_id=unique_id,
        minor_version=2,
        data=dict(data),
        options=dict(STATION_OPTIONS if options is None else options),
    )
    await async_load_entry(hass, entry)
    return entry


def form_defaults(result: Any) -> dict[str, Any]:
    """The default of every field of a form that has one.

    (What a user who changes nothing submits.)
    """
    return {
        str(key): key.default()
        for key in result["data_schema"].schema
        if key.default is not vol.UNDEFINED
    }
