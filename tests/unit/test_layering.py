"""Dependency rules (DESIGN.md §3, CONVENTIONS.md), checked on the source.

The functional core imports only the standard library; `caldav_bridge` never imports Flask or
Radicale; the web app and the Radicale plugins never import each other; only the composition
root (`bridge_server`) sees everything.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "caldav_bridge"
CORE = ["intervals", "opening_hours", "slots", "login_throttle"]
CORE_MODULES = {f"caldav_bridge.{name}" for name in CORE}


def imported_modules(source: Path) -> set[str]:
    """Every module ``source`` imports, relative imports resolved within ``caldav_bridge``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "caldav_bridge" if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            if node.module is None:  # from . import slots
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def is_allowed(module: str) -> bool:
    if module.split(".")[0] in sys.stdlib_module_names:
        return True
    return module == "caldav_bridge" or module in CORE_MODULES


@pytest.mark.parametrize("name", CORE)
def test_core_module_imports_only_the_standard_library(name: str) -> None:
    imports = imported_modules(PACKAGE / f"{name}.py")
    assert imports, "the module should at least import __future__"
    assert sorted(module for module in imports if not is_allowed(module)) == []


def test_the_check_catches_a_third_party_import(tmp_path: Path) -> None:
    source = tmp_path / "impure.py"
    source.write_text("import datetime\nfrom flask import g\nfrom .store import records\n")
    rejected = sorted(module for module in imported_modules(source) if not is_allowed(module))
    assert rejected == ["caldav_bridge.store", "flask"]


FORBIDDEN = {
    "caldav_bridge": {
        "flask",
        "werkzeug",
        "radicale",
        "waitress",
        "booking_web",
        "radicale_plugin",
        "bridge_server",
    },
    "booking_web": {"radicale", "radicale_plugin", "bridge_server"},
    "radicale_plugin": {"flask", "werkzeug", "booking_web", "bridge_server"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_package_imports_only_what_it_may(package: str) -> None:
    sources = sorted((ROOT / package).rglob("*.py"))
    assert sources
    broken = sorted(
        f"{source.relative_to(ROOT)}: {module}"
        for source in sources
        for module in imported_modules(source)
        if module.split(".")[0] in FORBIDDEN[package]
    )
    assert broken == []
