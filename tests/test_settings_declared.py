"""Every setting the apps read is declared in the settings module (README, Configuration), and read as
`settings.X`: a `getattr(settings, "X", default)` would hide a missing declaration behind its default."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
APPS = ("home", "outbox", "events", "points", "deliberation", "neighbours")


def sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def is_settings(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "settings"


def test_no_app_reads_a_setting_with_a_fallback():
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"getattr", "hasattr"}
        and node.args
        and is_settings(node.args[0])
    ]
    assert found == [], "declare the setting in site/linli/settings/base.py and read it as settings.X"


def test_every_linli_setting_the_apps_read_is_declared():
    read = {
        (node.attr, f"{path.relative_to(ROOT)}:{node.lineno}")
        for path, tree in sources()
        if "tests" not in path.parts  # tests may set a setting of their own
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and is_settings(node.value) and node.attr.startswith("LINLI_")
    }
    assert read, "the scan found no settings at all"
    assert [where for name, where in sorted(read) if not hasattr(settings, name)] == []
