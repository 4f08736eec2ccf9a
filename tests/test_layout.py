"""The code's shape: dependencies run one way, only the composition root names the domains, views never commit,
no application module outgrows one subject, and no migration imports the application."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "parks", "projects", "maps")
# Each package and what it may import besides itself and core; a package never imports one built on it.
ALLOWED = {
    "core": set(),
    "parks": set(),
    "projects": {"parks"},
    "projects.events": {"parks", "projects"},
    "projects.reports": {"parks", "projects", "projects.leads"},  # the to-do page lists overdue leads
    "projects.leads": {"parks", "projects", "projects.events"},
    "projects.chains": {"parks", "projects", "projects.leads"},  # reads projects and leads by chain node
    "projects.ledgers": {"parks", "projects", "projects.events", "projects.reports"},
    "projects.attachments": {"parks", "projects", "projects.reports"},  # a file may support a blocker
    "maps": {"parks", "projects", "projects.events", "projects.reports", "projects.attachments"},  # popup photos
    "maps.dashboard": {"parks", "projects", "projects.events", "projects.reports", "maps"},
    "maps.briefing": {"parks", "projects", "projects.events", "projects.reports", "projects.chains", "maps",
                      "maps.dashboard"},
}
MAX_LINES = 400


def modules():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def owner(module_name: str) -> str:
    """The most specific package of ALLOWED that a dotted module name belongs to."""
    parts = module_name.split(".")
    for size in range(len(parts), 0, -1):
        candidate = ".".join(parts[:size])
        if candidate in ALLOWED:
            return candidate
    return parts[0]


def imported(path: Path) -> set[str]:
    """The application modules a file imports (anywhere in it: lazy imports count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-node.level])
            names.add(f"{base}.{node.module}" if node.module else base)
    return {name for name in names if name.split(".")[0] in PACKAGES}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@pytest.mark.parametrize("path", list(modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_dependencies_run_one_way(path):
    here = owner(module_name(path))
    if module_name(path) == "core.app":
        return  # the composition root names every domain, from its DOMAINS list
    wrong = {name for name in imported(path) if owner(name) not in ALLOWED[here] | {here, "core"}}
    assert not wrong, f"{here} must not import {sorted(wrong)}"


def test_the_composition_root_registers_every_domain_package():
    from core.app import DOMAINS

    assert set(DOMAINS) == set(ALLOWED) - {"core"}


@pytest.mark.parametrize("path", [p for p in modules() if p.name == "views.py"], ids=lambda p: str(p.relative_to(ROOT)))
def test_views_never_commit_or_roll_back(path):
    calls = {node.func.attr for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & {"commit", "rollback"}, "use core.transaction.transaction"


@pytest.mark.parametrize("path", list(modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_application_module_holds_two_subjects(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", sorted((ROOT / "migrations").rglob("*.py")), ids=lambda p: p.name)
def test_migrations_import_no_application_code(path):
    assert not imported(path), "a migration keeps its own copy of what it needs"
