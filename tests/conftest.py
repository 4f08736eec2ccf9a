"""Test fixtures: one app per session on a migrated database (SQLite file or TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
import os
import re
from typing import NamedTuple

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from flask_migrate import upgrade

from core import clock
from core.app import create_app
from core.auth import models as auth_models
from core.db import db

from .factories import DEFAULT_PASSWORD
from .harness import reset_schema
from .prepared import PreparedRows, delete_every_row


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


class RequestScopedClient(FlaskClient):
    """Serve each request in a fresh app context, as gunicorn does.

    `_clean_database` keeps one app context open for the whole test, and Flask reuses an open app
    context for every request. Then `g` (Flask-Login's cached user, Flask-WTF's CSRF token) and
    the database session would leak from one request into the next: a second client would be
    served as the first one's user, and a view that forgot to commit would still look saved.
    """

    def open(self, *args, **kwargs):
        # End the test's own transaction first: on SQLite it may hold the write lock the
        # request needs, and the request must see what the test set up.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    # Real argon2id, with parameters cheap enough that a suite creating hundreds of users stays fast.
    auth_models._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "LEDGER_IMPORT_DIR": str(tmp_path_factory.mktemp("imports")),  # staged ledger uploads, not instance/
        "ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments")),  # uploaded photos and documents
        # A real cache (the production default, files), shared by the whole session: a stale entry would show.
        "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
    })
    app.test_client_class = RequestScopedClient
    with app.app_context():
        reset_schema(db.engine)
        upgrade()  # the real migrations, not create_all: what runs in production is what is tested
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Every test starts from empty tables and leaves none of its rows behind."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        delete_every_row()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Reference(NamedTuple):
    """The reference data's rows, in the parts the fixtures `counties`, `seeded` and `project_ref` add."""

    counties: PreparedRows
    parks: PreparedRows  # industries, chains, zones, parks and anchor firms
    approval_types: PreparedRows


@pytest.fixture(scope="session")
def reference(app) -> Reference:
    """The reference data as `flask seed` loads it, seeded once by the real seed steps and captured."""
    from core.auth.models import County
    from core.auth.services import seed_counties
    from parks.services import seed_reference
    from projects.models import ApprovalItemType
    from projects.services import seed_approval_types

    with app.app_context():
        seed_counties()
        seed_reference()
        seed_approval_types()
        db.session.commit()
        county, approval_type = County.__table__, ApprovalItemType.__table__
        captured = Reference(
            PreparedRows.capture([county]),
            PreparedRows.capture([t for t in db.metadata.sorted_tables if t not in (county, approval_type)]),
            PreparedRows.capture([approval_type]))
        db.session.remove()
        delete_every_row()
    return captured


@pytest.fixture
def seeded(reference):
    """Reference data (counties, industries, zones, parks, anchor firms), as `flask seed` loads it.

    The rows the seed steps made once for the session, inserted: a fixture that makes projects (which seeds what is
    missing) must come after this one."""
    reference.counties.insert()
    reference.parks.insert()


@pytest.fixture
def freeze(app, monkeypatch):
    """freeze(moment): from now on clock.now() is ``moment`` in the app and here (clock.today() its China
    date; rows saved from then on carry it as their timestamps). The clock may jump days past the logins
    made before it, so their idle and age limits are lifted for the test."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 100 * 24 * 60)
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_HOURS", 100 * 24)

    def at(moment: dt.datetime) -> dt.datetime:
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment
    return at


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = DEFAULT_PASSWORD, follow: bool = False):
        return self.client.post("/login", data={"username": user.username, "password": password},
                                follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def project_ref(seeded, reference):
    """`seeded` plus the standard approval item types (施工许可 etc.) that projects need."""
    reference.approval_types.insert()
