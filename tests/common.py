"""Station data and helpers shared by the Retro Walk tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import probatio as vol
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_fire_time_changed_exact,
)

from custom_components.retro_walk.const import (
    CONF_BODY_MASS,
    CONF_COOL_DOWN_MINUTES,
    CONF_EXPERIENCE,
    CONF_FORWARD_SPEED,
    CONF_PAUSE_CONTROL,
    CONF_PERSON,
    CONF_SPEED_CONTROL,
    CONF_SPEED_SENSOR,
    CONF_STOP_CONTROL,
    CONF_TREADMILL_TYPE,
    CONF_WARM_UP_MINUTES,
    CONF_WEEKLY_GOAL,
    DOMAIN,
    SUBENTRY_WALKER,
)
from homeassistant.config_entries import ConfigSubentryDataWithId
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


# A finished session as a Retro Walk from before walker profiles stored it.
RECORD: dict[str, Any] = {
    "session_id": "a1",
    "program": "starter",
    "started_at": 1_700_000_000.0,
    "ended_at": 1_700_000_400.0,
    "end_reason": "completed",
    "target_backward_minutes": 3.0,
    "active_time": 400.0,
    "backward_time": 180.0,
    "forward_time": 220.0,
    "backward_distance": 100.0,
    "distance": 280.0,
    "energy": 30.0,
    "pauses": 0,
    "safety_pauses": 0,
}


def history_file(data: dict[str, Any], key: str = "x") -> dict[str, Any]:
    """A station's history file (version 1.1) holding ``data``."""
    return {"version": 1, "minor_version": 1, "key": key, "data": data}


async def async_advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move the frozen clock on by ``seconds`` and run what falls due then."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed_exact(hass)
    await hass.async_block_till_done()


async def async_tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    """Let time pass second by second, as the station's timer sees it."""
    for _ in range(seconds):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        # (The station's tick runs as a background task; a session that ends
        # in it writes its FIT file in the executor before saying so.)
        await hass.async_block_till_done(wait_background_tasks=True)


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


WALKER_FIELDS = (CONF_BODY_MASS, CONF_EXPERIENCE, CONF_WEEKLY_GOAL, CONF_PERSON)
# The walker every test station has unless told otherwise.
WALKER_NAME = "Ana"


def walker_subentry(
    name: str = WALKER_NAME, subentry_id: str | None = None, **data: Any
) -> ConfigSubentryDataWithId:
    """A walker profile (the test walker's body, experience and goal by default)."""
    return ConfigSubentryDataWithId(
        data={
            CONF_BODY_MASS: STATION_DATA[CONF_BODY_MASS],
            CONF_EXPERIENCE: STATION_DATA[CONF_EXPERIENCE],
            CONF_WEEKLY_GOAL: STATION_DATA[CONF_WEEKLY_GOAL],
            **data,
        },
        subentry_id=subentry_id or f"walker_{name.casefold()}",
        subentry_type=SUBENTRY_WALKER,
        title=name,
        unique_id=None,
    )


def station_entry(
    data: dict[str, Any],
    *,
    walkers: list[ConfigSubentryDataWithId] | None = None,
    **kwargs: Any,
) -> MockConfigEntry:
    """A station's entry as the config flow makes it (version 1.3).

    Walker fields in ``data`` describe its one walker (Ana) unless
    ``walkers`` lists them.
    """
    kwargs.setdefault("options", dict(STATION_OPTIONS))
    if walkers is None:
        walkers = [
            walker_subentry(**{k: v for k, v in data.items() if k in WALKER_FIELDS})
        ]
    return MockConfigEntry(
        domain=DOMAIN,
        title=data[CONF_NAME],
        minor_version=3,
        data={k: v for k, v in data.items() if k not in WALKER_FIELDS},
        subentries_data=walkers,
        **kwargs,
    )


async def async_add_station(
    hass: HomeAssistant,
    data: dict[str, Any],
    *,
    unique_id: str | None = None,
    options: dict[str, Any] | None = None,
    walkers: list[ConfigSubentryDataWithId] | None = None,
) -> MockConfigEntry:
    """Create a station from its data (test options by default) and set it up."""
    entry = station_entry(
        data,
        walkers=walkers,
        unique_id=unique_id,
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
