"""The API's access table: every endpoint under /api/v1 × method × caller (no token, each role's token, a read-only
token) gets the status the table says, saving only when it may; every error is problem+json, never an HTML page."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import url_for

from core import clock
from core.api.base import PREFIX, SAFE_METHODS
from core.auth.models import Role
from core.auth.tokens import create_token
from core.db import db
from core.transaction import transaction
from projects.events.models import SigningEvent
from projects.leads.models import Lead
from projects.models import Project
from tests.projects.web import changed_tables, new_client
from tests.security.helpers import checksum, database_state
from tests.test_route_policy import IGNORED_METHODS, OTHER_COUNTY, OWN_COUNTY, World

NONE, READ_ONLY = "no token", "read-only"
ROLES = {Role.COMMERCE.value: Role.COMMERCE.value, Role.COUNTY.value: Role.COUNTY.value,
         Role.LEADER.value: Role.LEADER.value, Role.ADMIN.value: Role.ADMIN.value, READ_ONLY: Role.COMMERCE.value}
CALLERS = (NONE, *ROLES)  # caller -> the role of the token's owner (the read-only token is a commerce user's)
CJK = re.compile(r"[\u4e00-\u9fff]")
PROBLEM = "application/problem+json"
Body = Callable[[World, bool], dict]


@dataclass(frozen=True)
class Entry:
    """Who gets through an API endpoint, and what a caller who may gets for the request built from this entry.

    access: public (anyone, no token needed) | reader (any token) | editor (commerce, county, admin tokens;
            a leader's 403) | commerce (commerce and admin; county and leader 403) | admin;
            no token is 401 unless public, a read-only token is 403 on anything but GET
    ok:     the status an allowed caller gets (the request is valid, so a write saves)
    scoped: the URL names a county's row: a county official's token gets 404 for another county's
    body:   the JSON body (world, foreign?) -> dict: a complete, valid one, so that a missing guard would save
    etag:   (world, foreign?) -> the version sent in If-Match
    query:  a query string the request carries; {name} takes url_args' value (a real row's id)
    """

    access: str
    ok: int = 200
    scoped: bool = False
    body: Body | None = None
    etag: Callable[[World, bool], int] | None = None
    query: str = ""


def project_version(w: World, foreign: bool) -> int:
    return db.session.get(Project, w.project_ids[foreign]).version


def lead_version(w: World, foreign: bool) -> int:
    return db.session.get(Lead, w.lead_ids[foreign]).version


def event_version(w: World, foreign: bool) -> int:
    return db.session.get(SigningEvent, w.event_id).version


def lead_county(foreign: bool) -> str:
    return OTHER_COUNTY if foreign else OWN_COUNTY


def today(days: int = 0) -> str:
    return str(clock.today() + dt.timedelta(days=days))


NEW_PROJECT = {"name": "接口登记项目", "investor_name": "接口投资有限公司", "county_code": OWN_COUNTY,
               "total_investment": 5000, "sign_type": "contract", "sign_date": "2025-04-01"}

# One line per endpoint. A PATCH sends application/merge-patch+json, anything else application/json.
API: dict[str, Entry] = {
    "api-docs.openapi_json": Entry("public"),
    "api_docs.docs": Entry("public"),
    "api_docs.asset": Entry("public"),
    "maps.parks_geojson": Entry("reader"),
    "maps.projects_geojson": Entry("reader", query=f"county={OWN_COUNTY}"),
    "maps.counties_geojson": Entry("reader"),
    "chains.api": Entry("reader", query=f"county={OWN_COUNTY}"),
    "api_projects.list_projects": Entry("reader", query="stage=signed&park={park_id}&event={event_id}&per_page=5"),
    "api_projects.get_project": Entry("reader", scoped=True),
    "api_projects.create_project": Entry("editor", 201, body=lambda w, f: NEW_PROJECT),
    "api_projects.update_project": Entry("editor", scoped=True, etag=project_version,
                                         body=lambda w, f: {"notes": "接口修改的备注", "is_major": True}),
    "api_projects.change_stage": Entry("editor", scoped=True, etag=project_version, body=lambda w, f: {
        "to_stage": "paused", "reason": "资金未到位", "resume_date": today(30)}),
    "api_projects.convert": Entry("editor", scoped=True, etag=project_version,
                                  body=lambda w, f: {"contract_date": today()}),
    # A project's items: read by whoever sees the project, changed by its editors under the project's version.
    "api_project_items.list_approvals": Entry("reader", scoped=True),
    "api_project_items.update_approval": Entry("editor", scoped=True, etag=project_version, body=lambda w, f: {
        "status": "in_progress", "planned_date": today(30), "document_no": "明审〔2026〕1号"}),
    "api_project_items.list_milestones": Entry("reader", scoped=True),
    "api_project_items.add_milestone": Entry("editor", 201, scoped=True, etag=project_version, body=lambda w, f: {
        "name": "设备进场", "planned_date": today(20), "note": "接口添加的节点"}),
    "api_project_items.update_milestone": Entry("editor", scoped=True, etag=project_version, body=lambda w, f: {
        "planned_date": today(50), "actual_date": today()}),
    "api_project_reports.list_reports": Entry("reader", scoped=True),
    "api_project_reports.submit_report": Entry("editor", 201, scoped=True, etag=project_version, body=lambda w, f: {
        "month": today(), "investment": 120, "funds_arrived": 80, "note": "厂房基础施工"}),  # a month not yet reported
    "api_project_reports.list_blockers": Entry("reader", scoped=True),
    "api_project_reports.add_blocker": Entry("editor", 201, scoped=True, etag=project_version, body=lambda w, f: {
        "category": "funding", "description": "配套资金未到位", "department": "财政局", "due_date": today(15)}),
    "api_project_reports.escalate_blocker": Entry("editor", scoped=True, etag=project_version),  # no body
    "api_project_reports.close_blocker": Entry("editor", scoped=True, etag=project_version,
                                               body=lambda w, f: {"closing_note": "指标已落实"}),
    # Leads: a county official's are their county's; the new lead's investor matches no lead or project (no 409).
    "api_leads.list_leads": Entry("reader", query="status=new&per_page=5"),
    "api_leads.get_lead": Entry("reader", scoped=True),
    "api_leads.create_lead": Entry("editor", 201, body=lambda w, f: {
        "investor_name": "接口登记线索有限公司", "source": "visit", "county_code": OWN_COUNTY,
        "estimated_investment": 20000, "contact_person": "张总", "notes": "有意租用标准厂房"}),
    "api_leads.update_lead": Entry("editor", scoped=True, etag=lead_version, body=lambda w, f: {
        "contact_person": "李总", "notes": "接口补充的备注"}),
    "api_leads.add_follow_up": Entry("editor", 201, scoped=True, body=lambda w, f: {  # adds only: no If-Match
        "date": today(), "kind": "phone", "summary": "电话沟通投资意向"}),
    "api_leads.change_status": Entry("editor", scoped=True, etag=lead_version,
                                     body=lambda w, f: {"status": "assessing"}),
    "api_leads.convert": Entry("editor", scoped=True, etag=lead_version, body=lambda w, f: {
        "name": "线索转来的项目", "county_code": lead_county(f), "total_investment": 6000, "sign_type": "contract",
        "sign_date": today()}),
    # Signing events are the city's: everyone reads them, only commerce and admins keep them.
    "api_events.list_events": Entry("reader"),
    "api_events.get_event": Entry("reader"),
    "api_events.create_event": Entry("commerce", 201, body=lambda w, f: {
        "name": "9·8 投洽会", "date": "2025-09-08", "place": "厦门", "organiser": "省政府"}),
    "api_events.update_event": Entry("commerce", etag=event_version, body=lambda w, f: {"place": "福州海峡会展中心"}),
    "api_parks.list_parks": Entry("reader", query=f"county={OWN_COUNTY}&retired=true"),
    "api_parks.get_park": Entry("reader"),  # every role reads every park
    "api_parks.list_counties": Entry("reader"),
    "api_ledgers.export_workbook": Entry("reader", query=f"county={OTHER_COUNTY}"),  # a county official: their own
}


def url_args(w: World, foreign: bool) -> dict:
    """A value for every URL argument an API route names, on the world's rows (the county's own or another's)."""
    return {"project_id": w.project_ids[foreign], "item_id": w.permit_ids[foreign],
            "milestone_id": w.milestone_ids[foreign], "blocker_id": w.blocker_ids[foreign],
            "lead_id": w.lead_ids[foreign], "event_id": w.event_id, "park_id": w.park_id, "node_id": w.node_id,
            "county_code": OTHER_COUNTY if foreign else OWN_COUNTY, "name": "swagger-ui.css"}


def api_rules(app) -> dict[str, set[str]]:
    """Endpoint -> methods of every rule under /api/v1, from the app's url_map."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            found.setdefault(rule.endpoint, set()).update(rule.methods - IGNORED_METHODS)
    return found


def url_of(app, w: World, endpoint: str, foreign: bool) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = url_args(w, foreign)
    missing = rule.arguments - set(args)
    assert not missing, f"{endpoint}: no value for URL argument(s) {sorted(missing)}; add them to url_args"
    with app.test_request_context():
        url = url_for(endpoint, **{name: args[name] for name in rule.arguments})
    return f"{url}?{API[endpoint].query.format(**args)}" if API[endpoint].query else url


def expected(entry: Entry, method: str, caller: str, foreign: bool) -> int:
    if entry.access == "public":
        return entry.ok
    if caller == NONE:
        return 401
    if caller == READ_ONLY and method not in SAFE_METHODS:
        return 403
    role = ROLES[caller]
    if entry.access == "admin" and role != Role.ADMIN.value:
        return 403
    if entry.access == "commerce" and role not in (Role.COMMERCE.value, Role.ADMIN.value):
        return 403
    if entry.access == "editor" and role == Role.LEADER.value:
        return 403
    if entry.scoped and foreign and role == Role.COUNTY.value:
        return 404
    return entry.ok


def bearer(secret: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def token_for(w: World, caller: str) -> str | None:
    """A fresh token of the caller's (None for no token)."""
    if caller == NONE:
        return None
    with transaction():
        _token, secret = create_token(w.users[ROLES[caller]], f"探测 {caller}", read_only=caller == READ_ONLY)
    return secret


def assert_problem(response, status: int, where: str) -> None:
    """An error as every API error is written: problem+json, the status in the body, a Chinese detail."""
    assert response.status_code == status, f"{where}: {response.status_code}, expected {status}"
    assert response.mimetype == PROBLEM, f"{where}: {response.mimetype}"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"], f"{where}: {body}"
    assert CJK.search(body["detail"]), f"{where}: detail not in Chinese: {body['detail']!r}"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), where


def test_every_api_endpoint_has_an_entry(app):
    assert set(api_rules(app)) == set(API), "an API route without an entry in API (or an entry without a route)"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", sorted(API))
def test_api_access(app, world, endpoint, caller):
    entry = API[endpoint]
    headers = bearer(token_for(world, caller))
    client = app.test_client()
    for method in sorted(api_rules(app)[endpoint]):
        for foreign in (False, True) if entry.scoped else (False,):
            want = expected(entry, method, caller, foreign)
            url = url_of(app, world, endpoint, foreign)
            sent = dict(headers)
            if entry.etag:
                sent["If-Match"] = f'"{entry.etag(world, foreign)}"'
            body = entry.body(world, foreign) if entry.body else None
            content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
            before = database_state()
            response = client.open(url, method=method, headers=sent, json=body,
                                   content_type=content_type if body is not None else None)
            response.close()
            where = f"{method} {url} as {caller}"
            if want >= 400:
                assert_problem(response, want, where)
            else:
                assert response.status_code == want, f"{where}: {response.status_code} {response.get_data()[:300]}"
            changed = changed_tables(before, database_state())
            if method in SAFE_METHODS or want >= 400:
                assert changed == [], f"{where} changed {changed}"
            else:
                assert changed, f"{where} saved nothing"


@pytest.mark.parametrize("role", [Role.COMMERCE.value, Role.COUNTY.value])
def test_another_projects_item_under_a_project_is_404(app, world, role):
    """An item is found under its own project only: the own project's URL with another county's item id is 404
    (a county official learns nothing of it; whoever sees both gets no change to the wrong project), saving nothing."""
    client, headers = app.test_client(), bearer(token_for(world, role))
    headers["If-Match"] = f'"{project_version(world, False)}"'
    own = world.project_ids[False]
    items = f"{PREFIX}/projects/{own}"
    before = database_state()
    for method, url, endpoint in (
            ("PATCH", f"{items}/approvals/{world.permit_ids[True]}", "api_project_items.update_approval"),
            ("PATCH", f"{items}/milestones/{world.milestone_ids[True]}", "api_project_items.update_milestone"),
            ("POST", f"{items}/blockers/{world.blocker_ids[True]}/escalate", "api_project_reports.escalate_blocker"),
            ("POST", f"{items}/blockers/{world.blocker_ids[True]}/close", "api_project_reports.close_blocker")):
        body = API[endpoint].body(world, False) if API[endpoint].body else None
        content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        response = client.open(url, method=method, headers=headers, json=body,
                               content_type=content_type if body is not None else None)
        assert_problem(response, 404, f"{method} {url} as {role}")
    assert changed_tables(before, database_state()) == []


def test_a_session_is_no_token_for_the_resources(app, world):
    """The token-only resources ignore a logged-in browser's cookie; the map's fetches take it."""
    client = new_client(app, world.users[Role.ADMIN.value])
    assert_problem(client.get(f"{PREFIX}/projects"), 401, "GET /projects with a session")
    assert client.get(f"{PREFIX}/parks.geojson").status_code == 200


def test_a_bad_token_is_401(app, world):
    client = app.test_client()
    secret = token_for(world, Role.COMMERCE.value)
    for header in (f"Bearer {secret}x", "Bearer sm_nothing", f"Basic {secret}", "Bearer", secret):
        response = client.get(f"{PREFIX}/projects", headers={"Authorization": header})
        assert_problem(response, 401, header)


def boom():
    raise RuntimeError("探测：视图出错")


def error_requests(w: World, secret: str) -> list[tuple[str, int, dict]]:
    """(what, the status, the client.open arguments) for each way a call goes wrong before or inside a view."""
    auth = bearer(secret)
    project = f"{PREFIX}/projects/{w.project_ids[False]}"
    version = project_version(w, False)
    return [
        ("no token", 401, {"path": f"{PREFIX}/projects"}),
        ("unknown path", 404, {"path": f"{PREFIX}/nothing-here", "headers": auth}),
        ("unknown path, no token", 404, {"path": f"{PREFIX}/nothing-here"}),
        ("unknown id", 404, {"path": f"{PREFIX}/projects/{2**31 - 1}", "headers": auth}),
        ("id past the integer range, PATCH", 404, {"path": f"{PREFIX}/projects/{2**31}", "method": "PATCH",
                                                   "headers": auth, "json": {}}),
        ("wrong method", 405, {"path": f"{PREFIX}/projects", "method": "DELETE", "headers": auth}),
        ("wrong method on a record", 405, {"path": project, "method": "PUT", "headers": auth, "json": {}}),
        ("malformed JSON", 400, {"path": f"{PREFIX}/projects", "method": "POST", "headers": auth,
                                 "data": b'{"name": "x",', "content_type": "application/json"}),
        ("not JSON at all", 422, {"path": f"{PREFIX}/projects", "method": "POST", "headers": auth,
                                  "data": "name=x", "content_type": "application/x-www-form-urlencoded"}),
        ("JSON that is not an object", 422, {"path": f"{PREFIX}/projects", "method": "POST", "headers": auth,
                                             "json": ["接口登记项目"]}),
        ("an unknown field", 422, {"path": f"{PREFIX}/projects", "method": "POST", "headers": auth,
                                   "json": {**NEW_PROJECT, "colour": "红"}}),
        ("a bad query argument", 422, {"path": f"{PREFIX}/projects?per_page=501", "headers": auth}),
        ("no If-Match", 428, {"path": project, "method": "PATCH", "headers": auth, "json": {"notes": "改"},
                              "content_type": "application/merge-patch+json"}),
        ("a stale If-Match", 412, {"path": project, "method": "PATCH", "json": {"notes": "改"},
                                   "headers": {**auth, "If-Match": f'"{version - 1}"'},
                                   "content_type": "application/merge-patch+json"}),
        ("a body past the upload limit", 413, {"path": f"{PREFIX}/projects", "method": "POST", "headers": auth,
                                               "data": b" " * (w.app.config["MAX_CONTENT_LENGTH"] + 1),
                                               "content_type": "application/json"}),
    ]


def test_no_html_error_page_under_the_api(app, world):
    secret = token_for(world, Role.COMMERCE.value)
    client = app.test_client()
    before = database_state()
    for what, status, request in error_requests(world, secret):
        response = client.open(**request)
        assert_problem(response, status, what)
        if status == 405:
            assert response.headers["Allow"], what
    assert checksum(database_state()) == checksum(before)


def test_a_view_that_raises_is_a_problem_500(app, world, monkeypatch):
    monkeypatch.setitem(app.view_functions, "api_projects.list_projects", boom)
    response = app.test_client().get(f"{PREFIX}/projects", headers=bearer(token_for(world, Role.ADMIN.value)))
    assert_problem(response, 500, "a view that raises")
    assert "探测" not in response.get_data(as_text=True), "the exception's text reached the caller"


def test_past_the_rate_limit_is_429_with_retry_after(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 2)
    client, headers = app.test_client(), bearer(token_for(world, Role.COMMERCE.value))
    assert [client.get(f"{PREFIX}/projects", headers=headers).status_code for _ in range(2)] == [200, 200]
    response = client.get(f"{PREFIX}/projects", headers=headers)
    assert_problem(response, 429, "the third call")
    assert int(response.headers["Retry-After"]) >= 1
