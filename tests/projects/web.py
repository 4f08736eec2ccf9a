"""Projects web-test helpers: logged-in clients, committed-state snapshots, page text and form data."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from core.db import db
from projects.rules import EDITABLE_FIELDS
from tests.conftest import CSRF_RE
from tests.factories import DEFAULT_PASSWORD


def new_client(app, user=None, password: str = DEFAULT_PASSWORD):
    """A client of its own (own cookies; each request in a fresh app context, see tests/conftest.py),
    logged in as ``user`` when one is given."""
    client = app.test_client()
    if user is not None:
        data = {"username": user.username, "password": password}
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True))
        if token:  # CSRF protection is on in this test
            data["csrf_token"] = token.group(1)
        response = client.post("/login", data=data)
        assert response.status_code == 302 and path_of(response) != "/login", f"login as {user.username} failed"
    return client


def path_of(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def page_text(response_or_html) -> str:
    """Visible text of a page (tags dropped, entities decoded, whitespace collapsed)."""
    raw = response_or_html if isinstance(response_or_html, str) else response_or_html.get_data(as_text=True)
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def input_value(response, name: str) -> str:
    page = response.get_data(as_text=True)
    for tag in re.findall(r"<input\b[^>]*>", page):
        if re.search(rf'\bname="{re.escape(name)}"', tag):
            match = re.search(r'\bvalue="([^"]*)"', tag)
            return html.unescape(match.group(1)) if match else ""
    raise AssertionError(f"no input named {name} on the page")


def project_names(response) -> list[str]:
    """The project names listed on a list page, in order."""
    page = response.get_data(as_text=True)
    return [html.unescape(name) for name in re.findall(r'<a href="/projects/\d+">([^<]+)</a>', page)]


def reread() -> None:
    """End the test's own transaction, so what it reads next is what the requests committed (nothing stale)."""
    db.session.rollback()


def snapshot() -> dict[str, list]:
    """Every row of every table as committed now: compare two to prove a request saved nothing."""
    reread()
    return {table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
            for table in db.metadata.sorted_tables}


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def fresh(model, ident):
    """A row as committed now."""
    reread()
    return db.session.get(model, ident)


def project_form_data(project, **changes) -> dict[str, str]:
    """The edit form as a browser would post it for ``project`` (hidden version included), with
    ``changes`` applied; a change to None leaves the field out, as an unticked checkbox is."""
    data: dict[str, str] = {"version": str(project.version)}
    for field in EDITABLE_FIELDS:
        value = getattr(project, field)
        if isinstance(value, bool):
            if value:
                data[field] = "y"
        else:  # enums are StrEnums: str() gives the value a <select> posts
            data[field] = "" if value is None else str(value)
    for field, value in changes.items():
        if value is None:
            data.pop(field, None)
        else:
            data[field] = str(value)
    return data
