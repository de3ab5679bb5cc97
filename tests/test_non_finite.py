"""NaN and infinities are refused at every entry: numbers, services, flows, storage."""

from __future__ import annotations

import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk.const import DOMAIN
from custom_components.retro_walk.session import Experience, cap_speed, finite
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError

from .common import (
    RECORD,
    STATION_DATA,
    STATION_OPTIONS,
    async_call,
    async_tick,
)

BACKWARD_SPEED = "number.living_room_backward_speed"
BACKWARD_MINUTES = "number.living_room_target_backward_minutes"
STATE = "sensor.living_room_session_state"
BELT = "sensor.living_room_belt_speed"


@pytest.mark.parametrize("value", ["nan", "NaN", float("nan"), "inf", float("-inf")])
def test_finite_refuses_what_is_not_a_number(value: Any) -> None:
    with pytest.raises(ValueError, match="finite"):
        finite(value)
    with pytest.raises(ValueError, match="finite"):
        cap_speed(float(value), Experience.BEGINNER)


@pytest.mark.parametrize("value", [None, True, [1.0], {"x": 1}])
def test_finite_refuses_what_is_not_a_number_at_all(value: Any) -> None:
    with pytest.raises(TypeError, match="not a number"):
        finite(value)


@pytest.mark.parametrize("entity_id", [BACKWARD_SPEED, BACKWARD_MINUTES])
@pytest.mark.parametrize("value", ["nan", float("nan")])
async def test_number_set_value_refuses_nan(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    entity_id: str,
    value: Any,
) -> None:
    before = hass.states.get(entity_id).state
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": entity_id, "value": value},
            blocking=True,
        )
    assert err.value.translation_key == "not_finite"
    assert hass.states.get(entity_id).state == before
    assert math.isfinite(float(hass.states.get(entity_id).state))
    # A session started afterwards walks backwards at a real speed.
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 90)
    assert hass.states.get(STATE).state == "backward"
    assert 0 < float(hass.states.get(BELT).state) <= 3.2
    await async_call(hass, "stop_session")
    assert hass.states.get(STATE).state == "idle"


@pytest.mark.parametrize(
    "data", [{"speed": "nan"}, {"speed": "inf"}, {"backward_minutes": "nan"}]
)
async def test_start_session_refuses_nan(
    hass: HomeAssistant, init_integration: MockConfigEntry, data: dict[str, Any]
) -> None:
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(DOMAIN, "start_session", data, blocking=True)
    assert hass.states.get(STATE).state == "idle"


async def test_stored_nan_settings_are_ignored(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    """A NaN written into the settings (by hand, by an old bug) is not used."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=STATION_DATA["name"],
        data=dict(STATION_DATA),
        options=dict(STATION_OPTIONS),
        minor_version=2,
    )
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {
            "sessions": [],
            "settings": {"backward_speed": math.nan, "backward_minutes": math.inf},
        },
    }
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    assert math.isfinite(coordinator.backward_speed)
    assert math.isfinite(coordinator.backward_minutes)
    await async_call(hass, "start_session")
    await async_tick(hass, freezer, 90)
    assert hass.states.get(STATE).state == "backward"


async def test_stored_session_with_nan_is_kept_aside(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=STATION_DATA["name"],
        data=dict(STATION_DATA),
        options=dict(STATION_OPTIONS),
        minor_version=2,
    )
    record = {**RECORD, "session_id": "n1", "active_time": math.nan}
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"sessions": [record]},
    }
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    history = entry.runtime_data.history.history
    assert history.records == []
    assert history.unreadable == [record]


async def test_config_flow_refuses_nan_then_succeeds(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**STATION_DATA, "body_mass": "nan"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"body_mass": "not_finite"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], dict(STATION_DATA)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_walker_profile_refuses_nan(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    subentry = init_integration.subentries["walker_ana"]
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, "walker"),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    walker = {key: STATION_DATA[key] for key in ("body_mass", "experience")}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**walker, "name": "Ana", "weekly_goal": "nan"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"weekly_goal": "not_finite"}
    assert subentry.data["weekly_goal"] == STATION_DATA["weekly_goal"]


async def test_options_refuse_nan(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**STATION_OPTIONS, "warm_up_minutes": "nan", "stop_confirm_seconds": 5.0},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert result["errors"] == {"warm_up_minutes": "not_finite"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**STATION_OPTIONS, "stop_confirm_seconds": 5.0}
    )
    assert result["step_id"] == "safety"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"webhook_enabled": False, "stream_timeout": "nan", "ack_timeout": 60.0},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"stream_timeout": "not_finite"}
    assert dict(init_integration.options) == STATION_OPTIONS
