"""The user guide: every role reads it, its pictures exist, each page it shows still has the element it points at,
the dashboard's figures link to their definitions, and the forms' hints are the glossary's words."""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from core.auth.models import Role
from core.guide.glossary import TERMS
from core.guide.screens import SCREENS, WIDTHS
from tests.core.helpers import login
from tests.factories import make_project, make_user

STATIC = Path(__file__).resolve().parents[2] / "static"
SIMPLE = re.compile(r'(?P<tag>[a-z][a-z0-9]*)?(?P<rest>(?:#[\w-]+|\.[\w-]+|\[[\w-]+(?:="[^"]*")?\])*)$')
PART = re.compile(r'#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)|\[(?P<attr>[\w-]+)(?:="(?P<value>[^"]*)")?\]')


class _Elements(HTMLParser):
    """Every start tag of a page with its attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def matches(html: str, selector: str) -> bool:
    """Whether the page has an element matching one compound CSS selector (the subset the guide's screens use)."""
    shape = SIMPLE.match(selector)
    assert shape and selector, f"the guide's selector {selector!r} is not a compound selector this test reads"
    parts = list(PART.finditer(shape["rest"]))
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        if shape["tag"] and tag != shape["tag"]:
            continue
        if all((p["id"] is None or attrs.get("id") == p["id"])
               and (p["cls"] is None or p["cls"] in attrs.get("class", "").split())
               and (p["attr"] is None or (p["attr"] in attrs and (p["value"] is None or attrs[p["attr"]] == p["value"])))
               for p in parts):
            return True
    return False


def test_the_selector_reader_tells_present_from_missing():
    html = '<div id="headline" class="row g-2"><a href="/ledgers/sample.xlsx">x</a></div>'
    assert matches(html, "#headline") and matches(html, "div.row") and matches(html, 'a[href="/ledgers/sample.xlsx"]')
    assert not matches(html, "#gone") and not matches(html, "span.row") and not matches(html, 'a[href="/other"]')


def _client_as(app, role: str):
    user = make_user(role)
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client, user


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_every_role_reads_the_whole_guide_from_the_navbar(app, project_ref, role):
    client, _ = _client_as(app, role)
    home = client.get("/").get_data(as_text=True)
    assert 'id="help-link" href="/help"' in home
    page = client.get("/help")
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    for section in ("roles", "task-lead", "task-project", "task-monthly", "task-ledger", "task-dashboard",
                    "figures", "task-map", "task-chains", "task-admin", "glossary"):
        assert f'id="{section}"' in html, section
    for key, term in TERMS.items():
        assert f'<dt id="term-{key}">{term.term}</dt><dd>{term.text}</dd>' in html
    for screen in SCREENS.values():
        for width in WIDTHS:
            assert f"/static/{screen.image(width)}" in html
    assert 'href="/ledgers/sample.xlsx"' in html


def test_every_picture_the_guide_shows_was_made_by_make_docs():
    missing = [screen.image(width) for screen in SCREENS.values() for width in WIDTHS
               if not (STATIC / screen.image(width)).is_file()]
    assert missing == [], f"run `make docs` to take these screenshots: {missing}"
    on_disk = {path.relative_to(STATIC).as_posix() for path in (STATIC / "help").iterdir()}
    shown = {screen.image(width) for screen in SCREENS.values() for width in WIDTHS}
    assert on_disk <= shown, f"pictures no screen shows any more: {sorted(on_disk - shown)}"


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_each_page_the_guide_shows_still_has_the_element_it_points_at(app, project_ref, name):
    screen = SCREENS[name]
    client, user = _client_as(app, screen.role)
    project = make_project(by=user if screen.role != Role.LEADER.value else None)
    response = client.get(screen.path.format(project=project.id))
    assert response.status_code == 200, screen.path
    assert matches(response.get_data(as_text=True), screen.selector), \
        f"{screen.path} as {screen.role} no longer has {screen.selector}: update the guide and run `make docs`"


def test_each_dashboard_figure_links_to_its_definition_in_the_guide(app, project_ref):
    client, user = _client_as(app, Role.LEADER.value)
    make_project()
    dashboard = client.get("/dashboard").get_data(as_text=True)
    guide = client.get("/help").get_data(as_text=True)
    cards = re.findall(r'data-figure="([\w-]+)"', dashboard)
    links = re.findall(r'href="/help#figure-([\w-]+)" data-figure-help="\1"', dashboard)
    assert len(cards) == 8 and set(cards) <= set(links)
    assert {"funnel", "completeness", "data-completeness", "ranking", "lists"} <= set(links)
    for anchor in set(links):
        assert f'id="figure-{anchor}"' in guide, anchor


def _hint(key: str) -> str:
    return f'<small class="form-text text-body-secondary">{TERMS[key].text}</small>'


def test_the_forms_hints_are_the_glossarys_words(app, project_ref):
    client, user = _client_as(app, Role.ADMIN.value)
    project_form = unescape(client.get("/projects/new").get_data(as_text=True))
    for key in ("sign_type", "total_investment", "fixed_asset_investment", "project_code", "signing_event",
                "credit_code", "capital_increase", "hooked_leader"):
        assert _hint(key) in project_form, key
    project = make_project(by=user)
    park_page = unescape(client.get(f"/parks/{project.park_id or 1}").get_data(as_text=True))
    for key in ("free_land", "factory_space", "planned_area", "developed_area"):
        assert _hint(key) in park_page, key
    county, county_user = _client_as(app, Role.COUNTY.value)
    make_project(by=county_user)
    monthly = unescape(county.get("/reports/monthly").get_data(as_text=True))
    assert TERMS["funds_arrived"].text in monthly and TERMS["investment_completed"].text in monthly
