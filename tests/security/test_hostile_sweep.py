"""Hostile input: every form and filtered page, as each role let through, never gets a 500 or half-saves, and
whatever it saves leaves the briefing, the ledger export and the map building."""
from __future__ import annotations

import io
import json
import logging
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import openpyxl
import pytest
from flask import url_for
from hypothesis import HealthCheck, Phase, given, settings
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from core.auth.models import Role
from core.db import db
from tests.prepared import delete_every_row
from tests.projects.web import changed_tables, new_client, path_of
from tests.test_route_policy import ANONYMOUS, POLICY, ROLES, SHOWS_SECRET, expected

from .helpers import (
    STATE_CHANGING,
    checksum,
    collected_routes,
    database_state,
    get_endpoints,
    sample_payload,
    sample_urls,
    state_changing_endpoints,
)
from .hostile import Plan, field_kind, is_multipart, opened, plans, urlencoded
from .test_get_crawl import QUERIES

# Two to three minutes on each database: run by .ci/run (-m ""), left out of a plain `make test`.
pytestmark = pytest.mark.slow

SAVED = (302, 303)
# What a saved hostile value must not break: the downloads and the map, as the commerce bureau fetches them.
BUILDS = ("/reports/briefing", "/ledgers/export", "/map", "/api/v1/projects.geojson")
WORKBOOKS = ("/reports/briefing", "/ledgers/export")
NOT_FIELDS = {"csrf_token"}
# Examples per case: a few, plus one for each field (more for an upload: a file has more ways to be wrong), so a
# form of thirty fields gets more than a bare button.
MIN_EXAMPLES, MAX_EXAMPLES, FILE_EXAMPLES = 3, 12, 5
# Failed logins count towards the throttle: after a handful every login would be refused before its form is read.
RESTORE_AFTER_EVERY_EXAMPLE = {"auth.login"}


def roles_for(endpoint: str, method: str) -> list[str]:
    """The roles the route lets through (a county official on their own county's rows)."""
    policy = POLICY.get(endpoint)
    if policy is None:  # the route-policy test names the missing entry; here, sweep it as an administrator
        return [Role.ADMIN.value]
    if policy.access_for(method) == "login":
        return [ANONYMOUS]  # a logged-in user is sent home before the form is read
    return [role for role in ROLES if expected(policy, method, role, foreign=False).allowed]


def sweep_cases() -> list:
    routes = collected_routes()
    cases = [(method, endpoint) for endpoint in state_changing_endpoints()
             for method in sorted(routes[endpoint] & STATE_CHANGING)]
    cases += [("GET", endpoint) for endpoint in sorted(QUERIES)]
    return [pytest.param(method, endpoint, role, id=f"{method} {endpoint} {role}")
            for method, endpoint in cases for role in roles_for(endpoint, method)]


class FormFields(HTMLParser):
    """The forms of a page: (method, action, {field name: (input type, value)})."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(((attrs.get("method") or "get").upper(), attrs.get("action") or "", {}))
        elif self.forms and tag in ("input", "select", "textarea") and attrs.get("name"):
            kind = attrs.get("type", "text") if tag == "input" else tag
            if kind != "submit" and attrs["name"] not in NOT_FIELDS:
                self.forms[-1][2].setdefault(attrs["name"], (kind, attrs.get("value")))


_page_fields: dict[tuple[str, str], dict] = {}


def page_fields(app, world) -> dict[tuple[str, str], dict]:
    """(method, endpoint) -> the fields of every form that posts (or gets) there, read off the pages an
    administrator (and, for the login form, a visitor) is shown: a valid payload leaves out optional fields.

    Read once: every test inserts the same prepared rows, with the same ids and versions."""
    if not _page_fields:
        adapter = app.url_map.bind("localhost")
        for role in (ANONYMOUS, Role.ADMIN.value):
            client = new_client(app, world.users.get(role))
            for endpoint in get_endpoints():
                for url in sample_urls(world, endpoint)[:1]:
                    response = client.get(url)
                    if response.mimetype == "text/html":
                        parser = FormFields()
                        parser.feed(response.get_data(as_text=True))
                        for method, action, fields in parser.forms:
                            try:
                                target, _ = adapter.match(urlsplit(action or url).path, method=method)
                            except HTTPException:
                                continue
                            _page_fields.setdefault((method, target), {}).update(fields)
                    response.close()
    return _page_fields


class Unhandled(logging.Handler):
    """The exceptions the app's 500 handler logs, to re-raise in the test: Hypothesis tells bugs apart by
    where their exception was raised, so two different app bugs are reported as two."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


class Sweep:
    """One route, one role: sends a Plan's request and checks what it did."""

    def __init__(self, app, prepared, method: str, endpoint: str, role: str, unhandled: Unhandled):
        self.app, self.prepared, self.world = app, prepared, prepared.world
        self.method, self.endpoint, self.role, self.unhandled = method, endpoint, role, unhandled
        # A GET's query string is the form swept (World.url gives the monthly page its county: the POST keeps it).
        url = self.world.url(endpoint, foreign=False)
        self.url = url.split("?")[0] if method == "GET" else url
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        self.url_args = sorted(name for name, converter in rule._converters.items()
                               if isinstance(converter, IntegerConverter))
        self.clients: dict[str, object] = {}
        self.known: tuple[dict, str] | None = None  # the rows as last read, with their checksum, while unchanged
        shown, valid = page_fields(app, self.world).get((method, endpoint), {}), self.valid()
        self.fields: dict[str, tuple[str, object]] = {}  # name -> (kind, the valid value or None)
        for name in {*shown, *valid}:
            html_type, shown_value = shown.get(name, (None, None))
            self.fields[name] = (field_kind(html_type, valid.get(name, shown_value)), valid.get(name))

    @property
    def budget(self) -> int:
        files = sum(kind == "file" for kind, _ in self.fields.values())
        return min(MAX_EXAMPLES, MIN_EXAMPLES + len(self.fields) + FILE_EXAMPLES * files)

    def valid(self) -> dict:
        """The form that would save (a POST) or the filters a page is crawled with (a GET), built anew."""
        if self.method == "GET":
            return dict(parse_qsl(QUERIES[self.endpoint][0].split("?")[-1]))
        return sample_payload(self.world, self.endpoint)

    def client(self, role: str):
        if role not in self.clients:
            self.clients[role] = new_client(self.app, self.world.users.get(role))
            self.known = None  # logging in records the time on the user's row
        return self.clients[role]

    def state(self) -> tuple[dict, str]:
        state = database_state()
        return state, checksum(state)

    def restore(self) -> None:
        """The prepared rows again, as the example found them; logged-in sessions go with them."""
        db.session.rollback()
        delete_every_row()
        self.prepared.start()
        self.clients.clear()
        self.known = None

    def target(self, plan: Plan) -> str:
        if plan.url_id is None:
            return self.url
        name, value = plan.url_id
        with self.app.test_request_context():
            _, args = self.app.url_map.bind("localhost").match(urlsplit(self.url).path, method=self.method)
            return url_for(self.endpoint, **{**args, name: value})

    def request(self, client, method: str, url: str, form: dict, what: str):
        """Send the form (as the query string of a GET) and check the answer is no server error."""
        self.unhandled.errors.clear()
        if method == "GET":
            response = client.get(f"{url}?{urlencoded(form)}" if form else url)
        elif is_multipart(form):
            response = client.open(url, method=method, data=opened(form))
        else:
            response = client.open(url, method=method, data=urlencoded(form),
                                   content_type="application/x-www-form-urlencoded")
        response.get_data()  # kept for saved(), which reads the page after the response is closed
        response.close()
        self.check(response, what)
        return response

    def saved(self, response) -> bool:
        """Whether the answer says the form was saved: a redirect, or the page showing a new token's secret once."""
        return response.status_code in SAVED or (self.endpoint in SHOWS_SECRET and response.status_code == 200
                                                 and 'id="token-secret"' in response.get_data(as_text=True))

    def send(self, plan: Plan) -> None:
        try:
            self._send(plan)
        except BaseException:
            self.restore()  # the next example (Hypothesis shrinks a failure) starts from the prepared rows too
            raise

    def _send(self, plan: Plan) -> None:
        client = self.client(self.role)
        url, form = self.target(plan), plan.form(self.valid())
        what = f"{self.method} {url} as {self.role} with {plan!r}"
        before = self.known or self.state()
        response = self.request(client, self.method, url, form, what)
        if plan.url_id is not None:
            assert response.status_code == 404, f"{what}: {response.status_code}, expected 404 for a row no id names"
        after = self.state()
        if self.method == "GET" or not self.saved(response):
            assert after[1] == before[1], f"{what}: refused ({response.status_code}) but changed " \
                                          f"{changed_tables(before[0], after[0])}"
        if self.endpoint == "ledgers.upload":
            after = self.confirm_preview(client, response, what) or after
        if after[1] != before[1]:
            self.check_builds(what)
        if after[1] != before[1] or self.saved(response) or self.endpoint in RESTORE_AFTER_EVERY_EXAMPLE:
            self.restore()
        else:
            self.known = after  # nothing changed: the next example starts from the same rows

    def confirm_preview(self, client, response, what: str) -> tuple[dict, str] | None:
        """Import a hostile ledger its preview accepted: what the import saves is what the exports must take."""
        page = FormFields()
        page.feed(response.get_data(as_text=True))
        offered = next((fields for _, action, fields in page.forms if action.endswith("/confirm")), None)
        if offered is None:
            return None
        what = f"{what}, then confirmed"
        before = self.state()
        form = {name: value or "" for name, (_, value) in offered.items()}
        with self.app.test_request_context():
            url = url_for("ledgers.confirm")
        confirmed = self.request(client, "POST", url, form, what)
        after = self.state()
        if confirmed.status_code not in SAVED:
            assert after[1] == before[1], f"{what}: refused but changed {changed_tables(before[0], after[0])}"
        return after

    def check_builds(self, what: str) -> None:
        client = self.client(Role.COMMERCE.value)
        for path in BUILDS:
            response = self.request(client, "GET", path, {}, f"{path} after {what} saved")
            assert response.status_code == 200, f"{path} after {what} saved: {response.status_code}"
            try:
                if path in WORKBOOKS:
                    openpyxl.load_workbook(io.BytesIO(response.get_data()))
                elif path.endswith(".geojson"):
                    json.loads(response.get_data())
            except Exception as error:
                raise AssertionError(f"{path} after {what} saved: 200, but the file does not open: {error!r}") \
                    from error

    def check(self, response, what: str) -> None:
        """Below 500, or the app's own exception raised here with what caused it."""
        if response.status_code < 500:
            return
        if self.unhandled.errors:
            error = self.unhandled.errors[-1]
            error.add_note(f"hostile sweep: {what} -> {response.status_code}")
            raise error
        raise AssertionError(f"{what}: {response.status_code} {path_of(response)}")


@pytest.fixture
def unhandled(app):
    handler = Unhandled()
    app.logger.addHandler(handler)
    yield handler
    app.logger.removeHandler(handler)


@pytest.mark.parametrize(("method", "endpoint", "role"), sweep_cases())
def test_hostile_input(app, crawl_world, prepared_crawl_world, unhandled, method, endpoint, role):
    sweep = Sweep(app, prepared_crawl_world, method, endpoint, role, unhandled)

    # Settings of its own per case (a bare button needs fewer examples than a 30-field form); derandomized, so
    # CI runs the same examples every time, and no example database, so a run never depends on an earlier one.
    # No shrinking: each example is a request or more, and shrinking a failure costs hundreds, so a failing sweep
    # would take minutes; the app's exception, raised again with the plan, already names the field at fault.
    @settings(max_examples=sweep.budget, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(plan=plans(sweep.fields, sweep.url_args))
    def hostile_request(plan: Plan) -> None:
        sweep.send(plan)

    hostile_request()


def test_every_form_on_a_page_is_swept(app, crawl_world):
    """Each form the pages show is swept: a POST form's route has a case, and a filter form (a GET) is in QUERIES."""
    swept = {(case.values[0], case.values[1]) for case in sweep_cases()}
    shown = set(page_fields(app, crawl_world))
    assert shown - swept == set(), "add a valid query for these filter forms to QUERIES in test_get_crawl.py"
