"""Security-test helpers: the routes as url_map lists them, sample URLs, the database checksum, CSRF tokens."""
from __future__ import annotations

import functools
import hashlib
import time

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from core.app import create_app
from core.auth import models as auth_models
from core.db import db
from tests.projects.web import snapshot
from tests.test_route_policy import IGNORED_METHODS, World, is_page_rule, valid_payload

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Tables a request may write without changing any data: the login and session bookkeeping
# (server-side sessions, login attempts). Every other table must read back exactly the same.
BOOKKEEPING_TABLES = frozenset(auth_models.BOOKKEEPING_TABLES)
# Not in db.metadata (Alembic keeps it), but a request that moved it would change the schema's record.
ALEMBIC_VERSION = sa.table("alembic_version", sa.column("version_num", sa.String(32)))
# URL arguments naming a row of one county: crawl them for the official's own county and another's.
COUNTY_ROW_ARGS = frozenset({"project_id", "item_id", "milestone_id", "blocker_id", "lead_id", "attachment_id"})
STATIC_FILES = {"static": "css/app.css", "bootstrap.static": "bootstrap5/css/bootstrap.min.css"}
# Flask-WTF signs its tokens with this salt (a literal inside flask_wtf.csrf, not exported).
CSRF_SALT = "wtf-csrf-token"


def route_methods(app: Flask) -> dict[str, frozenset[str]]:
    """Endpoint -> the methods its rules accept, straight from the app's url_map: the pages' (the token API takes no
    session, so no CSRF token either; tests/api checks it)."""
    methods: dict[str, set[str]] = {}
    for rule in filter(is_page_rule, app.url_map.iter_rules()):
        methods.setdefault(rule.endpoint, set()).update(set(rule.methods) - IGNORED_METHODS)
    return {endpoint: frozenset(accepted) for endpoint, accepted in methods.items()}


@functools.cache
def collected_routes() -> dict[str, frozenset[str]]:
    """The url_map of an app built at collection time, to parametrize over (fixtures come later).

    The session app builds the same map; test_routes_are_the_collected_ones checks that they agree."""
    return route_methods(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}))


def state_changing_endpoints() -> list[str]:
    return sorted(endpoint for endpoint, methods in collected_routes().items() if methods & STATE_CHANGING)


def get_endpoints() -> list[str]:
    return sorted(endpoint for endpoint, methods in collected_routes().items() if "GET" in methods)


def rule_arguments(app: Flask, endpoint: str) -> frozenset[str]:
    return frozenset(next(r.arguments for r in app.url_map.iter_rules() if r.endpoint == endpoint))


def sample_urls(world: World, endpoint: str) -> list[str]:
    """Concrete URLs of an endpoint on the world's real rows (both counties' for a county's row)."""
    if endpoint in STATIC_FILES:
        with world.app.test_request_context():
            return [url_for(endpoint, filename=STATIC_FILES[endpoint])]
    foreigns = (False, True) if rule_arguments(world.app, endpoint) & COUNTY_ROW_ARGS else (False,)
    try:
        return [world.url(endpoint, foreign) for foreign in foreigns]
    except KeyError as missing:
        pytest.fail(f"{endpoint}: no sample value for URL argument {missing}; add one to World.url "
                    "in tests/test_route_policy.py")


def sample_payload(world: World, endpoint: str) -> dict:
    """A complete form for the endpoint (one that saves, given a valid token): built anew for each
    request, since a file in it is read once."""
    try:
        return valid_payload(endpoint, world)
    except KeyError:
        pytest.fail(f"{endpoint}: no sample form; add one to valid_payload in tests/test_route_policy.py")


def checked_tables() -> list[sa.TableClause]:
    return [t for t in db.metadata.sorted_tables if t.name not in BOOKKEEPING_TABLES] + [ALEMBIC_VERSION]


def database_state() -> dict[str, list]:
    """Every committed row of every checked table."""
    state = {name: rows for name, rows in snapshot().items() if name not in BOOKKEEPING_TABLES}
    state[ALEMBIC_VERSION.name] = sorted(tuple(row) for row in db.session.execute(sa.select(ALEMBIC_VERSION)))
    return state


def checksum(state: dict[str, list]) -> str:
    return hashlib.sha256(repr(sorted(state.items())).encode()).hexdigest()


def csrf_serializer(app: Flask, signer=TimestampSigner) -> URLSafeTimedSerializer:
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    return URLSafeTimedSerializer(secret, salt=CSRF_SALT, signer=signer)


def backdated_token(app: Flask, token: str, age_s: int) -> str:
    """``token`` signed again by the app's key as if issued ``age_s`` seconds ago: same session, older stamp."""
    raw = csrf_serializer(app).loads(token)  # the session's own token, which the page's token signs

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_s

    return csrf_serializer(app, Backdated).dumps(raw)
