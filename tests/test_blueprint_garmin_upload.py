"""The Garmin Connect upload blueprint, run against a session event entity.

The station side (a ``finished`` event naming ``fit_path`` and ``walker``) is
played by setting the event entity's state as Home Assistant's event entity
does: the state is the time of the event, the attributes its type and data.
Garmin Connect's ``upload_activity`` is mocked with its fields
(``file_path``, and ``entity_id`` to pick an account).
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.retro_walk.const import DOMAIN
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import yaml as yaml_util

# The repository's blueprints in a config folder of the test's own, and the
# automations turned off at the end (autouse fixtures).
from .test_blueprints import (  # noqa: F401
    BLUEPRINTS,
    automations_off,
    blueprint_folder,
)

BLUEPRINT = "garmin_upload.yaml"
SESSION = "event.living_room_session"
OTHER_STATION = "event.garage_session"
FIT = "/config/retro_walk/exports/Ana/20261129T100000Z-abc.fit"


@pytest.fixture
def uploads(hass: HomeAssistant) -> list[ServiceCall]:
    """Garmin Connect's upload action."""
    return async_mock_service(hass, "garmin_connect", "upload_activity")


def test_blueprint_schema() -> None:
    """Valid for Home Assistant's blueprint and automation blueprint schemas."""
    data = yaml_util.load_yaml_dict(BLUEPRINTS / BLUEPRINT)
    for schema in (BLUEPRINT_SCHEMA, AUTOMATION_BLUEPRINT_SCHEMA):
        blueprint = Blueprint(
            data, path=BLUEPRINT, expected_domain="automation", schema=schema
        )
        assert blueprint.validate() is None
    assert blueprint.metadata["source_url"].endswith(
        f"/blueprints/automation/{DOMAIN}/{BLUEPRINT}"
    )
    for name, spec in blueprint.inputs.items():
        assert spec.get("name"), name
        assert "selector" in spec, name


async def _automation(hass: HomeAssistant, **inputs: Any) -> None:
    for entity_id in (SESSION, OTHER_STATION):
        hass.states.async_set(entity_id, "unknown", {"event_type": None})
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "garmin_upload",
                "alias": "garmin_upload",
                "use_blueprint": {
                    "path": f"{DOMAIN}/{BLUEPRINT}",
                    "input": {"session_entity": [SESSION, OTHER_STATION], **inputs},
                },
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get("automation.garmin_upload")
    assert state is not None
    assert state.state == "on"


async def _event(
    hass: HomeAssistant,
    event_type: str,
    at: str = "2026-11-29T10:20:00.000+00:00",
    entity_id: str = SESSION,
    **data: Any,
) -> None:
    hass.states.async_set(entity_id, at, {"event_type": event_type, **data})
    await hass.async_block_till_done()


async def test_a_finished_session_is_uploaded(
    hass: HomeAssistant, uploads: list[ServiceCall]
) -> None:
    await _automation(hass)
    await _event(hass, "started", program="starter")
    assert uploads == []
    await _event(
        hass, "finished", "2026-11-29T10:30:00.000+00:00", fit_path=FIT, walker="Ana"
    )
    assert [call.data for call in uploads] == [{"file_path": FIT}]
    # Another station's session, a moment later.
    await _event(
        hass,
        "finished",
        "2026-11-29T10:30:01.000+00:00",
        OTHER_STATION,
        fit_path="/config/b.fit",
        walker="Bea",
    )
    assert [call.data["file_path"] for call in uploads] == [FIT, "/config/b.fit"]


async def test_the_chosen_garmin_account(
    hass: HomeAssistant, uploads: list[ServiceCall]
) -> None:
    await _automation(hass, garmin_entity="sensor.garmin_connect_ana_steps")
    await _event(hass, "finished", fit_path=FIT, walker="Ana")
    assert [call.data for call in uploads] == [
        {"file_path": FIT, "entity_id": "sensor.garmin_connect_ana_steps"}
    ]


async def test_only_the_chosen_walkers(
    hass: HomeAssistant, uploads: list[ServiceCall]
) -> None:
    await _automation(hass, walkers=["ana", "Carla"])
    await _event(
        hass,
        "finished",
        "2026-11-29T10:30:00.000+00:00",
        fit_path="/a.fit",
        walker="Bea",
    )
    await _event(
        hass, "finished", "2026-11-29T10:31:00.000+00:00", fit_path=FIT, walker="Ana"
    )
    await _event(hass, "finished", "2026-11-29T10:32:00.000+00:00", fit_path="/b.fit")
    assert [call.data["file_path"] for call in uploads] == [FIT]


async def test_no_file_no_upload(
    hass: HomeAssistant, uploads: list[ServiceCall]
) -> None:
    """Export off (no fit_path), or an empty one: nothing to upload."""
    await _automation(hass)
    await _event(hass, "finished", "2026-11-29T10:30:00.000+00:00", walker="Ana")
    await _event(
        hass, "finished", "2026-11-29T10:31:00.000+00:00", fit_path="", walker="Ana"
    )
    await _event(
        hass, "finished", "2026-11-29T10:32:00.000+00:00", fit_path=None, walker="Ana"
    )
    assert uploads == []


async def test_a_restored_state_is_no_new_session(
    hass: HomeAssistant, uploads: list[ServiceCall]
) -> None:
    """After a restart the entity comes back with its last event: not uploaded again."""
    await _automation(hass)
    hass.states.async_remove(SESSION)
    await hass.async_block_till_done()
    await _event(hass, "finished", fit_path=FIT, walker="Ana")
    assert uploads == []
    hass.states.async_set(SESSION, "unavailable", {})
    await hass.async_block_till_done()
    await _event(hass, "finished", "2026-11-29T10:40:00.000+00:00", fit_path=FIT)
    assert uploads == []
