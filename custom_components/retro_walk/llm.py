"""Retro Walk tools for LLM conversation agents (the Assist LLM API).

Since Home Assistant 2026, the Assist API offers only the tools that an
integration returns from its own ``llm`` platform: the ``llm`` integration
imports this module for every loaded integration that has one and calls
``async_get_tools`` whenever an agent asks for the API's tools.

Each tool is one of the integration's intents (``intent.py``), named
``retro_walk__<intent type>`` as the ``llm`` integration requires, and runs
that intent's registered handler, so the LLM and the voice sentences share one
implementation.
"""

from __future__ import annotations

from typing import Any, override

import probatio

from homeassistant.components.llm import LLMTools
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import (
    LLM_API_ASSIST,
    IntentResponseDict,
    IntentTool,
    LLMContext,
    Tool,
    ToolAnnotations,
    ToolInput,
    ToolResult,
)

from .const import DOMAIN
from .intent import (
    INTENT_PAUSE,
    INTENT_RESUME,
    INTENT_START,
    INTENT_STATUS,
    INTENT_STOP,
    INTENT_WEEKLY,
    SLOT_NAME,
)

# Starting, pausing and resuming move a treadmill belt, which can be undone;
# a second call is refused (already running, not paused …) rather than having
# no further effect. Stopping ends the session for good. The two questions
# only read. Everything acts on the user's own station, not an open world.
_CONTROL = ToolAnnotations(destructive=False, open_world=False)
_ENDS = ToolAnnotations(open_world=False)
_READ_ONLY = ToolAnnotations(
    read_only=True, destructive=False, idempotent=True, open_world=False
)

# The intents offered as tools: their titles and annotations.
LLM_INTENTS: dict[str, tuple[str, ToolAnnotations]] = {
    INTENT_START: ("Start a retro walk", _CONTROL),
    INTENT_PAUSE: ("Pause the retro walk", _CONTROL),
    INTENT_RESUME: ("Resume the retro walk", _CONTROL),
    INTENT_STOP: ("Stop the retro walk", _ENDS),
    INTENT_STATUS: ("Retro walk status", _READ_ONLY),
    INTENT_WEEKLY: ("Retro walk week", _READ_ONLY),
}


class RetroWalkIntentTool(IntentTool):
    """An intent as a tool whose failures come back as the tool's error result."""

    def __init__(self, handler: intent.IntentHandler) -> None:
        """Name the tool for the integration and describe its parameters."""
        title, annotations = LLM_INTENTS[handler.intent_type]
        super().__init__(
            f"{DOMAIN}__{handler.intent_type}",
            handler,
            title=title,
            integration=DOMAIN,
            annotations=annotations,
        )
        # ``name`` is the sentences' alias of ``station``: one way for an LLM.
        self.parameters = probatio.Schema(
            {
                key: value
                for key, value in (handler.slot_schema or {}).items()
                if str(key) != SLOT_NAME
            }
        )

    @override
    async def async_call(
        self, hass: HomeAssistant, tool_input: ToolInput, llm_context: LLMContext
    ) -> ToolResult:
        """Run the intent; an error response or refused slot is an error result."""
        try:
            result = await super().async_call(hass, tool_input, llm_context)
        except intent.InvalidSlotInfo as err:
            data: dict[str, Any] = {"error": type(err).__name__}
            if str(err):
                data["error_text"] = str(err)
            return ToolResult(data=data, error=True)
        if (
            isinstance(result.data, IntentResponseDict)
            and result.data.get("response_type")
            == intent.IntentResponseType.ERROR.value
        ):
            result.error = True
        return result


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: LLMContext, api_id: str
) -> LLMTools | None:
    """Return the Retro Walk tools for the Assist API when a station is set up."""
    if api_id != LLM_API_ASSIST:
        return None
    entries = hass.config_entries.async_entries(
        DOMAIN, include_ignore=False, include_disabled=False
    )
    if not entries:
        return None
    tools: list[Tool] = [
        RetroWalkIntentTool(handler)
        for handler in intent.async_get(hass)
        if handler.intent_type in LLM_INTENTS
    ]
    if not tools:
        return None
    stations = ", ".join(sorted(entry.title for entry in entries))
    return LLMTools(
        tools=tools,
        prompt=(
            "Retro Walk stations run retro walking (walking backwards on a "
            f"treadmill) sessions. Stations: {stations}. Pass a station only "
            "when there are several."
        ),
    )
