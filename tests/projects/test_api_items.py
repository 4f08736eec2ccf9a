"""A project's approval items and milestones in the API: each role's access, If-Match, the page's rules, the timeline."""
from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.db import db
from projects import services
from projects.models import ApprovalItem, ApprovalStatus, EventKind, Milestone
from tests.factories import bearer, make_token
from tests.projects.api_calls import (
    ROLES,
    check_role_access,
    chinese,
    data_snapshot,
    etag,
    events_of,
    own_and_other,
    people_and_keys,
    problem_of,
    version_of,
)

pytestmark = pytest.mark.usefixtures("project_ref")


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2025, 7, 15, 4, 0, tzinfo=dt.UTC))


@pytest.fixture
def world():
    people, keys = people_and_keys()
    own, other = own_and_other(people["commerce"])
    for project in (own, other):
        services.add_milestone(project, name="土地摘牌", planned_date=dt.date(2025, 9, 1), version=project.version,
                               by=people["commerce"])
    db.session.commit()
    return people, keys, own, other


def first_approval(project) -> ApprovalItem:
    return project.approvals[0]


def operations(project) -> dict[str, tuple[str, str, dict | None, int]]:
    """Each operation on ``project``: method, path, body and the status an allowed caller gets."""
    item, milestone = first_approval(project).id, project.milestones[0].id
    base = f"/api/v1/projects/{project.id}"
    return {
        "list approvals": ("get", f"{base}/approvals", None, 200),
        "update approval": ("patch", f"{base}/approvals/{item}", {"status": "in_progress"}, 200),
        "list milestones": ("get", f"{base}/milestones", None, 200),
        "add milestone": ("post", f"{base}/milestones", {"name": "主体封顶", "planned_date": "2025-12-01"}, 201),
        "update milestone": ("patch", f"{base}/milestones/{milestone}", {"planned_date": "2025-10-01"}, 200),
    }


WRITES = {"update approval", "add milestone", "update milestone"}


@pytest.mark.parametrize("operation", ["list approvals", "update approval", "list milestones", "add milestone",
                                       "update milestone"])
@pytest.mark.parametrize("role", [*ROLES, "county/other"])
def test_each_role_gets_the_pages_access(client, world, operation, role):
    check_role_access(client, world, operations, operation, role, WRITES)


@pytest.mark.parametrize("operation", sorted(WRITES))
def test_a_read_only_token_reads_but_never_writes(client, world, operation):
    people, _, own, _ = world
    key = make_token(people["commerce"], read_only=True)
    method, path, body, _ = operations(own)[operation]
    before = data_snapshot()
    problem_of(getattr(client, method)(path, json=body, headers=bearer(key, If_Match=etag(own.id))), 403)
    assert data_snapshot() == before
    assert client.get(f"/api/v1/projects/{own.id}/approvals", headers=bearer(key)).status_code == 200


@pytest.mark.parametrize("operation", sorted(WRITES))
def test_a_change_without_if_match_is_428_and_a_stale_one_412_with_the_current_record(client, world, operation):
    _, keys, own, _ = world
    method, path, body, _ = operations(own)[operation]
    before = data_snapshot()
    problem_of(getattr(client, method)(path, json=body, headers=bearer(keys["county"])), 428)
    stale = getattr(client, method)(path, json=body, headers=bearer(keys["county"], If_Match='"0"'))
    current = problem_of(stale, 412)["current"]
    assert stale.headers["ETag"] == etag(own.id)
    assert data_snapshot() == before
    if operation == "update approval":
        assert current["id"] == first_approval(own).id and current["status"] == "todo"
    elif operation == "add milestone":  # nothing to show of a row never made: the project's milestones instead
        assert [row["name"] for row in current["items"]] == ["土地摘牌"]
    else:
        assert current["planned_date"] == "2025-09-01"


def test_the_approval_list_is_the_pages_and_names_each_item(client, world):
    _, keys, own, _ = world
    body = client.get(f"/api/v1/projects/{own.id}/approvals?per_page=3", headers=bearer(keys["leader"])).get_json()
    assert (body["total"], body["page"], body["per_page"]) == (len(own.approvals), 1, 3)
    assert [item["type_name"] for item in body["items"]] == [item.type.name for item in own.approvals[:3]]
    assert body["items"][0] == {"status": "todo", "planned_date": None, "done_date": None, "document_no": "",
                                "id": own.approvals[0].id, "project_id": own.id, "type_id": own.approvals[0].type_id,
                                "type_name": "立项备案/核准", "position": 0}


def test_an_approval_patch_changes_only_the_fields_given_and_the_timeline_names_the_token_user(client, world):
    people, keys, own, _ = world
    item = first_approval(own)
    path = f"/api/v1/projects/{own.id}/approvals/{item.id}"
    response = client.patch(path, json={"planned_date": "2025-08-01", "document_no": "明发改备〔2025〕12号"},
                            headers=bearer(keys["county"], If_Match=etag(own.id)))
    assert response.status_code == 200, response.get_data(as_text=True)
    response = client.patch(path, json={"status": "done", "done_date": "2025-07-10"},
                            headers=bearer(keys["county"], If_Match=response.headers["ETag"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["ETag"] == etag(own.id)
    body = response.get_json()
    assert (body["status"], body["planned_date"], body["done_date"], body["document_no"]) == (
        "done", "2025-08-01", "2025-07-10", "明发改备〔2025〕12号")
    saved = db.session.get(ApprovalItem, item.id)
    assert (saved.status, saved.done_date) == (ApprovalStatus.DONE, dt.date(2025, 7, 10))
    approvals = [event for event in events_of(own.id) if event.kind is EventKind.APPROVAL]
    assert {event.field for event in approvals} == {"approval:planned_date", "approval:document_no",
                                                   "approval:status", "approval:done_date"}
    assert {event.user_id for event in approvals} == {people["county"].id}


def test_an_approval_breaking_the_pages_rules_is_422_in_chinese_and_saves_nothing(client, world):
    _, keys, own, _ = world
    path = f"/api/v1/projects/{own.id}/approvals/{first_approval(own).id}"
    before = data_snapshot()
    cases = [({"status": "done"}, {"done_date": "已办结的手续必须填写办结日期。"}),
             ({"status": "done", "done_date": "2025-07-16"}, {"done_date": "办结日期不能晚于今天。"}),
             ({"done_date": "2025-07-01"}, {"done_date": "只有已办结的手续才能填写办结日期。"})]
    for patch, errors in cases:
        body = problem_of(client.patch(path, json=patch, headers=bearer(keys["commerce"], If_Match=etag(own.id))),
                          422)
        assert body["errors"] == errors
    body = problem_of(client.patch(path, json={"status": "finished", "planned_date": "2025/08/01", "note": "x",
                                               "document_no": "文\x00号"},
                                   headers=bearer(keys["commerce"], If_Match=etag(own.id))), 422)
    assert set(body["errors"]) == {"status", "planned_date", "note", "document_no"}
    assert all(chinese(message) for message in body["errors"].values())
    assert data_snapshot() == before


def test_another_projects_approval_item_or_milestone_is_404(client, world):
    _, keys, own, other = world
    headers = bearer(keys["commerce"], If_Match=etag(own.id))
    before = data_snapshot()
    problem_of(client.patch(f"/api/v1/projects/{own.id}/approvals/{first_approval(other).id}",
                            json={"status": "done", "done_date": "2025-07-01"}, headers=headers), 404)
    problem_of(client.patch(f"/api/v1/projects/{own.id}/milestones/{other.milestones[0].id}",
                            json={"actual_date": "2025-07-01"}, headers=headers), 404)
    assert data_snapshot() == before


def test_a_milestone_added_shows_in_the_list_with_its_light_and_the_timeline_names_the_token_user(client, world):
    people, keys, own, _ = world
    response = client.post(f"/api/v1/projects/{own.id}/milestones",
                           json={"name": "  设备进场 ", "planned_date": "2025-07-20", "note": "首批设备"},
                           headers=bearer(keys["admin"], If_Match=etag(own.id)))
    assert response.status_code == 201, response.get_data(as_text=True)
    added = response.get_json()
    assert (added["name"], added["planned_date"], added["actual_date"], added["note"], added["light"]) == (
        "设备进场", "2025-07-20", None, "首批设备", "yellow")
    assert added["project_id"] == own.id and db.session.get(Milestone, added["id"]).name == "设备进场"
    listed = client.get(f"/api/v1/projects/{own.id}/milestones", headers=bearer(keys["county"])).get_json()
    assert [(row["name"], row["light"]) for row in listed["items"]] == [("设备进场", "yellow"), ("土地摘牌", "green")]
    event = events_of(own.id)[-1]
    assert (event.kind, event.label, event.user_id) == (EventKind.MILESTONE, "节点“设备进场”·计划日期",
                                                        people["admin"].id)


def test_a_milestone_update_changes_the_dates_given_under_the_pages_rules(client, world):
    people, keys, own, _ = world
    milestone = own.milestones[0]
    path = f"/api/v1/projects/{own.id}/milestones/{milestone.id}"
    before = data_snapshot()
    body = problem_of(client.patch(path, json={"actual_date": "2025-07-16"},
                                   headers=bearer(keys["county"], If_Match=etag(own.id))), 422)
    assert body["errors"] == {"actual_date": "实际完成日期不能晚于今天。"}
    body = problem_of(client.patch(path, json={"planned_date": None, "name": "改名"},
                                   headers=bearer(keys["county"], If_Match=etag(own.id))), 422)
    assert body["errors"] == {"planned_date": "不能为空（null）。", "name": "不认识的字段。"}
    assert data_snapshot() == before
    version = version_of(own.id)
    response = client.patch(path, json={"actual_date": "2025-07-14"},
                            headers=bearer(keys["county"], If_Match=etag(own.id)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["planned_date"] == "2025-09-01" and response.get_json()["actual_date"] == "2025-07-14"
    assert version_of(own.id) == version + 1
    assert events_of(own.id)[-1].user_id == people["county"].id


def test_a_milestone_needs_a_name_and_a_planned_date(client, world):
    _, keys, own, _ = world
    before = data_snapshot()
    body = problem_of(client.post(f"/api/v1/projects/{own.id}/milestones", json={"name": "   ", "note": "说明"},
                                  headers=bearer(keys["commerce"], If_Match=etag(own.id))), 422)
    assert body["errors"] == {"name": "请填写“节点名称”。", "planned_date": "必填。"}
    assert data_snapshot() == before
