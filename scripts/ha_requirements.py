"""Print the pinned requirements of Home Assistant components and what they pull in.

Home Assistant pip-installs a component's requirements when it loads it, and
walks its dependencies and after-dependencies to do so. Pinning all of them in
requirements.txt, at the versions the installed homeassistant's manifests and
package_constraints.txt give, keeps the demo and the tests from installing at
run time (offline, that fails). Usage, with the venv active:

    python scripts/ha_requirements.py http frontend mqtt ...   # the pins
    python scripts/ha_requirements.py --demo                   # what we load
    python scripts/ha_requirements.py --check requirements.txt --demo

``--demo`` stands for every component the demo, the tests and the e2e tests
make Home Assistant load: config/configuration.yaml, Home Assistant's default
integrations, the integration's dependencies and after-dependencies, and
bluetooth, usb and mqtt (FTMS and MQTT tests). ``--check`` exits 1 and names
every requirement missing from the file or pinned at another version.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import re
import sys

import yaml

import homeassistant
from homeassistant import bootstrap

HA_DIR = Path(homeassistant.__file__).parent
COMPONENTS = HA_DIR / "components"
REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST = REPO_ROOT / "custom_components" / "retro_walk" / "manifest.json"
DEMO_CONFIG = REPO_ROOT / "config" / "configuration.yaml"
# Loaded by the tests: FTMS treadmills over Bluetooth, motion over MQTT.
TEST_DOMAINS = {"bluetooth", "usb", "mqtt"}
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def canonical(name: str) -> str:
    """A distribution name as pip compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


class _ConfigLoader(yaml.SafeLoader):
    """Home Assistant's YAML tags (!secret, !include …) read as nothing."""


_ConfigLoader.add_multi_constructor("!", lambda *_: None)


def demo_domains() -> set[str]:
    """Every component the demo, the tests and the e2e tests make HA load."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    configured = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return (
        set(configured)
        | bootstrap.CORE_INTEGRATIONS
        | bootstrap.FRONTEND_INTEGRATIONS
        | bootstrap.DEFAULT_INTEGRATIONS
        | set(manifest["dependencies"])
        | set(manifest["after_dependencies"])
        | TEST_DOMAINS
    )


def closure(domains: list[str]) -> dict[str, str]:
    """Each component reached from ``domains``, with the one that pulled it in."""
    reached: dict[str, str] = {}
    todo = [(domain, "(asked for)") for domain in domains]
    while todo:
        domain, via = todo.pop()
        manifest_file = COMPONENTS / domain / "manifest.json"
        if domain in reached or not manifest_file.is_file():
            continue
        reached[domain] = via
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        todo.extend(
            (dependency, domain)
            for dependency in manifest.get("dependencies", [])
            + manifest.get("after_dependencies", [])
        )
    return reached


def requirements(domains: list[str]) -> dict[str, tuple[str, str]]:
    """Canonical name → (requirement line, component) for the closure."""
    found: dict[str, tuple[str, str]] = {}
    for domain in sorted(closure(domains)):
        manifest = json.loads(
            (COMPONENTS / domain / "manifest.json").read_text(encoding="utf-8")
        )
        for requirement in manifest.get("requirements", []):
            if match := PIN.match(requirement):
                found.setdefault(canonical(match.group(1)), (requirement, domain))
    return found


def pinned(path: Path) -> dict[str, str]:
    """Canonical name → version of every ``name==version`` line in a file."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def main(argv: list[str] | None = None) -> int:
    """Print the pins, or check a requirements file against them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, metavar="REQUIREMENTS_TXT")
    parser.add_argument("--demo", action="store_true", help="what we load (see above)")
    parser.add_argument("domains", nargs="*")
    args = parser.parse_args(argv)
    domains = set(args.domains) | (demo_domains() if args.demo else set())
    if not domains:
        parser.error("name components, or --demo")
    needed = requirements(sorted(domains))
    if args.check is None:
        for requirement, domain in sorted(needed.values(), key=lambda r: r[1]):
            print(f"{requirement}  # {domain}")
        return 0
    pins = pinned(args.check)
    problems = []
    for name, (requirement, domain) in sorted(needed.items()):
        version = PIN.match(requirement).group(2)  # type: ignore[union-attr]
        if pins.get(name) != version:
            problems.append(
                f"{requirement} ({domain}): {args.check} has {pins.get(name, 'nothing')}"
            )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
