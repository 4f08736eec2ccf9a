"""Blockers (存在问题): add, escalate and close with audit rows and version checks; where open ones show."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from core import clock
from core.auth.models import Role
from core.db import db
from core.errors import NotAllowed
from parks.models import Park
from projects.models import EventKind, Project, ProjectEvent
from projects.reports import services as report_services
from projects.reports.models import Blocker, BlockerCategory
from projects.rules import Conflict, ProjectInvalid
from tests.conftest import csrf_token_from
from tests.factories import make_project, make_user
from tests.projects.web import changed_tables, new_client, page_text, project_form_data, snapshot

pytestmark = pytest.mark.usefixtures("project_ref")

NOW = dt.datetime(2025, 7, 15, 4, 0, tzinfo=dt.UTC)  # 2025-07-15, noon in Sanming
SANYUAN, YONGAN = "350404", "350481"


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def staff():
    return make_user(Role.COMMERCE)


def add(project: Project, by, description: str = "用地指标未落实", *, category=BlockerCategory.LAND,
        department: str = "市自然资源局", due: dt.date | None = None, escalated: bool = False) -> Blocker:
    blocker = report_services.add_blocker(project, category=category, description=description, department=department,
                                   due_date=due, escalated=escalated, version=project.version, by=by)
    db.session.commit()
    return blocker


def fresh(model, ident):
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(model, ident)


def blocker_events(project: Project) -> list[ProjectEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                                             ProjectEvent.kind == EventKind.BLOCKER)
                                   .order_by(ProjectEvent.id)))


def invalid(call, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(ProjectInvalid) as info:
        call(*args, **kwargs)
    db.session.rollback()
    return info.value.errors


# services ------------------------------------------------------------------------------------------

def test_add_needs_a_description_and_writes_an_event(staff):
    project = make_project(staff)
    errors = invalid(report_services.add_blocker, project, category="eia", description="   ", department="",
                     due_date=None, escalated=False, version=project.version, by=staff)
    assert errors == {"description": "请描述存在的问题。"}
    assert db.session.scalar(select(func.count()).select_from(Blocker)) == 0
    version = fresh(Project, project.id).version
    project = fresh(Project, project.id)
    blocker = add(project, staff, "  环评批复延迟  ", category="eia", department=" 市生态环境局 ",
                  due=dt.date(2025, 8, 1), escalated=True)
    blocker = fresh(Blocker, blocker.id)
    assert (blocker.category, blocker.description, blocker.department, blocker.escalated, blocker.is_open) == (
        BlockerCategory.EIA, "环评批复延迟", "市生态环境局", True, True)
    assert blocker.created_by_id == staff.id
    (event,) = blocker_events(project)
    assert (event.label, event.old_value, event.new_value, event.note) == (
        "存在问题（环评）", None, "环评批复延迟", "已提请挂钩领导协调")
    assert event.version == version + 1 == fresh(Project, project.id).version


def test_escalate_then_close_with_a_note_once(staff):
    project = make_project(staff)
    blocker = add(project, staff)
    project = fresh(Project, project.id)
    report_services.escalate_blocker(project, fresh(Blocker, blocker.id), version=project.version, by=staff)
    db.session.commit()
    assert fresh(Blocker, blocker.id).escalated is True
    project = fresh(Project, project.id)
    assert "已提请" in invalid(report_services.escalate_blocker, project, fresh(Blocker, blocker.id),
                               version=project.version, by=staff)[""]

    project = fresh(Project, project.id)
    assert invalid(report_services.close_blocker, project, fresh(Blocker, blocker.id), closing_note=" ",
                   version=project.version, by=staff) == {"closing_note": "关闭问题时请说明解决情况。"}
    assert fresh(Blocker, blocker.id).is_open
    project = fresh(Project, project.id)
    report_services.close_blocker(project, fresh(Blocker, blocker.id), closing_note="已调剂用地指标 80 亩",
                           version=project.version, by=staff)
    db.session.commit()
    closed = fresh(Blocker, blocker.id)
    assert (closed.closed_at, closed.closing_note, closed.is_open) == (NOW, "已调剂用地指标 80 亩", False)

    project = fresh(Project, project.id)
    version = project.version
    assert "已经关闭" in invalid(report_services.close_blocker, project, fresh(Blocker, blocker.id), closing_note="再关一次",
                                version=project.version, by=staff)["closing_note"]
    assert "已关闭" in invalid(report_services.escalate_blocker, fresh(Project, project.id), fresh(Blocker, blocker.id),
                              version=version, by=staff)[""]
    assert fresh(Blocker, blocker.id).closing_note == "已调剂用地指标 80 亩"
    assert fresh(Project, project.id).version == version

    rows = blocker_events(project)
    assert [(r.label, r.old_value, r.new_value, r.note) for r in rows] == [
        ("存在问题（用地）", None, "用地指标未落实", ""),
        ("存在问题（用地）·提请挂钩领导", "否", "是", ""),
        ("存在问题（用地）", "用地指标未落实", "已解决", "已调剂用地指标 80 亩")]
    assert [r.version for r in rows] == [version - 2, version - 1, version]


def test_blocker_actions_check_the_version_the_project_and_the_county(staff):
    project = make_project(staff, county_code=SANYUAN)
    other = make_project(staff, county_code=SANYUAN)
    blocker = add(project, staff)
    project, stale = fresh(Project, project.id), fresh(Project, project.id).version - 1
    for call, kwargs in ((report_services.add_blocker, {"category": "land", "description": "x", "department": "",
                                                 "due_date": None, "escalated": False}),
                         (report_services.escalate_blocker, {"blocker": fresh(Blocker, blocker.id)}),
                         (report_services.close_blocker, {"blocker": fresh(Blocker, blocker.id), "closing_note": "已解决"})):
        with pytest.raises(Conflict):
            call(fresh(Project, project.id), version=stale, by=staff, **kwargs)
        db.session.rollback()
        with pytest.raises(NotAllowed):
            call(fresh(Project, project.id), version=fresh(Project, project.id).version,
                 by=make_user(Role.COUNTY, county=YONGAN), **kwargs)
        db.session.rollback()
    other = fresh(Project, other.id)
    assert "不属于" in invalid(report_services.close_blocker, other, fresh(Blocker, blocker.id), closing_note="已解决",
                              version=other.version, by=staff)[""]
    blocker = fresh(Blocker, blocker.id)
    assert (blocker.is_open, blocker.escalated, db.session.scalar(select(func.count()).select_from(Blocker))) == (
        True, False, 1)


# pages ---------------------------------------------------------------------------------------------

def test_blocker_routes_add_close_and_refuse_bad_input(app, staff):
    official = make_user(Role.COUNTY, county=SANYUAN)
    project = make_project(staff, county_code=SANYUAN, name="三元氟化工项目")
    client = new_client(app, official)
    url = f"/projects/{project.id}"
    before = snapshot()
    response = client.post(f"{url}/blockers", data={"version": project.version, "category": "land", "description": ""})
    assert response.status_code == 400 and "请描述存在的问题。" in page_text(response)
    assert changed_tables(before, snapshot()) == []

    response = client.post(f"{url}/blockers", data={"version": project.version, "category": "utilities",
                                                    "description": "园区供电线路未接入", "department": "国网三明供电公司",
                                                    "due_date": "2025-07-01"})
    assert response.status_code == 302
    blocker = db.session.scalar(select(Blocker).where(Blocker.project_id == project.id))
    text = page_text(client.get(url))
    assert "园区供电线路未接入" in text and "国网三明供电公司" in text and "未解决" in text and "已逾期" in text

    version = fresh(Project, project.id).version
    before = snapshot()
    response = client.post(f"{url}/blockers/{blocker.id}/close", data={"version": version, "closing_note": ""})
    assert response.status_code == 400 and "请说明解决情况" in page_text(response)
    assert client.post(f"{url}/blockers/{blocker.id}/close", data={"closing_note": "x"}).status_code == 400
    assert client.post(f"{url}/blockers/{blocker.id}/close",
                       data={"version": version - 1, "closing_note": "已接入"}).status_code == 409
    assert changed_tables(before, snapshot()) == []

    assert client.post(f"{url}/blockers/{blocker.id}/escalate", data={"version": version}).status_code == 302
    version = fresh(Project, project.id).version
    response = client.post(f"{url}/blockers/{blocker.id}/close", data={"version": version, "closing_note": "已接入"})
    assert response.status_code == 302
    text = page_text(client.get(url))
    assert "已解决" in text and "解决情况：已接入" in text and "未解决" not in text
    response = client.post(f"{url}/blockers/{blocker.id}/close",
                           data={"version": fresh(Project, project.id).version, "closing_note": "再关一次"})
    assert response.status_code == 400 and "该问题已经关闭。" in page_text(response)
    assert fresh(Blocker, blocker.id).closing_note == "已接入"


def test_a_control_character_typed_by_a_county_official_is_refused_and_the_city_exports_still_build(app, staff):
    # Issue #12, case 1: a vertical tab in a blocker made /reports/briefing a 500 for every role, and a NUL in a
    # project name made /ledgers/export a file Excel could not open.
    official = make_user(Role.COUNTY, county=SANYUAN)
    project = make_project(staff, county_code=SANYUAN, name="三元氟化工项目")
    client = new_client(app, official)
    before = snapshot()
    response = client.post(f"/projects/{project.id}/blockers", data={
        "version": project.version, "category": "land", "description": "用地\x0b指标", "department": "国土\x00"})
    assert response.status_code == 400
    assert "“问题描述”含有不可见的控制字符（U+000B）" in page_text(response)
    response = client.post(f"/projects/{project.id}/edit", data=project_form_data(project, name="三元\x00项目"))
    assert response.status_code == 400 and "“项目名称”含有不可见的控制字符（U+0000）" in page_text(response)
    assert changed_tables(before, snapshot()) == []
    commerce = new_client(app, staff)
    for path in ("/reports/briefing", "/ledgers/export"):
        download = commerce.get(path)
        assert download.status_code == 200, path
        openpyxl.load_workbook(io.BytesIO(download.data))


def test_blocker_routes_are_scoped(app, staff):
    ours = make_project(staff, county_code=SANYUAN)
    theirs = make_project(staff, county_code=YONGAN)
    blocker = add(theirs, staff, "永安的问题")
    official = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    before = snapshot()
    assert official.post(f"/projects/{theirs.id}/blockers",
                         data={"version": theirs.version, "category": "land", "description": "越权"}).status_code == 404
    # A blocker id of another project, under a project the official may edit: 404, nothing closed.
    assert official.post(f"/projects/{ours.id}/blockers/{blocker.id}/close",
                         data={"version": ours.version, "closing_note": "越权关闭"}).status_code == 404
    assert changed_tables(before, snapshot()) == []
    leader = new_client(app, make_user(Role.LEADER))
    before = snapshot()
    assert leader.post(f"/projects/{theirs.id}/blockers",
                       data={"version": fresh(Project, theirs.id).version, "category": "land",
                             "description": "领导不能登记"}).status_code == 403
    assert changed_tables(before, snapshot()) == []
    assert fresh(Blocker, blocker.id).is_open


def park_named(name: str) -> Park:
    return db.session.scalar(select(Park).where(Park.name == name))


def test_open_blockers_show_on_the_project_park_and_leader_pages(app, staff):
    leader = make_user(Role.LEADER, display_name="王市长")
    other_leader = make_user(Role.LEADER, display_name="李副市长")
    huangsha, graphite = park_named("黄砂氟新材料循环经济产业园"), park_named("永安石墨和石墨烯产业园")
    sanyuan = make_project(staff, name="黄砂氟化工项目", county_code=SANYUAN, park_id=huangsha.id,
                           hooked_leader_id=leader.id)
    yongan = make_project(staff, name="永安石墨烯项目", county_code=YONGAN, park_id=graphite.id,
                          hooked_leader_id=other_leader.id)
    add(sanyuan, staff, "黄砂环评批复延迟", category="eia", escalated=True)
    closed = add(fresh(Project, sanyuan.id), staff, "黄砂已解决的供水问题", category="utilities")
    project = fresh(Project, sanyuan.id)
    report_services.close_blocker(project, fresh(Blocker, closed.id), closing_note="已通水", version=project.version, by=staff)
    db.session.commit()
    add(yongan, staff, "永安石墨用地指标未落实")

    commerce, official = new_client(app, staff), new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    text = page_text(commerce.get(f"/projects/{sanyuan.id}"))
    assert "黄砂环评批复延迟" in text and "已提请挂钩领导协调" in text and "黄砂已解决的供水问题" in text

    text = page_text(commerce.get(f"/parks/{huangsha.id}"))
    assert "黄砂环评批复延迟" in text and "黄砂已解决的供水问题" not in text and "永安石墨用地指标未落实" not in text
    assert "永安石墨用地指标未落实" in page_text(commerce.get(f"/parks/{graphite.id}"))
    assert "黄砂环评批复延迟" in page_text(official.get(f"/parks/{huangsha.id}"))
    text = page_text(official.get(f"/parks/{graphite.id}"))
    assert "永安石墨用地指标未落实" not in text and "永安石墨烯项目" not in text and "没有未解决的问题" in text


    text = page_text(new_client(app, leader).get("/"))
    assert "黄砂环评批复延迟" in text and "永安石墨用地指标未落实" not in text and "黄砂已解决的供水问题" not in text
    text = page_text(new_client(app, other_leader).get("/"))
    assert "永安石墨用地指标未落实" in text and "黄砂环评批复延迟" not in text


def test_blocker_forms_post_with_the_pages_csrf_token(app, staff, csrf_on):
    project = make_project(staff)
    client = new_client(app, staff)
    token = csrf_token_from(client.get(f"/projects/{project.id}").get_data(as_text=True))
    data = {"version": project.version, "category": "funding", "description": "银行贷款未放款"}
    assert client.post(f"/projects/{project.id}/blockers", data=data).status_code == 400
    assert client.post(f"/projects/{project.id}/blockers", data={**data, "csrf_token": token}).status_code == 302
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    blocker = db.session.scalar(select(Blocker).where(Blocker.project_id == project.id))
    assert f'action="/projects/{project.id}/blockers/{blocker.id}/close"' in page
    response = client.post(f"/projects/{project.id}/blockers/{blocker.id}/close",
                           data={"version": fresh(Project, project.id).version, "closing_note": "已放款",
                                 "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302 and not fresh(Blocker, blocker.id).is_open


def test_the_park_and_project_pages_render_their_panels_as_html_not_as_text(app, staff):
    huangsha = park_named("黄砂氟新材料循环经济产业园")
    project = make_project(staff, name="黄砂氟化工项目", county_code=SANYUAN, park_id=huangsha.id)
    add(project, staff, "黄砂环评批复延迟", category="eia")
    client = new_client(app, staff)
    for path, heading in ((f"/parks/{huangsha.id}", "园区项目"), (f"/parks/{huangsha.id}", "未解决的存在问题"),
                          (f"/projects/{project.id}", "存在问题")):
        html = client.get(path).get_data(as_text=True)
        assert f">{heading}</h2>" in html and "&lt;h2" not in html, path
