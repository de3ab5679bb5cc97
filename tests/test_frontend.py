"""The Lovelace card: served over HTTP and added to the frontend once."""

from __future__ import annotations

from unittest.mock import patch

from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.retro_walk.frontend import (
    CARD_PATH,
    CARD_URL,
    DATA_CARD,
    async_register_card,
)
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component

ADD_EXTRA_JS_URL = "homeassistant.components.frontend.add_extra_js_url"


async def _versioned_url(hass: HomeAssistant) -> str:
    integration = await async_get_integration(hass, "retro_walk")
    assert integration.version
    return f"{CARD_URL}?v={integration.version}"


async def test_card_is_served_and_added_once(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "http", {})
    hass.config.components.add("frontend")
    with patch(ADD_EXTRA_JS_URL) as add_extra_js_url:
        await async_register_card(hass)
        await async_register_card(hass)  # a second station: nothing more
    url = await _versioned_url(hass)
    add_extra_js_url.assert_called_once_with(hass, url)
    assert url == "/retro_walk/retro-walk-card.js?v=0.2.0"

    client = await hass_client()
    response = await client.get(url)
    assert response.status == 200
    assert "javascript" in response.headers["Content-Type"]
    body = await response.text()
    assert body == CARD_PATH.read_text(encoding="utf-8")
    assert 'customElements.define("retro-walk-card"' in body
    assert "window.customCards" in body


async def test_card_in_the_real_frontend(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "frontend", {})
    await async_register_card(hass)
    await async_register_card(hass)
    url = await _versioned_url(hass)
    assert list(hass.data[DATA_EXTRA_MODULE_URL].urls).count(url) == 1


async def test_frontend_set_up_later(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "http", {})
    with patch(ADD_EXTRA_JS_URL) as add_extra_js_url:
        await async_register_card(hass)
        add_extra_js_url.assert_not_called()
        hass.bus.async_fire(EVENT_COMPONENT_LOADED, {"component": "recorder"})
        await hass.async_block_till_done()
        add_extra_js_url.assert_not_called()
        for _ in range(2):
            hass.bus.async_fire(EVENT_COMPONENT_LOADED, {"component": "frontend"})
            await hass.async_block_till_done()
    add_extra_js_url.assert_called_once_with(hass, await _versioned_url(hass))


async def test_without_http_nothing_happens(hass: HomeAssistant) -> None:
    with patch(ADD_EXTRA_JS_URL) as add_extra_js_url:
        await async_register_card(hass)
    add_extra_js_url.assert_not_called()
    assert DATA_CARD not in hass.data


async def test_frontend_that_failed_is_skipped(hass: HomeAssistant) -> None:
    """``frontend`` listed as loaded but without its data: no error."""
    assert await async_setup_component(hass, "http", {})
    hass.config.components.add("frontend")
    await async_register_card(hass)
    assert hass.data[DATA_CARD] == await _versioned_url(hass)
