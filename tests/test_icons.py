# Copyright 2026 The Retro Walk authors
# SPDX-License-Identifier: MIT

"""Every ``mdi:`` icon the project uses exists in Home Assistant's frontend.

The frontend only draws icons of the Material Design Icons set it ships
(``hass_frontend/static/mdi/iconList.json``); any other name shows nothing.
This collects the names used by the integration (icons.json, Python modules,
the card, services.yaml), the demo configuration and dashboards, the
blueprints, the custom sentences and the README, and checks each of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
import importlib.util
import json
from pathlib import Path
import re

import pytest

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "retro_walk"

# The name stops at anything but a letter, digit, "-" or "_", so a template
# such as `mdi:${name}` is not mistaken for an icon.
ICON_RE = re.compile(r"\bmdi:([A-Za-z0-9_-]+)")


def _sources() -> Iterator[Path]:
    """The files whose icon names the frontend will be asked to draw."""
    yield INTEGRATION / "icons.json"
    yield INTEGRATION / "services.yaml"
    yield from sorted(INTEGRATION.rglob("*.py"))
    yield from sorted((INTEGRATION / "frontend").glob("*.js"))
    for folder in ("config", "blueprints", "custom_sentences"):
        for pattern in ("*.yaml", "*.yml"):
            yield from sorted((ROOT / folder).rglob(pattern))
    yield ROOT / "README.md"


def _used_icons() -> dict[str, list[str]]:
    """Map each icon name used to the places ("file:line") that use it."""
    used: dict[str, list[str]] = defaultdict(list)
    for path in _sources():
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in ICON_RE.finditer(line):
                used[match.group(1)].append(f"{path.relative_to(ROOT)}:{number}")
    return dict(used)


@pytest.fixture(scope="module")
def shipped_icons() -> frozenset[str]:
    """The icon names of the installed home-assistant-frontend package."""
    spec = importlib.util.find_spec("hass_frontend")
    if spec is None or spec.origin is None:
        pytest.skip(
            "home-assistant-frontend (hass_frontend) is not installed: "
            "no shipped icon list to check against"
        )
    icon_list = Path(spec.origin).parent / "static" / "mdi" / "iconList.json"
    if not icon_list.is_file():
        pytest.skip(f"the installed frontend has no icon list at {icon_list}")
    return frozenset(
        entry["name"] for entry in json.loads(icon_list.read_text(encoding="utf-8"))
    )


def test_icon_list_is_the_mdi_set(shipped_icons: frozenset[str]) -> None:
    # A sanity check on what we compare against: thousands of names, with
    # icons the integration relies on among them.
    assert len(shipped_icons) > 5000
    assert {"walk", "run", "human-handsdown", "alert-octagon"} <= shipped_icons


def test_icons_are_collected() -> None:
    used = _used_icons()
    places = {place.split(":", 1)[0] for places in used.values() for place in places}
    assert "custom_components/retro_walk/icons.json" in places
    assert "custom_components/retro_walk/frontend/retro-walk-card.js" in places
    assert "config/configuration.yaml" in places


def test_every_icon_exists_in_the_frontend(shipped_icons: frozenset[str]) -> None:
    missing = {
        f"mdi:{name}": places
        for name, places in sorted(_used_icons().items())
        if name not in shipped_icons
    }
    assert not missing, "icons the frontend does not ship: " + "; ".join(
        f"{icon} at {', '.join(places)}" for icon, places in missing.items()
    )
