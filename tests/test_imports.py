"""How the integration's modules import each other, read from their source.

Every ``import`` statement counts, wherever it is: at the top, inside a
function (a lazy import) and under ``if TYPE_CHECKING:`` (a type-only cycle is
still a cycle: it couples the two modules both ways). What does not count is
Python's implicit import of a module's parent packages: importing
``safety.policy`` runs the integration's ``__init__.py`` first, which imports
everything as Home Assistant's entry point; that is not a dependency that one
module chose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "custom_components.retro_walk"
ROOT = Path(__file__).parent.parent / "custom_components" / "retro_walk"
# Decisions and calculations without Home Assistant: fast to test, shared with
# the replay tool and the benchmarks.
PURE = ("session", "detection", "safety.policy", "walker", "export")


def _module_name(path: Path, root: Path) -> str:
    """``safety/policy.py`` → ``safety.policy``; a package is its folder.

    The integration's own ``__init__.py`` is ``""``.
    """
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def _internal(dotted: str) -> str | None:
    """``custom_components.retro_walk.x`` → ``x``; None for other packages."""
    if dotted == PACKAGE or dotted.startswith(f"{PACKAGE}."):
        return dotted.removeprefix(PACKAGE).removeprefix(".")
    return None


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The integration's module that ``target`` (or a name in it) is in."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target if target in modules else None


def _from_base(name: str, path: Path, node: ast.ImportFrom) -> str | None:
    """The integration's dotted module an ``ImportFrom`` reads from, if any."""
    if not node.level:
        return _internal(node.module or "")
    base = name.split(".") if name else []
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(
    name: str, path: Path, modules: dict[str, Path]
) -> tuple[set[str], set[str]]:
    """The integration's modules and the outside packages that ``path`` imports."""
    inside: set[str] = set()
    outside: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                own = _internal(alias.name)
                if own is None:
                    outside.add(alias.name.partition(".")[0])
                elif (found := _resolve(own, modules)) is not None:
                    inside.add(found)
        elif isinstance(node, ast.ImportFrom):
            own = _from_base(name, path, node)
            if own is None:
                outside.add((node.module or "").partition(".")[0])
                continue
            # ``from . import treadmill`` may name a submodule, not a name.
            for alias in node.names:
                sub = f"{own}.{alias.name}" if own else alias.name
                found = sub if sub in modules else _resolve(own, modules)
                if found is not None:
                    inside.add(found)
    inside.discard(name)
    return inside, outside


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Module → the integration's modules it imports; module → outside packages."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name], outside[name] = _imports(name, path, modules)
    return graph, outside


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_the_integrations_modules() -> None:
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_the_graph_sees_every_kind_of_import() -> None:
    """Relative, absolute, package and type-only imports are all edges."""
    graph, _ = import_graph()
    assert "coordinator" in graph[""]  # relative, from the package's __init__
    assert "const" in graph["frontend"]  # absolute custom_components.retro_walk…
    assert "detection" in graph["safety.policy"]  # a package
    assert "safety.runner" in graph["coordinator"]
    assert "motion" in graph["safety.runner"]


def test_a_type_checking_import_back_is_a_cycle(tmp_path: Path) -> None:
    """The checker itself: the circle this integration had is found."""
    package = tmp_path / "retro_walk"
    (package / "safety").mkdir(parents=True)
    (package / "__init__.py").write_text("from .coordinator import Coordinator\n")
    (package / "coordinator.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from .safety import SafetyPolicy\n"
    )
    (package / "safety" / "__init__.py").write_text(
        "from ..coordinator import Coordinator\nfrom ..motion import MotionInput\n"
    )
    (package / "motion.py").write_text(
        "def lazy():\n    from custom_components.retro_walk import coordinator\n"
    )
    graph, _ = import_graph(package)
    assert cycles(graph) == [["coordinator", "motion", "safety"]]
    assert "coordinator" in graph["motion"]


@pytest.mark.parametrize("pure", PURE)
def test_pure_modules_import_no_home_assistant(pure: str) -> None:
    """Nor does anything of the integration that they import."""
    graph, outside = import_graph()
    seen: set[str] = set()
    todo = [name for name in graph if name == pure or name.startswith(f"{pure}.")]
    assert todo, pure
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert "homeassistant" not in outside[name], f"{pure} → {name}"
        assert "aiohttp" not in outside[name], f"{pure} → {name}"
        todo.extend(graph[name])
