"""The projects in the API: the list's filters and scope, read, register, merge patch with If-Match, stage moves."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.db import db
from parks.models import Park
from projects.models import EventKind, Project, ProjectEvent
from projects.services import add_milestone
from projects.stages import SignType, Stage
from tests.factories import bearer, make_project, make_token, make_user
from tests.projects import api_calls
from tests.projects.api_calls import problem_of

OTHER = "350481"  # 永安市: not the county official's


@pytest.fixture
def people(project_ref):
    commerce = make_user(Role.COMMERCE)
    return {
        "commerce": commerce,
        "county": make_user(Role.COUNTY, county="350404"),
        "leader": make_user(Role.LEADER),
        "admin": make_user(Role.ADMIN),
    }


@pytest.fixture
def keys(people):
    return {role: make_token(user) for role, user in people.items()}


@pytest.fixture
def own_and_other(people):
    return api_calls.own_and_other(people["commerce"])


def test_the_list_is_scoped_to_the_county_and_shaped_as_documented(client, keys, own_and_other):
    own, other = own_and_other
    mine = client.get("/api/v1/projects", headers=bearer(keys["county"])).get_json()
    assert [item["id"] for item in mine["items"]] == [own.id]
    assert (mine["total"], mine["page"], mine["per_page"]) == (1, 1, 50)
    everyone = client.get("/api/v1/projects?sort=name&per_page=500", headers=bearer(keys["leader"])).get_json()
    assert {item["name"] for item in everyone["items"]} == {"三元区氟化工项目", "永安石墨烯项目"}
    item = everyone["items"][0]
    assert item["total_investment"] == 10000.0 and item["sign_date"] == "2025-03-01"
    assert item["stage"] == "signed" and item["sign_type"] == "contract" and item["version"] == 1


def test_the_list_takes_the_pages_filters_and_refuses_bad_ones_in_chinese(client, keys, own_and_other):
    _, other = own_and_other
    found = client.get(f"/api/v1/projects?county={OTHER}&q=石墨", headers=bearer(keys["commerce"])).get_json()
    assert [item["id"] for item in found["items"]] == [other.id]
    body = problem_of(client.get("/api/v1/projects?per_page=501&stage=nope",
                                 headers=bearer(keys["commerce"])), 422)
    assert set(body["errors"]) == {"per_page", "stage"}


def test_the_list_filters_by_park_industry_and_event_ids_from_the_query_string(client, keys, people, own_and_other):
    park = db.session.scalars(select(Park).where(Park.county_code == "350404", Park.industry_id.is_not(None))).first()
    in_park = make_project(people["commerce"], park_id=park.id, industry_id=park.industry_id)
    # A query string carries text: ?park=12 is an id, not a type error.
    found = client.get(f"/api/v1/projects?park={park.id}&industry={park.industry_id}",
                       headers=bearer(keys["commerce"])).get_json()
    assert [item["id"] for item in found["items"]] == [in_park.id]
    assert client.get("/api/v1/projects?event=1", headers=bearer(keys["commerce"])).get_json()["items"] == []
    body = problem_of(client.get("/api/v1/projects?park=1.5&industry=x", headers=bearer(keys["commerce"])), 422)
    assert body["errors"] == {"park": "须为整数编号。", "industry": "须为整数编号。"}


def test_another_countys_project_is_404_as_if_it_did_not_exist(client, keys, own_and_other):
    _, other = own_and_other
    for method, path in (("get", f"/api/v1/projects/{other.id}"), ("patch", f"/api/v1/projects/{other.id}"),
                         ("post", f"/api/v1/projects/{other.id}/stage"), ("get", "/api/v1/projects/2147483648")):
        body = {"to_stage": "approval"} if path.endswith("stage") else {}
        response = getattr(client, method)(path, json=body, headers=bearer(keys["county"], If_Match='"1"'))
        assert "永安" not in problem_of(response, 404)["detail"]


def test_read_gives_the_version_as_etag(client, keys, own_and_other):
    own, _ = own_and_other
    response = client.get(f"/api/v1/projects/{own.id}", headers=bearer(keys["county"]))
    assert response.headers["ETag"] == '"1"' and response.get_json()["light"] == "green"


def test_register_goes_through_the_forms_rules_and_the_county_official_stays_in_their_county(client, keys, people):
    new = {"name": "接口登记项目", "investor_name": "某新材料有限公司", "total_investment": 1234.567,
           "county_code": OTHER, "sign_type": "agreement", "sign_date": "2026-01-05"}
    response = client.post("/api/v1/projects", json=new, headers=bearer(keys["county"]))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["county_code"] == "350404" and body["total_investment"] == 1234.57
    assert response.headers["Location"] == f"/api/v1/projects/{body['id']}"
    created = db.session.get(Project, body["id"])
    assert created.updated_by_id == people["county"].id


def test_register_refuses_what_the_form_refuses_and_saves_nothing(client, keys, project_ref):
    bad = {"name": "坏项目\x0b", "investor_name": "", "total_investment": "1e1000000", "sign_date": "0001-01-01",
           "county_code": "350404", "unknown": 1}
    body = problem_of(client.post("/api/v1/projects", json=bad, headers=bearer(keys["commerce"])), 422)
    assert set(body["errors"]) == {"name", "investor_name", "total_investment", "sign_date", "unknown"}
    assert "控制字符" in body["errors"]["name"]
    body = problem_of(client.post("/api/v1/projects", headers=bearer(keys["commerce"]),
                                  json={"name": "未来签约", "investor_name": "某公司", "total_investment": 1,
                                        "county_code": "350404", "sign_type": "contract",
                                        "sign_date": "2099-01-01"}), 422)
    assert body["errors"]["sign_date"] == "签约日期不能晚于今天。"
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_leaders_and_read_only_tokens_cannot_write(client, keys, people, own_and_other):
    own, _ = own_and_other
    read_only = make_token(people["commerce"], read_only=True)
    for secret in (keys["leader"], read_only):
        problem_of(client.patch(f"/api/v1/projects/{own.id}", json={"notes": "x"},
                                headers=bearer(secret, If_Match='"1"')), 403)
        problem_of(client.post("/api/v1/projects", json={"name": "x", "investor_name": "y", "total_investment": 1},
                               headers=bearer(secret)), 403)
    assert db.session.get(Project, own.id).notes == ""


def test_merge_patch_changes_only_the_fields_given_and_null_clears(client, keys, people, own_and_other):
    own, _ = own_and_other
    client.patch(f"/api/v1/projects/{own.id}", json={"liaison": "张三", "land_area": 50},
                 headers=bearer(keys["county"], If_Match='"1"'))
    response = client.patch(f"/api/v1/projects/{own.id}", json={"land_area": None, "notes": "第二次"},
                            headers=bearer(keys["county"], If_Match='"2"'),
                            content_type="application/merge-patch+json")
    assert response.status_code == 200 and response.headers["ETag"] == '"3"'
    body = response.get_json()
    assert (body["liaison"], body["land_area"], body["notes"], body["name"]) == ("张三", None, "第二次", "三元区氟化工项目")
    events = db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == own.id,
                                                           ProjectEvent.kind == EventKind.UPDATED)).all()
    assert {event.field for event in events} == {"liaison", "land_area", "notes"}
    assert {event.user_id for event in events} == {people["county"].id}


def test_a_change_needs_if_match_and_a_stale_one_gets_the_current_record(client, keys, own_and_other):
    own, _ = own_and_other
    problem_of(client.patch(f"/api/v1/projects/{own.id}", json={"notes": "无版本"},
                            headers=bearer(keys["commerce"])), 428)
    client.patch(f"/api/v1/projects/{own.id}", json={"notes": "先到"}, headers=bearer(keys["county"], If_Match='"1"'))
    response = client.patch(f"/api/v1/projects/{own.id}", json={"notes": "后到"},
                            headers=bearer(keys["commerce"], If_Match='"1"'))
    body = problem_of(response, 412)
    assert body["current"]["notes"] == "先到" and body["current"]["version"] == 2
    assert response.headers["ETag"] == '"2"'
    problem_of(client.patch(f"/api/v1/projects/{own.id}", json={"notes": "乱写"},
                            headers=bearer(keys["commerce"], If_Match="*")), 412)
    assert db.session.get(Project, own.id).notes == "先到"


def test_stage_moves_keep_their_gates(client, keys, own_and_other):
    own, _ = own_and_other
    body = problem_of(client.post(f"/api/v1/projects/{own.id}/stage", json={"to_stage": "approval"},
                                  headers=bearer(keys["county"], If_Match='"1"')), 422)
    assert "项目代码" in body["errors"]["to_stage"]
    code = f"2025-350404-{'30'}-01-000001"
    client.patch(f"/api/v1/projects/{own.id}", json={"project_code": code},
                 headers=bearer(keys["county"], If_Match='"1"'))
    response = client.post(f"/api/v1/projects/{own.id}/stage", json={"to_stage": "approval"},
                           headers=bearer(keys["county"], If_Match='"2"'))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["stage"] == "approval" and db.session.get(Project, own.id).stage is Stage.APPROVAL


def test_convert_an_agreement_to_a_contract(client, keys, people):
    project = make_project(people["commerce"], sign_type=SignType.AGREEMENT, sign_date=dt.date(2025, 1, 1),
                           total_investment=Decimal("5"))
    response = client.post(f"/api/v1/projects/{project.id}/convert", json={"contract_date": "2025-06-01"},
                           headers=bearer(keys["commerce"], If_Match='"1"'))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["sign_type"] == "contract" and response.get_json()["contract_date"] == "2025-06-01"


def test_no_token_or_a_bad_one_is_401_and_a_session_cookie_is_not_enough(client, auth, people, own_and_other):
    for headers in ({}, {"Authorization": "Bearer sm_nope"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/projects", headers=headers)
        problem_of(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    auth.login(people["commerce"])
    problem_of(client.get("/api/v1/projects"), 401)


def test_the_lists_light_is_the_projects_own(client, keys, people, own_and_other):
    own, other = own_and_other
    add_milestone(own, name="厂房封顶", planned_date=dt.date(2025, 1, 1), version=own.version, by=people["commerce"])
    db.session.commit()
    listed = client.get("/api/v1/projects?sort=name", headers=bearer(keys["commerce"])).get_json()["items"]
    assert {item["id"]: item["light"] for item in listed} == {own.id: "red", other.id: "green"}
    red = client.get("/api/v1/projects?light=red", headers=bearer(keys["commerce"])).get_json()
    assert [item["id"] for item in red["items"]] == [own.id]
    assert client.get(f"/api/v1/projects/{own.id}", headers=bearer(keys["commerce"])).get_json()["light"] == "red"
