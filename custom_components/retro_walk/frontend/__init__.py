"""The Retro Walk Lovelace card: served by Home Assistant, loaded by its frontend.

``async_register_card`` serves ``retro-walk-card.js`` at ``/retro_walk/`` and
adds it to the frontend's extra modules, so ``custom:retro-walk-card`` works on
any dashboard without adding a resource by hand. It does this once per Home
Assistant, however many stations there are, and quietly skips what cannot be
done: no ``http`` (nothing to serve) or no ``frontend`` (nothing to load it);
a frontend set up later still gets the module.
"""

from __future__ import annotations

import logging
from pathlib import Path

from custom_components.retro_walk.const import DOMAIN
from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.loader import async_get_integration
from homeassistant.setup import EventComponentLoaded
from homeassistant.util.hass_dict import HassKey

_LOGGER = logging.getLogger(__name__)

CARD_FILENAME = "retro-walk-card.js"
CARD_PATH = Path(__file__).parent / CARD_FILENAME
URL_BASE = f"/{DOMAIN}"
CARD_URL = f"{URL_BASE}/{CARD_FILENAME}"

DATA_CARD: HassKey[str] = HassKey(f"{DOMAIN}_card")


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and add it to the frontend, once per Home Assistant."""
    if DATA_CARD in hass.data:
        return
    if "http" not in hass.config.components or hass.http is None:
        _LOGGER.debug("HTTP is not set up; the Retro Walk card is not served")
        return
    # Imported here: the http and frontend components are not dependencies.
    from homeassistant.components.http import StaticPathConfig

    integration = await async_get_integration(hass, DOMAIN)
    url = f"{CARD_URL}?v={integration.version}"
    hass.data[DATA_CARD] = url
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_PATH), cache_headers=False)]
    )

    if "frontend" in hass.config.components:
        _add_module(hass, url)
        return

    @callback
    def _frontend_loaded(event: Event[EventComponentLoaded]) -> None:
        if event.data["component"] == "frontend":
            remove()
            _add_module(hass, url)

    remove = hass.bus.async_listen(EVENT_COMPONENT_LOADED, _frontend_loaded)


@callback
def _add_module(hass: HomeAssistant, url: str) -> None:
    from homeassistant.components.frontend import add_extra_js_url

    try:
        add_extra_js_url(hass, url)
    except KeyError:  # the frontend failed to set up
        _LOGGER.debug("The frontend is not set up; the Retro Walk card is not loaded")
