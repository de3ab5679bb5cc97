"""The pinned environment matches the Home Assistant it runs, and our manifest installs on it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution
import importlib.util
import json
from pathlib import Path
import sys
from types import ModuleType

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "custom_components" / "retro_walk" / "manifest.json"


def _ha_requirements() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ha_requirements", REPO_ROOT / "scripts" / "ha_requirements.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_component_requirement_is_pinned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Home Assistant would pip-install anything missing at run time (offline: fails)."""
    tool = _ha_requirements()
    status = tool.main(["--check", str(REPO_ROOT / "requirements.txt"), "--demo"])
    assert status == 0, capsys.readouterr().err


def test_manifest_requirements_accept_this_python() -> None:
    """No requirement may refuse the Python current Home Assistant runs on (pyftms did)."""
    python = ".".join(map(str, sys.version_info[:3]))
    for line in json.loads(MANIFEST.read_text(encoding="utf-8"))["requirements"]:
        requirement = Requirement(line)
        try:
            dist = distribution(requirement.name)
        except PackageNotFoundError:  # pragma: no cover - a broken venv
            pytest.fail(f"{line} is not installed")
        assert requirement.specifier.contains(dist.version), (line, dist.version)
        requires_python = SpecifierSet(dist.metadata.get("Requires-Python") or "")
        assert requires_python.contains(python), (line, str(requires_python))


def test_manifest_requires_no_pyftms() -> None:
    """pyftms declares Python < 3.14; the integration has its own FTMS client."""
    requirements = json.loads(MANIFEST.read_text(encoding="utf-8"))["requirements"]
    assert not [line for line in requirements if "pyftms" in line.lower()]
