"""The manifest declares what the code uses (the part of hassfest we can run here).

hassfest itself lives in Home Assistant core's repository, not in a package; the
GitHub workflow runs it. This checks its dependency rule locally: a module of
the integration that imports ``homeassistant.components.X`` needs X among the
manifest's dependencies or after-dependencies, unless the module is X's own
platform (``sensor.py`` importing ``components.sensor``) or X is one of the
integrations Home Assistant always sets up.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "retro_walk"
# Always set up by Home Assistant; hassfest allows them without declaring.
ALWAYS_LOADED = {"persistent_notification", "diagnostics"}


def _used_components(path: Path) -> set[str]:
    used: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[:2] != ["homeassistant", "components"]:
                continue
            if len(parts) > 2:  # from homeassistant.components.x(.y) import …
                used.add(parts[2])
            else:  # from homeassistant.components import x, y
                used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[:2] == ["homeassistant", "components"] and len(parts) > 2:
                    used.add(parts[2])
    return used


def test_every_used_component_is_declared() -> None:
    manifest = json.loads((PACKAGE / "manifest.json").read_text(encoding="utf-8"))
    declared = set(manifest["dependencies"]) | set(manifest["after_dependencies"])
    undeclared = {}
    for path in PACKAGE.rglob("*.py"):
        platform = path.parent.name if path.name == "__init__.py" else path.stem
        for component in _used_components(path) - {platform}:
            if component not in declared | ALWAYS_LOADED:
                undeclared.setdefault(component, []).append(
                    str(path.relative_to(PACKAGE))
                )
    assert undeclared == {}


def test_manifest_keys_hassfest_requires_of_custom_integrations() -> None:
    manifest = json.loads((PACKAGE / "manifest.json").read_text(encoding="utf-8"))
    for key in ("domain", "name", "codeowners", "documentation", "iot_class"):
        assert manifest[key], key
    assert manifest["version"]
    assert manifest["integration_type"] == "device"
    # hassfest's order: domain, name, then the other keys alphabetically.
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_translations_follow_the_schema_hassfest_checks() -> None:
    """Exceptions carry a message; common strings are flat; en.json equals strings.json."""
    strings_file = PACKAGE / "strings.json"
    strings = json.loads(strings_file.read_text(encoding="utf-8"))
    assert strings == json.loads(
        (PACKAGE / "translations" / "en.json").read_text(encoding="utf-8")
    )
    for key, value in strings["exceptions"].items():
        assert set(value) == {"message"}, key
    for key, value in strings["common"].items():
        assert isinstance(value, str), key
    allowed = {
        "title", "config", "config_subentries", "options", "selector", "device",
        "entity", "entity_component", "exceptions", "services", "issues",
        "common", "conditions", "triggers", "system_health",
    }  # fmt: skip
    for path in (strings_file, *sorted((PACKAGE / "translations").glob("*.json"))):
        assert set(json.loads(path.read_text(encoding="utf-8"))) <= allowed, path
