"""Signing events through the API: each operation by each role, 422s with nothing written, merge patch, audit."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.auth.models import Role
from core.db import db
from projects.events.models import SigningEvent
from tests.factories import bearer, make_event, make_project, make_token, make_user
from tests.projects.web import changed_tables, fresh, reread, snapshot

SANYUAN, YONGAN = "350404", "350481"
TOKEN_TABLES = {"api_token", "api_token_use"}
PATCH = "application/merge-patch+json"


def data_changes(before: dict) -> list[str]:
    return [name for name in changed_tables(before, snapshot()) if name not in TOKEN_TABLES]


@pytest.fixture
def users(project_ref):
    return {role: make_user(role) for role in (Role.COMMERCE, Role.COUNTY, Role.LEADER, Role.ADMIN)}


WRITER = {"list": 200, "read": 200, "create": 201, "update": 200}
READER = {"list": 200, "read": 200, "create": 403, "update": 403}


@pytest.mark.parametrize("role, expected", [(Role.COMMERCE, WRITER), (Role.ADMIN, WRITER), (Role.COUNTY, READER),
                                            (Role.LEADER, READER)])
def test_each_operation_by_role(client, users, role, expected):
    event = make_event(place="福州")
    headers = bearer(make_token(users[role]))
    before = snapshot()
    url = f"/api/v1/events/{event.id}"
    results = {
        "list": client.get("/api/v1/events", headers=headers),
        "read": client.get(url, headers=headers),
        "create": client.post("/api/v1/events", headers=headers, json={"name": "新签约活动", "date": "2026-06-18"}),
        "update": client.patch(url, headers={**headers, "Content-Type": PATCH, "If-Match": '"1"'},
                               data=json.dumps({"place": "厦门"})),
    }
    assert {name: response.status_code for name, response in results.items()} == expected
    if expected is READER:
        assert results["create"].mimetype == "application/problem+json"
        assert data_changes(before) == []
    else:
        assert fresh(SigningEvent, event.id).place == "厦门"
        assert results["create"].headers["Location"] == f"/api/v1/events/{results['create'].get_json()['id']}"


def test_read_only_token_never_writes(client, users):
    event = make_event()
    headers = bearer(make_token(users[Role.COMMERCE], read_only=True))
    before = snapshot()
    assert client.post("/api/v1/events", headers=headers, json={"name": "活动", "date": "2026-06-18"}).status_code == 403
    assert client.patch(f"/api/v1/events/{event.id}", headers={**headers, "Content-Type": PATCH},
                        data=json.dumps({"place": "厦门"})).status_code == 403
    assert data_changes(before) == []


def test_counts_and_figures_cover_only_the_projects_the_caller_may_see(client, users):
    event = make_event()
    make_project(county_code=SANYUAN, signing_event_id=event.id, total_investment=1000)
    make_project(county_code=YONGAN, signing_event_id=event.id, total_investment=5000)
    for role, signed, total in ((Role.COMMERCE, 2, 6000), (Role.COUNTY, 1, 1000)):
        headers = bearer(make_token(users[role]))
        listed = client.get("/api/v1/events", headers=headers).get_json()
        assert [(item["id"], item["signed"]) for item in listed["items"]] == [(event.id, signed)]
        figures = client.get(f"/api/v1/events/{event.id}", headers=headers).get_json()["figures"]
        assert (figures["signed"], figures["total_investment"], figures["contracts"]) == (signed, total, signed)


def test_list_pages_latest_first(client, users):
    older = make_event(date=dt.date(2024, 5, 1))
    newer = make_event(date=dt.date(2025, 6, 18))
    headers = bearer(make_token(users[Role.LEADER]))
    pages = [client.get(f"/api/v1/events?per_page=1&page={page}", headers=headers).get_json() for page in (1, 2)]
    assert [(body["total"], [item["id"] for item in body["items"]]) for body in pages] == \
        [(2, [newer.id]), (2, [older.id])]


def test_unknown_event_is_404_problem(client, users):
    response = client.get("/api/v1/events/99999", headers=bearer(make_token(users[Role.COMMERCE])))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_invalid_input_is_422_per_field_in_chinese_and_saves_nothing(client, users):
    existing = make_event(name="三明春季签约会")
    headers = bearer(make_token(users[Role.COMMERCE]))
    before = snapshot()
    response = client.post("/api/v1/events", headers=headers, json={"name": "", "date": "2026-13-01", "place": 5})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert errors == {"name": "请填写“活动名称（不可重复）”。", "date": "须为日期，格式 YYYY-MM-DD。", "place": "须为文本。"}
    clash = client.post("/api/v1/events", headers=headers, json={"name": "三明春季签约会", "date": "2026-04-01"})
    assert clash.status_code == 422 and clash.get_json()["errors"] == {"name": "签约活动“三明春季签约会”已存在。"}
    county = client.patch(f"/api/v1/events/{existing.id}", headers={**headers, "Content-Type": PATCH, "If-Match": '"1"'},
                          data=json.dumps({"county_code": "999999", "date": None}))
    assert county.status_code == 422 and set(county.get_json()["errors"]) == {"date"}
    county = client.patch(f"/api/v1/events/{existing.id}", headers={**headers, "Content-Type": PATCH, "If-Match": '"1"'},
                          data=json.dumps({"county_code": "999999"}))
    assert county.status_code == 422 and county.get_json()["errors"] == {"county_code": "请选择有效的县区。"}
    assert data_changes(before) == []


def test_merge_patch_changes_only_the_fields_given_and_the_audit_names_the_tokens_user(client, users):
    event = make_event(name="永安签约会", place="永安", organiser="永安市政府", county_code=YONGAN, notes="首批")
    commerce = users[Role.COMMERCE]
    response = client.patch(f"/api/v1/events/{event.id}",
                            headers=bearer(make_token(commerce), Content_Type=PATCH, If_Match='"1"'),
                            data=json.dumps({"notes": "第二批", "county_code": None}))
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    body = response.get_json()
    assert (body["name"], body["place"], body["organiser"], body["notes"], body["county_code"]) == \
        ("永安签约会", "永安", "永安市政府", "第二批", None)
    reread()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "signing_event",
                                                        AuditEntry.entity_id == str(event.id))
                               .order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.user_id) == ("updated", commerce.id)


def test_a_change_needs_if_match_and_a_stale_one_gets_the_current_event(client, users):
    event = make_event(place="福州")
    headers = bearer(make_token(users[Role.COMMERCE]), Content_Type=PATCH)
    url = f"/api/v1/events/{event.id}"
    assert client.get(url, headers=headers).headers["ETag"] == '"1"'
    missing = client.patch(url, headers=headers, data=json.dumps({"place": "厦门"}))
    assert missing.status_code == 428 and missing.mimetype == "application/problem+json"
    first = client.patch(url, headers={**headers, "If-Match": '"1"'}, data=json.dumps({"place": "厦门"}))
    assert first.status_code == 200
    stale = client.patch(url, headers={**headers, "If-Match": '"1"'}, data=json.dumps({"place": "泉州"}))
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    assert stale.get_json()["current"]["place"] == "厦门"
    assert fresh(SigningEvent, event.id).place == "厦门"
