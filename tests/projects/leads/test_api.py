"""Leads through the API: each operation by each role, county scope, If-Match, 422s, the scoped duplicate 409, audit."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from core import clock
from core.audit import AuditEntry
from core.auth.models import Role
from core.db import db
from core.validators import credit_code_check_char
from projects.leads.models import FollowUp, Lead, LeadStatus
from projects.models import Project
from tests.factories import bearer, make_lead, make_project, make_token, make_user
from tests.projects.web import changed_tables, fresh, reread, snapshot

SANYUAN, YONGAN = "350404", "350481"  # 三元区 (the county official's), 永安市
TOKEN_TABLES = {"api_token", "api_token_use"}  # a call records its token's use: not the data


def data_changes(before: dict) -> list[str]:
    return [name for name in changed_tables(before, snapshot()) if name not in TOKEN_TABLES]


def credit_code(body: str) -> str:
    first17 = "91350400" + body
    return first17 + credit_code_check_char(first17)


@pytest.fixture
def users(project_ref):
    return {role: make_user(role, display_name=f"{role.label}用户") for role in
            (Role.COMMERCE, Role.COUNTY, Role.LEADER, Role.ADMIN)}


def operations(client, lead: Lead, headers: dict) -> dict:
    """Each operation with a valid request: name → response (the writes in the order the lead allows them)."""
    url = f"/api/v1/leads/{lead.id}"
    match = {"If-Match": f'"{lead.version}"'}
    today = clock.today().isoformat()
    results = {
        "list": client.get("/api/v1/leads", headers=headers),
        "read": client.get(url, headers=headers),
        "create": client.post("/api/v1/leads", headers=headers,
                              json={"investor_name": "全新投资方有限公司", "source": "expo", "county_code": SANYUAN}),
        "update": client.patch(url, headers={**headers, **match, "Content-Type": "application/merge-patch+json"},
                               data=json.dumps({"contact_person": "赵经理"})),
        "follow_up": client.post(f"{url}/follow-ups", headers=headers,
                                 json={"date": today, "kind": "phone", "summary": "电话沟通投资意向"}),
    }
    version = fresh(Lead, lead.id).version
    results["status"] = client.post(f"{url}/status", headers={**headers, "If-Match": f'"{version}"'},
                                    json={"status": "assessing"})
    version = fresh(Lead, lead.id).version
    results["convert"] = client.post(f"{url}/convert", headers={**headers, "If-Match": f'"{version}"'},
                                     json={"name": "签约项目", "county_code": SANYUAN, "total_investment": 20000,
                                           "sign_type": "contract", "sign_date": today})
    return results


WRITER = {"list": 200, "read": 200, "create": 201, "update": 200, "follow_up": 201, "status": 200, "convert": 200}
READER = {"list": 200, "read": 200, "create": 403, "update": 403, "follow_up": 403, "status": 403, "convert": 403}


@pytest.mark.parametrize("role, expected", [(Role.COMMERCE, WRITER), (Role.COUNTY, WRITER), (Role.ADMIN, WRITER),
                                            (Role.LEADER, READER)])
def test_each_operation_by_role(client, users, role, expected):
    lead = make_lead(county_code=SANYUAN)
    headers = bearer(make_token(users[role]))
    before = snapshot()
    results = operations(client, lead, headers)
    assert {name: response.status_code for name, response in results.items()} == expected
    if role is Role.LEADER:
        for name in ("create", "update"):
            assert results[name].mimetype == "application/problem+json"
        assert data_changes(before) == []
    else:
        saved = fresh(Lead, lead.id)
        assert saved.contact_person == "赵经理" and saved.status is LeadStatus.SIGNED
        assert results["convert"].get_json()["project_id"] == saved.project_id is not None
        assert len(saved.follow_ups) == 1


def test_read_only_token_reads_but_never_writes(client, users):
    lead = make_lead(county_code=SANYUAN)
    headers = bearer(make_token(users[Role.COMMERCE], read_only=True))
    before = snapshot()
    results = operations(client, lead, headers)
    assert {name: response.status_code for name, response in results.items()} == READER
    assert data_changes(before) == []


def test_county_official_sees_only_their_countys_leads(client, users):
    own = make_lead(county_code=SANYUAN)
    other = make_lead(county_code=YONGAN, investor_name="永安某投资方有限公司")
    headers = bearer(make_token(users[Role.COUNTY]))
    listed = client.get("/api/v1/leads", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [own.id] and listed["total"] == 1
    before = snapshot()
    url = f"/api/v1/leads/{other.id}"
    match = {"If-Match": f'"{other.version}"'}
    responses = [
        client.get(url, headers=headers),
        client.patch(url, headers={**headers, **match, "Content-Type": "application/merge-patch+json"},
                     data=json.dumps({"notes": "改"})),
        client.post(f"{url}/follow-ups", headers=headers,
                    json={"date": clock.today().isoformat(), "kind": "phone", "summary": "跟进"}),
        client.post(f"{url}/status", headers={**headers, **match}, json={"status": "assessing"}),
        client.post(f"{url}/convert", headers={**headers, **match},
                    json={"name": "项目", "county_code": YONGAN, "total_investment": 1, "sign_type": "contract",
                          "sign_date": clock.today().isoformat()}),
    ]
    assert [response.status_code for response in responses] == [404] * 5
    assert all("永安某投资方" not in response.get_data(as_text=True) for response in responses)
    assert data_changes(before) == []
    # Everyone else sees every county's.
    assert client.get(url, headers=bearer(make_token(users[Role.LEADER]))).status_code == 200


def test_read_carries_the_version_as_etag_and_the_follow_ups(client, users):
    lead = make_lead(county_code=SANYUAN, contact_person="钱总")
    response = client.get(f"/api/v1/leads/{lead.id}", headers=bearer(make_token(users[Role.COMMERCE])))
    body = response.get_json()
    assert response.headers["ETag"] == f'"{lead.version}"' and body["version"] == lead.version
    assert body["contact_person"] == "钱总" and body["status"] == "new" and body["follow_ups"] == []
    assert body["overdue"] == []


def test_list_filters_and_pages(client, users):
    first = make_lead(investor_name="甲乙丙有限公司")
    make_lead(investor_name="丁戊己有限公司")
    third = make_lead(investor_name="庚辛甲乙有限公司", owner_id=users[Role.COMMERCE].id)
    headers = bearer(make_token(users[Role.COMMERCE]))
    page = client.get("/api/v1/leads?per_page=2&page=2", headers=headers).get_json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 2, 2, 1)
    found = client.get("/api/v1/leads?q=甲乙", headers=headers).get_json()
    assert {item["id"] for item in found["items"]} == {first.id, third.id}
    mine = client.get("/api/v1/leads?mine=true", headers=headers).get_json()
    assert [item["id"] for item in mine["items"]] == [third.id]
    assert client.get("/api/v1/leads?status=assessing", headers=headers).get_json()["total"] == 0
    too_many = client.get("/api/v1/leads?per_page=501", headers=headers)
    assert too_many.status_code == 422 and "per_page" in too_many.get_json()["errors"]


def test_overdue_flags_and_filter(client, users, freeze):
    freeze(clock.now() - dt.timedelta(days=10))
    late = make_lead()
    freeze(clock.now() + dt.timedelta(days=10))
    fresh_lead = make_lead()
    headers = bearer(make_token(users[Role.COMMERCE]))
    body = client.get("/api/v1/leads?overdue=true", headers=headers).get_json()
    assert [item["id"] for item in body["items"]] == [late.id]
    assert body["items"][0]["overdue"] == ["first_response", "assess"]
    assert client.get(f"/api/v1/leads/{fresh_lead.id}", headers=headers).get_json()["overdue"] == []


def test_update_needs_if_match_and_refuses_a_stale_version(client, users):
    lead = make_lead(county_code=SANYUAN)
    version = lead.version
    token = bearer(make_token(users[Role.COMMERCE]))
    headers = {**token, "Content-Type": "application/merge-patch+json"}
    url = f"/api/v1/leads/{lead.id}"
    before = snapshot()
    missing = client.patch(url, headers=headers, data=json.dumps({"notes": "新备注"}))
    assert missing.status_code == 428 and missing.mimetype == "application/problem+json"
    stale = client.patch(url, headers={**headers, "If-Match": f'"{version + 5}"'},
                         data=json.dumps({"notes": "新备注"}))
    assert stale.status_code == 412
    assert stale.get_json()["current"]["id"] == lead.id and stale.headers["ETag"] == f'"{version}"'
    assert data_changes(before) == []
    for path, body in (("/status", {"status": "assessing"}),
                       ("/convert", {"name": "项目", "county_code": SANYUAN, "total_investment": 1,
                                     "sign_type": "contract", "sign_date": clock.today().isoformat()})):
        assert client.post(url + path, headers=token, json=body).status_code == 428
        assert client.post(url + path, headers={**token, "If-Match": '"999"'},
                           json=body).status_code == 412
    assert data_changes(before) == []
    done = client.patch(url, headers={**headers, "If-Match": f'"{version}"'},
                        data=json.dumps({"notes": "新备注", "investor_origin": None}))
    assert done.status_code == 200 and done.headers["ETag"] == f'"{version + 1}"'
    assert fresh(Lead, lead.id).notes == "新备注"


def test_invalid_input_is_422_per_field_in_chinese_and_saves_nothing(client, users):
    headers = bearer(make_token(users[Role.COMMERCE]))
    before = snapshot()
    response = client.post("/api/v1/leads", headers=headers, json={
        "investor_name": "", "source": "nowhere", "estimated_investment": -1, "land_needed": "很多",
        "owner_id": 0, "colour": "red"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert set(errors) == {"investor_name", "source", "estimated_investment", "land_needed", "owner_id", "colour"}
    assert errors["investor_name"] == "请填写“投资方（企业名称）”。" and errors["colour"] == "不认识的字段。"
    assert errors["land_needed"] == "须为数字。"
    # The service's own rules answer the same way.
    bad_code = client.post("/api/v1/leads", headers=headers, json={
        "investor_name": "某公司", "source": "visit", "investor_credit_code": "91350400MA00000000"})
    assert bad_code.status_code == 422 and "investor_credit_code" in bad_code.get_json()["errors"]
    missing = client.post("/api/v1/leads", headers=headers, json={})
    assert missing.get_json()["errors"] == {"investor_name": "必填。", "source": "必填。"}
    assert data_changes(before) == []


def test_follow_up_and_status_rules_are_the_pages(client, users):
    lead = make_lead(county_code=SANYUAN)
    version = lead.version
    headers = bearer(make_token(users[Role.COMMERCE]))
    url = f"/api/v1/leads/{lead.id}"
    before = snapshot()
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    future = client.post(f"{url}/follow-ups", headers=headers,
                         json={"date": tomorrow, "kind": "visit", "summary": "走访"})
    assert future.status_code == 422 and future.get_json()["errors"] == {"date": "跟进日期不能晚于今天。"}
    match = {"If-Match": f'"{version}"'}
    skip = client.post(f"{url}/status", headers={**headers, **match}, json={"status": "negotiating"})
    assert skip.status_code == 422 and "status" in skip.get_json()["errors"]
    no_reason = client.post(f"{url}/status", headers={**headers, **match}, json={"status": "abandoned"})
    assert no_reason.get_json()["errors"] == {"reason": "放弃线索必须填写原因。"}
    assert data_changes(before) == []
    done = client.post(f"{url}/follow-ups", headers=headers, json={
        "date": clock.today().isoformat(), "kind": "visit", "summary": "走访企业", "next_step": "报价",
        "next_due": tomorrow})
    assert done.status_code == 201 and done.headers["ETag"] == f'"{version + 1}"'
    assert [f["summary"] for f in done.get_json()["follow_ups"]] == ["走访企业"]
    reread()
    assert db.session.scalar(select(FollowUp.next_step).where(FollowUp.lead_id == lead.id)) == "报价"


def test_county_official_may_not_assign_another_countys_user(client, users):
    lead = make_lead(county_code=SANYUAN)
    elsewhere = make_user(Role.COUNTY, county=YONGAN)
    headers = {**bearer(make_token(users[Role.COUNTY])), "Content-Type": "application/merge-patch+json",
               "If-Match": f'"{lead.version}"'}
    before = snapshot()
    response = client.patch(f"/api/v1/leads/{lead.id}", headers=headers, data=json.dumps({"owner_id": elsewhere.id}))
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"owner_id"}
    assert data_changes(before) == []


def test_duplicate_investor_is_409_with_the_matches_then_saved_with_a_reason(client, users):
    existing = make_lead(investor_name="三明重复投资有限公司", county_code=SANYUAN)
    headers = bearer(make_token(users[Role.COMMERCE]))
    body = {"investor_name": "三明重复投资有限公司", "source": "visit"}
    before = snapshot()
    response = client.post("/api/v1/leads", headers=headers, json=body)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert [lead["id"] for lead in problem["duplicates"]["leads"]] == [existing.id]
    assert problem["duplicates"]["elsewhere"] is None and "duplicate_reason" in problem["errors"]
    assert data_changes(before) == []
    saved = client.post("/api/v1/leads", headers=headers, json={**body, "duplicate_reason": "集团的第二个项目"})
    assert saved.status_code == 201 and saved.get_json()["duplicate_note"] == "集团的第二个项目"
    assert saved.headers["Location"] == f"/api/v1/leads/{saved.get_json()['id']}"


def test_county_official_learns_only_that_another_county_follows_the_investor(client, users):
    code = credit_code("MA3A00012")
    owner = make_user(Role.COUNTY, county=YONGAN, display_name="永安王五")
    make_lead(owner, investor_name="永安隐秘集团有限公司", investor_credit_code=code, county_code=YONGAN)
    make_project(investor_name="永安隐秘项目投资方有限公司", investor_credit_code=code, county_code=YONGAN,
                 name="永安隐秘项目")
    headers = bearer(make_token(users[Role.COUNTY]))
    body = {"investor_name": "三元新公司有限公司", "investor_credit_code": code, "source": "visit"}
    before = snapshot()
    response = client.post("/api/v1/leads", headers=headers, json=body)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["duplicates"] == {"leads": [], "projects": [], "elsewhere": "已有其他县区跟进，请联系市商务局"}
    text = response.get_data(as_text=True)
    for secret in ("永安", YONGAN, "王五", "隐秘", "签约", '"id"', '"stage"', '"status":"new"'):
        assert secret not in text
    assert data_changes(before) == []
    saved = client.post("/api/v1/leads", headers=headers, json={**body, "duplicate_reason": "另一投资意向"})
    assert saved.status_code == 201 and saved.get_json()["county_code"] == SANYUAN


def test_audit_names_the_tokens_user(client, users):
    official = users[Role.COUNTY]
    headers = bearer(make_token(official))
    created = client.post("/api/v1/leads", headers=headers, json={"investor_name": "审计测试有限公司", "source": "fund"})
    lead_id = created.get_json()["id"]
    patch = {**headers, "If-Match": created.headers["ETag"], "Content-Type": "application/merge-patch+json"}
    changed = client.patch(f"/api/v1/leads/{lead_id}", data=json.dumps({"referrer": "商会"}), headers=patch)
    assert changed.status_code == 200
    reread()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "lead",
                                                          AuditEntry.entity_id == str(lead_id))).all()
    assert {(entry.action, entry.user_id) for entry in entries} == {("created", official.id), ("updated", official.id)}


def test_convert_refuses_another_county_and_links_the_project(client, users):
    lead = make_lead(county_code=SANYUAN, estimated_investment=30000)
    headers = {**bearer(make_token(users[Role.COUNTY])), "If-Match": f'"{lead.version}"'}
    body = {"name": "转入项目", "county_code": YONGAN, "total_investment": 30000, "sign_type": "agreement",
            "sign_date": clock.today().isoformat()}
    before = snapshot()
    refused = client.post(f"/api/v1/leads/{lead.id}/convert", headers=headers, json=body)
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"county_code"}
    assert data_changes(before) == []
    done = client.post(f"/api/v1/leads/{lead.id}/convert", headers=headers, json={**body, "county_code": SANYUAN})
    assert done.status_code == 200
    project = fresh(Project, done.get_json()["project_id"])
    assert project.name == "转入项目" and project.county_code == SANYUAN
