"""Monthly reports and blockers in the API: each role's access, If-Match, the pages' rules, the totals, the timeline."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import clock
from core.db import db
from projects.models import EventKind, Project
from projects.reports import services as report_services
from projects.reports.models import Blocker, BlockerCategory, ProgressReport
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
)

pytestmark = pytest.mark.usefixtures("project_ref")


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2025, 7, 15, 4, 0, tzinfo=dt.UTC))  # noon in Sanming


@pytest.fixture
def world():
    """Two projects signed 2025-03-01 (total 10000 万元), each with a report for June and an open blocker."""
    people, keys = people_and_keys()
    own, other = own_and_other(people["commerce"])
    for project in (own, other):
        report_services.save_report(project, dt.date(2025, 6, 1), investment=Decimal("500"),
                                    funds_arrived=Decimal("300"), note="", no_change=False, version=project.version,
                                    by=people["commerce"])
        report_services.add_blocker(project, category=BlockerCategory.LAND, description="用地指标未落实",
                                    department="市自然资源局", due_date=None, escalated=False,
                                    version=project.version, by=people["commerce"])
    db.session.commit()
    return people, keys, own, other


def operations(project) -> dict[str, tuple[str, str, dict | None, int]]:
    """Each operation on ``project``: method, path, body and the status an allowed caller gets."""
    blocker = project.blockers[0].id
    base = f"/api/v1/projects/{project.id}"
    return {
        "list reports": ("get", f"{base}/reports", None, 200),
        "submit report": ("post", f"{base}/reports", {"month": "2025-07-01", "investment": 100}, 201),
        "list blockers": ("get", f"{base}/blockers", None, 200),
        "add blocker": ("post", f"{base}/blockers", {"category": "eia", "description": "环评批复延迟"}, 201),
        "escalate blocker": ("post", f"{base}/blockers/{blocker}/escalate", None, 200),
        "close blocker": ("post", f"{base}/blockers/{blocker}/close", {"closing_note": "已落实指标"}, 200),
    }


OPERATIONS = ["list reports", "submit report", "list blockers", "add blocker", "escalate blocker", "close blocker"]
WRITES = ["submit report", "add blocker", "escalate blocker", "close blocker"]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("role", [*ROLES, "county/other"])
def test_each_role_gets_the_pages_access(client, world, operation, role):
    check_role_access(client, world, operations, operation, role, WRITES)


@pytest.mark.parametrize("operation", WRITES)
def test_a_read_only_token_reads_but_never_writes(client, world, operation):
    people, _, own, _ = world
    key = make_token(people["county"], read_only=True)
    method, path, body, _ = operations(own)[operation]
    before = data_snapshot()
    problem_of(getattr(client, method)(path, json=body, headers=bearer(key, If_Match=etag(own.id))), 403)
    assert data_snapshot() == before
    assert client.get(f"/api/v1/projects/{own.id}/blockers", headers=bearer(key)).status_code == 200


@pytest.mark.parametrize("operation", WRITES)
def test_a_change_without_if_match_is_428_and_a_stale_one_412_with_the_current_record(client, world, operation):
    _, keys, own, _ = world
    method, path, body, _ = operations(own)[operation]
    before = data_snapshot()
    problem_of(getattr(client, method)(path, json=body, headers=bearer(keys["commerce"])), 428)
    stale = getattr(client, method)(path, json=body, headers=bearer(keys["commerce"], If_Match='"0"'))
    current = problem_of(stale, 412)["current"]
    assert stale.headers["ETag"] == etag(own.id)
    assert data_snapshot() == before
    if operation == "submit report":
        assert [row["month"] for row in current["items"]] == ["2025-06-01"]
    elif operation == "add blocker":
        assert [row["description"] for row in current["items"]] == ["用地指标未落实"]
    else:
        assert (current["id"], current["is_open"], current["escalated"]) == (own.blockers[0].id, True, False)


def test_a_months_report_is_submitted_then_corrected_and_drives_the_totals(client, world):
    people, keys, own, _ = world
    path = f"/api/v1/projects/{own.id}/reports"
    response = client.post(path, json={"month": "2025-07-09", "investment": 1200.5, "funds_arrived": "800",
                                       "note": "主体厂房完成基础施工。"},
                           headers=bearer(keys["county"], If_Match=etag(own.id)))
    assert response.status_code == 201, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["month"], report["investment"], report["funds_arrived"], report["note"], report["no_change"]) == (
        "2025-07-01", 1200.5, 800.0, "主体厂房完成基础施工。", False)
    assert report["reported_by_id"] == people["county"].id and report["reported_at"].startswith("2025-07-15T04:00")
    response = client.post(path, json={"month": "2025-07-01", "no_change": True},
                           headers=bearer(keys["county"], If_Match=response.headers["ETag"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["id"] == report["id"] and response.get_json()["investment"] == 0.0
    project = db.session.get(Project, own.id)
    assert (project.investment_completed, project.funds_arrived) == (Decimal("500"), Decimal("300"))
    listed = client.get(f"{path}?per_page=1", headers=bearer(keys["leader"])).get_json()
    assert ([row["month"] for row in listed["items"]], listed["total"]) == (["2025-07-01"], 2)
    reports = [event for event in events_of(own.id) if event.kind is EventKind.REPORT]
    assert [(event.label, event.user_id) for event in reports[1:]] == [
        ("2025年07月月报", people["county"].id)] + [
        (f"2025年07月·{title}", people["county"].id) for title in ("完成投资（万元）", "到位资金（万元）", "进展说明", "本月无变化")]


def test_a_report_breaking_the_pages_rules_is_422_in_chinese_and_saves_nothing(client, world):
    _, keys, own, _ = world
    path = f"/api/v1/projects/{own.id}/reports"
    before = data_snapshot()
    cases = [({"month": "2025-08-01", "investment": 1}, {"month": "不能填报未来月份的进展。"}),
             ({"month": "2025-02-01", "investment": 1}, {"month": "项目 2025年03月 签约，不能填报签约之前月份的进展。"}),
             ({"month": "2025-07-01"}, {"note": "请填写本月完成投资、到位资金或进展说明，或勾选“本月无变化”。"}),
             ({"month": "2025-07-01", "funds_arrived": 9800},
              {"confirm_funds": "到位资金累计 10100.00 万元，超过总投资 10000.00 万元，请确认后再保存。"})]
    for body, errors in cases:
        response = client.post(path, json=body, headers=bearer(keys["commerce"], If_Match=etag(own.id)))
        assert problem_of(response, 422)["errors"] == errors
    response = client.post(path, json={"investment": "很多", "funds_arrived": -1, "no_change": "yes", "x": 1},
                           headers=bearer(keys["commerce"], If_Match=etag(own.id)))
    errors = problem_of(response, 422)["errors"]
    assert set(errors) == {"month", "investment", "funds_arrived", "no_change", "x"}
    assert all(chinese(message) for message in errors.values())
    assert data_snapshot() == before
    response = client.post(path, json={"month": "2025-07-01", "funds_arrived": 9800, "confirm_funds": True},
                           headers=bearer(keys["commerce"], If_Match=etag(own.id)))
    assert response.status_code == 201 and db.session.get(Project, own.id).funds_arrived == Decimal("10100")


def test_a_blocker_is_added_escalated_and_closed_with_the_token_user_in_the_timeline(client, world):
    people, keys, own, _ = world
    base = f"/api/v1/projects/{own.id}/blockers"
    response = client.post(base, json={"category": "funding", "description": "  配套资金未到位 ",
                                       "department": "市财政局", "due_date": "2025-08-31"},
                           headers=bearer(keys["admin"], If_Match=etag(own.id)))
    assert response.status_code == 201, response.get_data(as_text=True)
    added = response.get_json()
    assert (added["category"], added["description"], added["department"], added["due_date"], added["escalated"],
            added["is_open"], added["closed_at"], added["created_by_id"]) == (
        "funding", "配套资金未到位", "市财政局", "2025-08-31", False, True, None, people["admin"].id)
    response = client.post(f"{base}/{added['id']}/escalate", headers=bearer(keys["admin"], If_Match=etag(own.id)))
    assert response.status_code == 200 and response.get_json()["escalated"] is True
    response = client.post(f"{base}/{added['id']}/close", json={"closing_note": "资金已拨付"},
                           headers=bearer(keys["county"], If_Match=etag(own.id)))
    assert response.status_code == 200, response.get_data(as_text=True)
    closed = response.get_json()
    assert (closed["is_open"], closed["closing_note"]) == (False, "资金已拨付")
    assert closed["closed_at"].startswith("2025-07-15T04:00")
    listed = client.get(base, headers=bearer(keys["leader"])).get_json()
    assert [(row["description"], row["is_open"]) for row in listed["items"]] == [
        ("配套资金未到位", False), ("用地指标未落实", True)]
    blockers = [event for event in events_of(own.id) if event.kind is EventKind.BLOCKER][-3:]
    assert [(event.label, event.user_id) for event in blockers] == [
        ("存在问题（资金）", people["admin"].id), ("存在问题（资金）·提请挂钩领导", people["admin"].id),
        ("存在问题（资金）", people["county"].id)]


def test_a_blocker_breaking_the_pages_rules_is_422_in_chinese_and_saves_nothing(client, world):
    people, keys, own, _ = world
    blocker = own.blockers[0]
    base = f"/api/v1/projects/{own.id}/blockers"
    report_services.close_blocker(own, blocker, closing_note="已解决", version=own.version, by=people["commerce"])
    db.session.commit()
    before = data_snapshot()
    errors = problem_of(client.post(base, json={"category": "weather", "description": " ", "due_date": "2101-01-01"},
                                    headers=bearer(keys["commerce"], If_Match=etag(own.id))), 422)["errors"]
    assert set(errors) == {"category", "description", "due_date"} and all(map(chinese, errors.values()))
    assert (errors["category"], errors["description"]) == ("取值不在允许的范围内。", "请填写“问题描述”。")
    problem_of(client.post(f"{base}/{blocker.id}/close", json={}, headers=bearer(keys["commerce"],
                                                                                 If_Match=etag(own.id))), 422)
    body = problem_of(client.post(f"{base}/{blocker.id}/close", json={"closing_note": "再关一次"},
                                  headers=bearer(keys["commerce"], If_Match=etag(own.id))), 422)
    assert body["errors"] == {"closing_note": "该问题已经关闭。"}
    body = problem_of(client.post(f"{base}/{blocker.id}/escalate",
                                  headers=bearer(keys["commerce"], If_Match=etag(own.id))), 422)
    assert body["errors"] == {"": "该问题已关闭或已提请挂钩领导协调。"}
    assert data_snapshot() == before


def test_another_projects_blocker_is_404(client, world):
    _, keys, own, other = world
    before = data_snapshot()
    for action, body in (("escalate", None), ("close", {"closing_note": "已解决"})):
        problem_of(client.post(f"/api/v1/projects/{own.id}/blockers/{other.blockers[0].id}/{action}", json=body,
                               headers=bearer(keys["commerce"], If_Match=etag(own.id))), 404)
    assert data_snapshot() == before
    assert db.session.get(Blocker, other.blockers[0].id).is_open
    assert db.session.get(ProgressReport, other.reports[0].id).investment == Decimal("500")
