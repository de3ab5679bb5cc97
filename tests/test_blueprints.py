"""The automation blueprints shipped in blueprints/automation/retro_walk/.

Each is validated with Home Assistant's blueprint schema, then loaded into a
test Home Assistant as an automation (``use_blueprint``) and run against a
station, asserting what it did through the station's states and the actions
it called.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.retro_walk.const import CONF_WEEKLY_GOAL, DOMAIN
from homeassistant.components import tag
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import yaml as yaml_util

from .common import (
    STATION_DATA,
    async_add_station,
    async_call,
    async_history,
    async_tick,
    walker_subentry,
)
from .instability import WEBHOOK_OPTIONS, async_report, async_stream

BLUEPRINTS = Path(__file__).parents[1] / "blueprints" / "automation" / DOMAIN
BLUEPRINT_FILES = sorted(path.name for path in BLUEPRINTS.glob("*.yaml"))
STATE = "sensor.living_room_session_state"
NOTIFY = "notify.mobile_app_x"


@pytest.fixture(autouse=True)
def blueprint_folder(hass: HomeAssistant, tmp_path: Path) -> None:
    """A config folder of its own, holding the repository's blueprints."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, hass.config.path("blueprints", "automation", DOMAIN))


@pytest.fixture(autouse=True)
async def automations_off(hass: HomeAssistant) -> AsyncGenerator[None]:
    """Turn the automations off at the end: their time triggers go with them."""
    yield
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {ATTR_ENTITY_ID: "all"}, blocking=True
        )


@pytest.fixture
def notify(hass: HomeAssistant) -> list[ServiceCall]:
    """The partner's (or walker's) mobile app notify action."""
    return async_mock_service(hass, "notify", "mobile_app_x")


async def async_use_blueprint(
    hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]
) -> None:
    """Set up one automation from a repository blueprint."""
    name = blueprint.removesuffix(".yaml")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": name,
                "alias": name,
                "use_blueprint": {"path": f"{DOMAIN}/{blueprint}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(f"automation.{name}")
    assert state is not None
    assert state.state == "on"  # a blueprint that does not validate is "unavailable"


def test_all_blueprints_are_tested() -> None:
    """Every shipped blueprint is run below."""
    assert BLUEPRINT_FILES == [
        "garmin_upload.yaml",
        "instability_alert.yaml",
        "start_session.yaml",
        "weekly_goal_reminder.yaml",
    ]


@pytest.mark.parametrize("filename", BLUEPRINT_FILES)
def test_blueprint_schema(filename: str) -> None:
    """Valid for Home Assistant's blueprint and automation blueprint schemas."""
    data = yaml_util.load_yaml_dict(BLUEPRINTS / filename)
    for schema in (BLUEPRINT_SCHEMA, AUTOMATION_BLUEPRINT_SCHEMA):
        blueprint = Blueprint(
            data, path=filename, expected_domain="automation", schema=schema
        )
        assert blueprint.validate() is None  # supported by this Home Assistant
    metadata = blueprint.metadata
    assert metadata["source_url"].endswith(
        f"/blueprints/automation/{DOMAIN}/{filename}"
    )
    for name, spec in blueprint.inputs.items():
        assert spec.get("name"), name
        assert "selector" in spec, name


async def async_until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds.

    For an automation waiting for an answer, which ``async_block_till_done``
    would wait for forever.
    """
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("not reached")


# Instability alert ------------------------------------------------------------


@pytest.fixture
async def webhook_station(hass: HomeAssistant) -> MockConfigEntry:
    """A simulated-treadmill station that takes Sensor Logger pushes."""
    return await async_add_station(hass, STATION_DATA, options=WEBHOOK_OPTIONS)


async def _alert_automation(hass: HomeAssistant, **inputs: Any) -> None:
    await async_use_blueprint(
        hass,
        "instability_alert.yaml",
        {
            "instability_entity": ["event.living_room_instability"],
            "partner_notify": NOTIFY,
            "help_actions": [{"action": "test.help"}],
            "no_answer_actions": [{"action": "test.escalate"}],
            **inputs,
        },
    )


@pytest.mark.usefixtures("webhook_station")
async def test_instability_alert_pauses_and_asks_the_partner(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: list[ServiceCall],
) -> None:
    """Unsteady (tier 3, chosen): the session is paused and the partner asked."""
    helped = async_mock_service(hass, "test", "help")
    escalated = async_mock_service(hass, "test", "escalate")
    await _alert_automation(hass, tiers=["pause_now", "unsteady"])
    await async_call(hass, "start_session")
    await async_stream(hass, freezer, hass_client_no_auth, 3)
    assert hass.states.get(STATE).state == "warm_up"

    # Tier 3 only slows the belt: the blueprint pauses the session.
    await async_report(hass, hass_client_no_auth, 3, "unsteady", block=False)
    await async_until(lambda: len(notify) == 1)
    assert hass.states.get(STATE).state == "paused"
    data = notify[0].data
    assert data["title"] == "Retro Walk: Living room"
    assert "tier 3, unsteady (unsteady)" in data["message"]
    assert "The session is paused." in data["message"]
    actions = data["data"]["actions"]
    assert [action["title"] for action in actions] == ["I'm OK", "Need help"]
    assert data["data"]["tag"] == "retro_walk_instability_event.living_room_instability"

    # The partner needs help.
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": actions[1]["action"]}
    )
    await hass.async_block_till_done()
    assert len(helped) == 1
    assert escalated == []


@pytest.mark.usefixtures("webhook_station")
async def test_instability_alert_after_a_safety_pause(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: list[ServiceCall],
) -> None:
    """Tier 1: the station has paused already; the partner is still alerted."""
    helped = async_mock_service(hass, "test", "help")
    escalated = async_mock_service(hass, "test", "escalate")
    await _alert_automation(hass)
    await async_call(hass, "start_session")
    await async_stream(hass, freezer, hass_client_no_auth, 3)

    await async_report(hass, hass_client_no_auth, 1, "spin", block=False)
    await async_until(lambda: len(notify) == 1)
    assert hass.states.get(STATE).state == "paused_by_safety"
    message = notify[0].data["message"]
    assert "tier 1, pause now (spin)" in message
    actions = notify[0].data["data"]["actions"]

    # An answer to another alert does not count; nobody answers this one.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "OTHER"})
    freezer.tick(60)
    async_fire_time_changed(hass)
    for _ in range(50):
        await asyncio.sleep(0)
    assert escalated == []
    freezer.tick(61)
    async_fire_time_changed(hass)
    await async_until(lambda: len(escalated) == 1)
    await hass.async_block_till_done()
    assert helped == []
    # A late answer changes nothing.
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": actions[0]["action"]}
    )
    await hass.async_block_till_done()
    assert helped == []
    assert hass.states.get(STATE).state == "paused_by_safety"


@pytest.mark.usefixtures("webhook_station")
async def test_instability_alert_ignores_other_tiers(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: list[ServiceCall],
) -> None:
    """Unsteady is not among the default tiers: the session goes on."""
    await _alert_automation(hass, pause_session=True)
    await async_call(hass, "start_session")
    await async_stream(hass, freezer, hass_client_no_auth, 3)
    await async_report(hass, hass_client_no_auth, 3, "unsteady")
    assert hass.states.get("event.living_room_instability").attributes[
        "event_type"
    ] == ("unsteady")
    assert hass.states.get(STATE).state == "warm_up"
    assert notify == []


async def test_instability_alert_without_pausing(
    hass: HomeAssistant,
    webhook_station: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    notify: list[ServiceCall],
) -> None:
    """Pausing can be left to the station: only the partner is told."""
    await _alert_automation(hass, tiers=["unsteady"], pause_session=False)
    await async_call(hass, "start_session")
    await async_stream(hass, freezer, hass_client_no_auth, 3)
    await async_report(hass, hass_client_no_auth, 3, "unsteady", block=False)
    await async_until(lambda: len(notify) == 1)
    assert hass.states.get(STATE).state == "warm_up"
    assert "paused" not in notify[0].data["message"]


# Weekly goal reminder -----------------------------------------------------------

# Sunday 22 November 2026, in the test time zone (US/Pacific).
SUNDAY_MORNING = "2026-11-22 10:00:00-08:00"
SUNDAY_EVENING = "2026-11-22 19:00:00-08:00"


async def _walk_two_backward_minutes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    await async_call(hass, "start_session", program="starter", backward_minutes=2)
    await async_tick(hass, freezer, 60 + 120 + 60 + 5)
    assert hass.states.get(STATE).state == "idle"


async def _reminder_automation(hass: HomeAssistant, **inputs: Any) -> None:
    await async_use_blueprint(
        hass,
        "weekly_goal_reminder.yaml",
        {
            "progress_sensor": "sensor.ana_weekly_goal_progress",
            "minutes_sensor": "sensor.ana_backward_minutes_this_week",
            "notify_action": NOTIFY,
            "time": "19:00:00",
            **inputs,
        },
    )


async def _at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_weekly_goal_reminder_below_the_goal(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    notify: list[ServiceCall],
) -> None:
    """Sunday 19:00, 2 of 60 minutes walked: the walker is reminded."""
    freezer.move_to(SUNDAY_MORNING)
    await async_add_station(hass, STATION_DATA)
    await _reminder_automation(hass, weekly_goal=60)
    await _walk_two_backward_minutes(hass, freezer)
    assert hass.states.get("sensor.ana_weekly_goal_progress").state == "3.3"

    await _at(hass, freezer, "2026-11-22 18:59:00-08:00")
    assert notify == []
    await _at(hass, freezer, SUNDAY_EVENING)
    assert len(notify) == 1
    assert notify[0].data["title"] == "Retro Walk"
    assert notify[0].data["message"] == (
        "Ana: 2.0 of 60 backward minutes this week (3 % of the goal)."
        " Time for a retro walk!"
    )


async def test_weekly_goal_reminder_only_on_the_chosen_days(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    notify: list[ServiceCall],
) -> None:
    """Saturday is not chosen: no reminder at 19:00; Sunday is."""
    freezer.move_to("2026-11-21 10:00:00-08:00")
    await async_add_station(hass, STATION_DATA)
    await _reminder_automation(hass, weekdays=["sun"])
    await _at(hass, freezer, "2026-11-21 19:00:00-08:00")
    assert notify == []
    await _at(hass, freezer, SUNDAY_EVENING)
    assert len(notify) == 1
    assert notify[0].data["message"].startswith("Ana: 0.0 of 60 backward")


async def test_weekly_goal_reminder_not_when_the_goal_is_met(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    notify: list[ServiceCall],
) -> None:
    """A goal of 2 minutes, walked: no reminder."""
    freezer.move_to(SUNDAY_MORNING)
    await async_add_station(hass, {**STATION_DATA, CONF_WEEKLY_GOAL: 2})
    await _reminder_automation(hass)
    await _walk_two_backward_minutes(hass, freezer)
    assert hass.states.get("sensor.ana_weekly_goal_progress").state == "100.0"
    await _at(hass, freezer, SUNDAY_EVENING)
    assert notify == []


# Start a session -----------------------------------------------------------------


@pytest.fixture
async def start_button(hass: HomeAssistant) -> str:
    """An input button by the treadmill."""
    assert await async_setup_component(
        hass, "input_button", {"input_button": {"treadmill": {}}}
    )
    return "input_button.treadmill"


async def _press(hass: HomeAssistant, button: str) -> None:
    await hass.services.async_call(
        "input_button", "press", {ATTR_ENTITY_ID: button}, blocking=True
    )
    await hass.async_block_till_done()


async def test_start_session_from_a_button(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    start_button: str,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A press starts the chosen program with the chosen minutes."""
    await async_use_blueprint(
        hass,
        "start_session.yaml",
        {
            "station": init_integration.entry_id,
            "buttons": [start_button],
            "program": "custom",
            "backward_minutes": 3,
        },
    )
    assert hass.states.get(STATE).state == "idle"
    await _press(hass, start_button)
    assert hass.states.get(STATE).state == "warm_up"
    started = hass.states.get("event.living_room_session").attributes
    assert started["program"] == "custom"
    assert started["target_backward_minutes"] == 3.0

    # Pressed again during the session: refused by the station, nothing breaks.
    freezer.tick(5)
    await _press(hass, start_button)
    assert hass.states.get(STATE).state == "warm_up"
    await async_call(hass, "stop_session")
    sessions = (await async_history(hass))["sessions"]
    assert [(s["program"], s["target_backward_minutes"]) for s in sessions] == [
        ("custom", 3.0)
    ]


async def test_start_session_from_an_nfc_tag(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A scanned tag starts the station's selected program (one station)."""
    assert await async_setup_component(hass, "tag", {})
    await async_use_blueprint(hass, "start_session.yaml", {"tag_id": "treadmill"})
    await tag.async_scan_tag(hass, "another-tag", None)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "idle"

    await tag.async_scan_tag(hass, "treadmill", None)
    await hass.async_block_till_done()
    assert hass.states.get(STATE).state == "warm_up"
    started = hass.states.get("event.living_room_session").attributes
    assert started["program"] == "starter"  # the station's selection


async def test_start_session_picks_its_station(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    start_button: str,
) -> None:
    """With two stations, the chosen one starts (its default program)."""
    other = await async_add_station(
        hass, {**STATION_DATA, CONF_NAME: "Garage"}, unique_id="garage"
    )
    await async_use_blueprint(
        hass,
        "start_session.yaml",
        {"station": other.entry_id, "buttons": [start_button]},
    )
    await _press(hass, start_button)
    assert hass.states.get("sensor.garage_session_state").state == "warm_up"
    assert hass.states.get(STATE).state == "idle"


async def test_start_session_for_a_walker(
    hass: HomeAssistant, start_button: str
) -> None:
    """A button of Luis's own starts Luis's session, whoever was selected."""
    await async_add_station(
        hass,
        STATION_DATA,
        walkers=[walker_subentry("Ana"), walker_subentry("Luis")],
    )
    await async_use_blueprint(
        hass, "start_session.yaml", {"walker": " Luis ", "buttons": [start_button]}
    )
    assert hass.states.get("select.living_room_walker").state == "Ana"
    await _press(hass, start_button)
    assert hass.states.get(STATE).state == "warm_up"
    assert hass.states.get("select.living_room_walker").state == "Luis"
    started = hass.states.get("event.living_room_session").attributes
    assert started["walker"] == "Luis"
