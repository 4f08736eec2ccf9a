"""Test fixtures: one app per session on a migrated database (SQLite file or TEST_DATABASE_URL)."""
from __future__ import annotations

import os
import re

import pytest
from argon2 import PasswordHasher
from flask_migrate import upgrade
from sqlalchemy import text

from core.app import create_app
from core.auth import models as auth_models
from core.db import db

from .factories import DEFAULT_PASSWORD


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(scope="session")
def app(database_url):
    # Real argon2id, with parameters cheap enough that a suite creating hundreds of users stays fast.
    auth_models._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
    })
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
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
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """Reference data (counties, industries, zones, parks, anchor firms), as `flask seed` loads it."""
    from core.auth.services import seed_counties
    from parks.services import seed_reference

    seed_counties()
    seed_reference()
    db.session.commit()


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
