"""The shape of the code (README, Architecture): dependencies point one way and no module imports itself back.

Every import the apps make counts, at the top of a module or inside a function: an import deferred into a
function to dodge a circle is still a circle. The ground (`home`) and the plumbing (`plumbing`, `outbox`) import no
domain app; domain apps may use both. The JSON API's core (`api`) is plumbing too: the apps' routers reach it
through a Wagtail hook, it imports none of them. The three apps inside `deliberation/` build on each other one way: the
mailbox, then the council (which puts the mailbox's topics on its agendas), then the follow-up (which turns the
council's results into decisions). The demo (installed in development and tests only) uses them all, and nothing
imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("plumbing", "api", "home", "outbox", "events", "points", "deliberation", "neighbours", "demo")
GROUND = ("plumbing", "api", "home", "outbox")
DOMAINS = ("events", "points", "deliberation", "neighbours")
# Inside deliberation/: each app may import those before it, never one after it.
DELIBERATION = ("deliberation.mailbox", "deliberation.council", "deliberation.followup")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def own_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
                continue
            modules[module_name(path)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The own modules `name` imports (anywhere in it), each with the line of its first import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from x import y` imports x.y when y is a module, and x itself in any case.
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            if target in modules and target != name:
                found.setdefault(target, node.lineno)
    return found


def import_graph() -> dict[str, dict[str, int]]:
    modules = own_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_graph_sees_every_app_and_their_imports():
    graph = import_graph()
    assert {name.split(".")[0] for name in graph} == set(APPS)
    assert len(graph) > 100
    # Top-level and deferred imports alike: the events services import the models at the top, the points
    # services are imported inside a function of the council's services.
    assert "events.models" in graph["events.services"]
    assert "points.services" in graph["deliberation.council.services"]


def test_the_cycle_finder_finds_a_circle_through_a_deferred_import():
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 9}, "d": {"a": 1}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_module_imports_a_module_that_imports_it_back():
    graph = import_graph()
    found = cycles(graph)
    # Each group with the imports that tie it together, e.g. "a.models:12 imports a.services".
    described = [
        sorted(
            f"{module}:{graph[module][target]} imports {target}"
            for module in group
            for target in graph[module]
            if target in group
        )
        for group in found
    ]
    assert described == []


@pytest.mark.parametrize("layer", GROUND)
def test_the_ground_and_the_plumbing_import_no_domain_app(layer):
    graph = import_graph()
    upward = sorted(
        f"{module}:{line} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == layer
        for target, line in targets.items()
        if target.split(".")[0] in DOMAINS
    )
    assert upward == []


def test_no_app_imports_the_demo():
    graph = import_graph()
    into_demo = sorted(
        f"{module}:{line} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] != "demo"
        for target, line in targets.items()
        if target.split(".")[0] == "demo"
    )
    assert into_demo == []
    assert "demo.management.commands.seed_demo" in graph  # the demo is in the graph: the check sees it


@pytest.mark.parametrize("position", range(len(DELIBERATION) - 1))
def test_the_deliberation_apps_build_on_each_other_one_way(position):
    graph = import_graph()
    app, later = DELIBERATION[position], DELIBERATION[position + 1 :]
    backward = sorted(
        f"{module}:{line} imports {target}"
        for module, targets in graph.items()
        if module == app or module.startswith(f"{app}.")
        for target, line in targets.items()
        if any(target == other or target.startswith(f"{other}.") for other in later)
    )
    assert backward == []
    assert any(module.startswith(f"{app}.") for module in graph)  # the app is in the graph: the check sees it
