"""Retro Walk as LLM tools: what the Assist LLM API offers an agent, and calls."""

from __future__ import annotations

import json
import re
from typing import Any, override

import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.retro_walk.const import DOMAIN
from homeassistant.components.llm import async_get_tools
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import llm
from homeassistant.setup import async_setup_component

from .common import STATION_DATA, async_add_station

TOOLS = {
    "start": f"{DOMAIN}__RetroWalkStart",
    "pause": f"{DOMAIN}__RetroWalkPause",
    "resume": f"{DOMAIN}__RetroWalkResume",
    "stop": f"{DOMAIN}__RetroWalkStop",
    "status": f"{DOMAIN}__RetroWalkStatus",
    "weekly": f"{DOMAIN}__RetroWalkWeekly",
}
# What the LLM providers (OpenAI, Anthropic, Gemini …) accept as a tool name.
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.fixture
async def llm_setup(hass: HomeAssistant) -> None:
    """The integrations an LLM agent relies on: the Assist API and intents."""
    for component in ("homeassistant", "intent", "llm"):
        assert await async_setup_component(hass, component, {})


def _context(language: str = "en") -> llm.LLMContext:
    return llm.LLMContext(
        platform="openai_conversation",
        context=Context(),
        language=language,
        assistant="conversation",
        device_id=None,
    )


async def _api(hass: HomeAssistant) -> llm.APIInstance:
    return await llm.async_get_api(hass, llm.LLM_API_ASSIST, _context())


def _ours(api: llm.APIInstance) -> dict[str, llm.Tool]:
    return {tool.name: tool for tool in api.tools if tool.name.startswith(DOMAIN)}


async def _call(
    hass: HomeAssistant, tool: str, **args: Any
) -> tuple[llm.ToolResult, dict[str, Any]]:
    """Call one of the tools the way an agent does; the result and its data."""
    api = await _api(hass)
    result = await api.async_call_tool(
        llm.ToolInput(tool_name=TOOLS[tool], tool_args=args)
    )
    await hass.async_block_till_done()
    data = json.loads(json.dumps(result.data))  # what the LLM is sent
    return result, data


def _speech(data: dict[str, Any]) -> str:
    return str(data["speech"]["plain"]["speech"])


def _state(hass: HomeAssistant) -> str:
    state = hass.states.get("sensor.living_room_session_state")
    assert state is not None
    return state.state


async def test_tools_offered(
    hass: HomeAssistant,
    llm_setup: None,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Six tools, named and tagged as HA requires, with usable JSON schemas."""
    api = await _api(hass)
    tools = _ours(api)
    assert set(tools) == set(TOOLS.values())
    for name, tool in tools.items():
        assert TOOL_NAME.match(name), name
        assert name.startswith(f"{DOMAIN}__")
        assert tool.integration == DOMAIN
        assert tool.title
        assert tool.description
        assert re.search("retro walk|backward", tool.description.lower())
    schemas = {
        name: probatio.to_openapi(
            tool.parameters, custom_serializer=api.custom_serializer
        )
        for name, tool in tools.items()
    }
    start = schemas[TOOLS["start"]]
    assert start["type"] == "object"
    assert start["properties"]["program"]["enum"] == [
        "starter",
        "intervals",
        "ratio",
        "custom",
    ]
    assert start["properties"]["minutes"]["type"] == "number"
    assert start["properties"]["minutes"]["minimum"] == 1.0
    assert start["properties"]["minutes"]["maximum"] == 30.0
    assert "required" not in start
    for name, schema in schemas.items():
        assert schema["properties"]["station"]["type"] == "string"
        assert schema["properties"]["station"]["description"]
        # The sentences' alias of the station is not offered twice.
        assert "name" not in schema["properties"], name
        if name in (TOOLS["start"], TOOLS["weekly"]):
            # The walker: who starts, whose week.
            assert schema["properties"]["walker"]["type"] == "string"
            assert schema["properties"]["walker"]["description"]
        else:
            assert set(schema["properties"]) == {"station"}
    assert tools[TOOLS["status"]].annotations.read_only
    assert tools[TOOLS["weekly"]].annotations.read_only
    assert not tools[TOOLS["start"]].annotations.read_only
    assert "Living room" in api.api_prompt
    # Neither the untagged-tool nor the unprefixed-name report fired.
    assert "without an integration" not in caplog.text
    assert "not prefixed" not in caplog.text


async def test_session_through_tools(
    hass: HomeAssistant, llm_setup: None, init_integration: MockConfigEntry
) -> None:
    """Start, status, pause, resume, stop and weekly, each through its tool."""
    result, data = await _call(hass, "start", program="intervals")
    assert not result.error
    assert data["response_type"] == "action_done"
    assert _speech(data) == "Started Ana's intervals program on Living room."
    assert _state(hass) == "warm_up"

    result, data = await _call(hass, "status")
    assert not result.error
    assert data["response_type"] == "query_answer"
    assert data["speech_slots"]["state"] == "warm_up"
    assert data["speech_slots"]["active"] is True
    assert _speech(data).startswith("Living room: warming up, 0 minutes elapsed")

    result, data = await _call(hass, "pause")
    assert not result.error
    assert _speech(data) == "Paused the retro walk on Living room."
    assert _state(hass) == "paused"

    result, data = await _call(hass, "resume", station="Living room")
    assert not result.error
    assert _speech(data) == "Resumed the retro walk on Living room."
    assert _state(hass) not in ("paused", "idle")

    result, data = await _call(hass, "stop")
    assert not result.error
    assert _speech(data) == (
        "Stopped the retro walk on Living room after 0 backward minutes."
    )
    assert _state(hass) == "idle"

    result, data = await _call(hass, "status")
    assert _speech(data) == "No retro walk is under way on Living room."

    result, data = await _call(hass, "weekly")
    assert not result.error
    assert data["response_type"] == "query_answer"
    assert data["speech_slots"]["goal_minutes"] == 60
    assert _speech(data).startswith("Ana: 0 backward minutes this week of a 60 minute")


async def test_start_with_minutes(
    hass: HomeAssistant, llm_setup: None, init_integration: MockConfigEntry
) -> None:
    """Minutes alone start the custom program; a number given as text works."""
    result, data = await _call(hass, "start", minutes="4")
    assert not result.error
    assert _speech(data) == (
        "Started Ana's custom program with 4 backward minutes on Living room."
    )
    assert data["speech_slots"]["program"] == "custom"
    assert data["speech_slots"]["minutes"] == 4


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("start", {"station": "Kitchen"}, "Kitchen"),
        ("status", {"station": "Kitchen"}, "Kitchen"),
        ("pause", {}, "There is no session under way on this station."),
        ("resume", {}, "There is no session under way on this station."),
        ("stop", {}, "There is no session under way on this station."),
    ],
)
async def test_refused_is_error_result(
    hass: HomeAssistant,
    llm_setup: None,
    init_integration: MockConfigEntry,
    tool: str,
    args: dict[str, Any],
    expected: str,
) -> None:
    """An unknown station or nothing to act on: an error result, not a raise."""
    result, data = await _call(hass, tool, **args)
    assert result.error
    assert data["response_type"] == "error"
    assert data["data"]["code"] == "failed_to_handle"
    assert expected in _speech(data)
    assert init_integration.runtime_data.coordinator.session is None


@pytest.mark.parametrize(
    "args", [{"minutes": 90}, {"program": "marathon"}, {"minutes": "lots"}]
)
async def test_bad_arguments_are_error_result(
    hass: HomeAssistant,
    llm_setup: None,
    init_integration: MockConfigEntry,
    args: dict[str, Any],
) -> None:
    """Arguments outside the schema are refused as an error result."""
    result, data = await _call(hass, "start", **args)
    assert result.error
    assert data["error"] == "InvalidSlotInfo"
    assert data["error_text"]
    assert init_integration.runtime_data.coordinator.session is None


async def test_no_loaded_station(
    hass: HomeAssistant, llm_setup: None, init_integration: MockConfigEntry
) -> None:
    """A station that is not loaded: the tools say so as an error result."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    result, data = await _call(hass, "start")
    assert result.error
    assert _speech(data) == "No Retro Walk station is set up and loaded."
    result, data = await _call(hass, "status", station="Living room")
    assert result.error
    assert _speech(data) == "The station Living room is not loaded."


async def test_two_stations(
    hass: HomeAssistant, llm_setup: None, init_integration: MockConfigEntry
) -> None:
    """With two stations the LLM is told their names and must pick one."""
    await async_add_station(
        hass, {**STATION_DATA, CONF_NAME: "Hallway"}, unique_id="hallway"
    )
    api = await _api(hass)
    assert "Hallway, Living room" in api.api_prompt
    result, data = await _call(hass, "start")
    assert result.error
    assert _speech(data) == "There is more than one station: choose one."
    result, data = await _call(hass, "start", station="Hallway")
    assert not result.error
    assert _speech(data) == "Started Ana's starter program on Hallway."
    assert init_integration.runtime_data.coordinator.session is None


async def test_no_tools_without_station(hass: HomeAssistant, llm_setup: None) -> None:
    """The integration loaded without a station offers no tools."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert DOMAIN in hass.config.components
    assert not _ours(await _api(hass))
    with pytest.raises(HomeAssistantError, match="not found"):
        await _call(hass, "start")


async def test_no_tools_without_intents(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Without the intent integration (no handlers registered) no tools."""
    assert await async_setup_component(hass, "llm", {})
    assert not _ours(await _api(hass))


async def test_no_tools_for_disabled_station(
    hass: HomeAssistant, llm_setup: None, init_integration: MockConfigEntry
) -> None:
    """A station the user disabled is not offered."""
    assert await hass.config_entries.async_set_disabled_by(
        init_integration.entry_id, ConfigEntryDisabler.USER
    )
    await hass.async_block_till_done()
    assert not _ours(await _api(hass))


class _OtherAPI(llm.API):
    """Another LLM API that collects the integrations' tools for its own id."""

    @override
    async def async_get_api_instance(
        self, llm_context: llm.LLMContext
    ) -> llm.APIInstance:
        tools = await async_get_tools(self.hass, llm_context, self.id)
        return llm.APIInstance(
            api=self, api_prompt="", llm_context=llm_context, tools=tools.tools
        )


async def test_only_for_assist_api(
    hass: HomeAssistant, llm_setup: None, init_integration: MockConfigEntry
) -> None:
    """The tools belong to the Assist API, not to any other API."""
    llm.async_register_api(hass, _OtherAPI(hass=hass, id="other", name="Other"))
    api = await llm.async_get_api(hass, "other", _context())
    assert not _ours(api)
