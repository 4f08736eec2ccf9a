"""CSRF: with protection on, every state-changing route refuses a missing, foreign or expired token, saving nothing."""
from __future__ import annotations

import json
import logging

import pytest

from core.api import base as api_base
from core.app import create_app
from core.auth.models import Role
from core.extensions import csrf
from tests.conftest import csrf_token_from
from tests.projects.web import changed_tables, new_client, path_of
from tests.test_route_policy import ANONYMOUS, HOME, LOGIN, POLICY, PREVIEW_ONLY, SHOWS_SECRET

from .helpers import (
    STATE_CHANGING,
    backdated_token,
    checksum,
    collected_routes,
    database_state,
    route_methods,
    sample_payload,
    sample_urls,
    state_changing_endpoints,
)

MISSING, FOREIGN, EXPIRED = "The CSRF token is missing.", "The CSRF tokens do not match.", "The CSRF token has expired."
BAD_REQUEST_TITLE = "请求有误"


def actor(endpoint: str, method: str) -> str:
    """A role the route lets through, so that a refusal can only be the token's doing."""
    return ANONYMOUS if POLICY[endpoint].access_for(method) == "login" else Role.ADMIN.value


def page_token(client, role: str) -> str:
    """A valid token of this client's session, as a page it is shown carries it."""
    return csrf_token_from(client.get(LOGIN if role == ANONYMOUS else HOME).get_data(as_text=True))


def logged_in(client) -> bool:
    return client.get(HOME).status_code == 200


def form_fields(payload: dict) -> dict:
    """The payload's plain fields (no files), for bodies that are not multipart forms."""
    return {name: value for name, value in payload.items() if isinstance(value, str)}


def refused_requests(app, own: str, foreign: str) -> list[tuple[str, str, dict]]:
    """(what, the reason Flask-WTF logs, the request's extra arguments) for every way to post without a good token."""
    expired = backdated_token(app, own, app.config["WTF_CSRF_TIME_LIMIT"] + 60)
    return [
        ("no token", MISSING, {}),
        ("no token, JSON body", MISSING, {"as_json": True}),
        ("no token, text/plain body", MISSING, {"as_text": True}),
        ("no token, method override to GET", MISSING, {"headers": {"X-HTTP-Method-Override": "GET"}}),
        ("empty token", MISSING, {"token": ""}),
        ("another session's token", FOREIGN, {"token": foreign}),
        ("another session's token in the X-CSRFToken header", FOREIGN, {"headers": {"X-CSRFToken": foreign}}),
        ("another session's token, JSON body with the header", FOREIGN,
         {"as_json": True, "headers": {"X-CSRFToken": foreign}}),
        ("expired token", EXPIRED, {"token": expired}),
        ("expired token in the X-CSRF-Token header", EXPIRED, {"headers": {"X-CSRF-Token": expired}}),
    ]


def send(client, url: str, method: str, payload: dict, *, token: str | None = None, as_json: bool = False,
         as_text: bool = False, headers: dict | None = None):
    if as_json:
        return client.open(url, method=method, json=form_fields(payload), headers={"Accept": "application/json",
                                                                                   **(headers or {})})
    if as_text:
        body = "&".join(f"{name}={value}" for name, value in form_fields(payload).items())
        return client.open(url, method=method, data=body, content_type="text/plain", headers=headers)
    data = dict(payload) if token is None else {**payload, client.application.config["WTF_CSRF_FIELD_NAME"]: token}
    return client.open(url, method=method, data=data, headers=headers)


def assert_bad_request_page(response, where: str) -> None:
    assert response.status_code == 400, f"{where}: {response.status_code}, expected 400"
    if response.is_json:
        assert response.get_json()["error"] == BAD_REQUEST_TITLE, where
    else:
        assert response.mimetype == "text/html" and BAD_REQUEST_TITLE in response.get_data(as_text=True), where


def test_routes_are_the_collected_ones(app):
    """The parametrized lists come from a url_map built at collection; the app under test has the same."""
    assert route_methods(app) == collected_routes()


def test_csrf_is_on_by_default_and_exempts_nothing():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # no WTF_CSRF_ENABLED override
    assert app.config["WTF_CSRF_ENABLED"] and app.config["WTF_CSRF_CHECK_DEFAULT"]
    assert app.config["WTF_CSRF_METHODS"] >= STATE_CHANGING
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    assert isinstance(limit, int) and 0 < limit <= 24 * 3600, "a token must expire, within a day"
    assert csrf._exempt_views == set(), "a view is CSRF-exempt"
    exempt = {blueprint.name for blueprint in csrf._exempt_blueprints}
    assert exempt == api_base.TOKEN_BLUEPRINTS, "a blueprint besides the token-only API's is CSRF-exempt"
    for rule in app.url_map.iter_rules():
        assert rule.endpoint.split(".")[0] not in exempt or rule.rule.startswith(api_base.PREFIX + "/"), rule.rule


def api_writes(app) -> list[tuple[str, str]]:
    """(endpoint, method) of every state-changing route of the CSRF-exempt, token-only API blueprints."""
    return sorted((rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.split(".")[0] in api_base.TOKEN_BLUEPRINTS
                  for method in rule.methods & STATE_CHANGING)


def test_the_csrf_exempt_api_takes_no_session(app, world, csrf_on):
    """What makes the exemption safe: a logged-in browser's cookie, with or without its CSRF token, opens none of
    the API's writes (401, nothing saved); only an Authorization header does, which a forged request cannot send."""
    client = new_client(app, world.users[Role.ADMIN.value])
    writes = api_writes(app)
    assert writes, "no API write to check"
    before = database_state()
    for endpoint, method in writes:
        url = world.url(endpoint)
        for headers in ({}, {"X-CSRFToken": page_token(client, Role.ADMIN.value)}):
            response = client.open(url, method=method, json={"name": "伪造"}, headers=headers)
            assert response.status_code == 401, f"{method} {url} with the session: {response.status_code}"
            assert response.mimetype == "application/problem+json", f"{method} {url}"
    assert checksum(database_state()) == checksum(before), "a session-only API call saved something"
    assert logged_in(client)


@pytest.mark.parametrize("endpoint", state_changing_endpoints())
def test_route_refuses_missing_foreign_and_expired_tokens(app, world, csrf_on, caplog, endpoint):
    for method in sorted(collected_routes()[endpoint] & STATE_CHANGING):
        role = actor(endpoint, method)
        client = new_client(app, world.users.get(role))
        other = new_client(app, world.users[Role.COMMERCE.value] if role != ANONYMOUS else None)
        own, foreign = page_token(client, role), page_token(other, role)
        assert own != foreign
        url = sample_urls(world, endpoint)[0]
        before = database_state()
        for what, reason, how in refused_requests(app, own, foreign):
            where = f"{method} {url} as {role} with {what}"
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="flask_wtf.csrf"):
                response = send(client, url, method, sample_payload(world, endpoint), **how)
            assert_bad_request_page(response, where)
            assert reason in caplog.messages, f"{where}: refused for {caplog.messages}, not {reason!r}"
            after = database_state()
            assert checksum(after) == checksum(before), f"{where} changed {changed_tables(before, after)}"
        assert logged_in(client) == (role != ANONYMOUS), f"{endpoint}: a refused request changed who is logged in"

        # The control: the same form with this session's own token gets past the check and does its work.
        before = database_state()
        response = send(client, url, method, sample_payload(world, endpoint), token=page_token(client, role))
        where = f"{method} {url} as {role} with its own token"
        assert response.status_code != 400, f"{where}: refused"
        if endpoint == "auth.login":
            assert response.status_code == 302 and logged_in(client), where
        elif endpoint == "auth.logout":
            assert path_of(response) == LOGIN and not logged_in(client), where
        elif endpoint in PREVIEW_ONLY:
            assert response.status_code == 200 and "确认导入" in response.get_data(as_text=True), where
        elif endpoint in SHOWS_SECRET:
            assert response.status_code == 200 and 'id="token-secret"' in response.get_data(as_text=True), where
            assert changed_tables(before, database_state()), f"{where} saved nothing"
        else:
            assert response.status_code == 302, f"{where}: {response.status_code}"
            assert changed_tables(before, database_state()), f"{where} saved nothing"


def test_a_token_counts_as_expired_by_its_age_alone(app, world, csrf_on, caplog):
    """The forged old tokens above are refused for their age: the same forgery just inside the limit passes."""
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    client = new_client(app)
    token = page_token(client, ANONYMOUS)
    login = sample_payload(world, "auth.login")
    with caplog.at_level(logging.INFO, logger="flask_wtf.csrf"):
        response = send(client, LOGIN, "POST", login, token=backdated_token(app, token, limit + 5))
    assert response.status_code == 400 and EXPIRED in caplog.messages
    response = send(client, LOGIN, "POST", login, token=backdated_token(app, token, limit - 60))
    assert response.status_code == 302 and logged_in(client)


@pytest.mark.parametrize("role", [ANONYMOUS, Role.ADMIN.value])
def test_methods_a_route_does_not_take_are_refused(app, world, csrf_on, role):
    """A POST, PUT, PATCH or DELETE the route does not take (the JSON/GeoJSON APIs and the read-only pages
    take none) is refused, 405 or 400 for the missing token, and changes nothing: no way round the forms."""
    client = new_client(app, world.users.get(role))
    before = database_state()
    for endpoint, methods in sorted(collected_routes().items()):
        for url in sample_urls(world, endpoint):
            for method in sorted(STATE_CHANGING - methods):
                response = client.open(url, method=method, data=json.dumps({"type": "FeatureCollection"}),
                                       content_type="application/geo+json")
                assert response.status_code in (400, 405), f"{method} {url} as {role}: {response.status_code}"
    after = database_state()
    assert checksum(after) == checksum(before), f"as {role}: changed {changed_tables(before, after)}"
