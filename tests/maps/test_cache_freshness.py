"""No stale entry, ever: after each write path (every service, a ledger import and its revert, a monthly report, a park
edit, the demo data), the next map frame, GeoJSON, dashboard and briefing come back in full and show the change."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock
from core.auth.models import Role
from core.db import db
from parks import services as park_services
from parks.models import Park
from projects import services as project_services
from projects.events import services as event_services
from projects.ledgers import batches, importer
from projects.models import ApprovalItem, ApprovalItemType, Project
from projects.reports import services as report_services
from projects.stages import SignType, Stage
from tests.factories import make_event, make_lead, make_project, make_user
from tests.maps.cache_helpers import Browser
from tests.projects.ledgers.files import ledger_bytes, row
from tests.projects.web import new_client

OWN = "350404"


@pytest.fixture
def commerce(project_ref):
    return make_user(Role.COMMERCE)


@pytest.fixture
def browser(app, project_ref):
    return Browser(new_client(app, make_user(Role.LEADER)))


def fresh(model, ident):
    db.session.rollback()
    return db.session.get(model, ident)


def test_a_new_project_is_on_every_view(browser, commerce):
    browser.settled()
    project = make_project(commerce, name="新签约的项目", sign_date=clock.today(), total_investment=Decimal("8000"))
    views = browser.look()
    assert views.api_projects()[project.id]["properties"]["name"] == "新签约的项目"
    assert project.id in views.frame_projects()
    assert views.figures["signed"] == "1 个"
    assert "1 三元区 1 8,000.00" in views.dashboard  # the city-wide ranking, an entry of its own
    assert "新签约的项目" in views.briefing  # 本月签约


def test_an_edit_is_on_every_view(browser, commerce):
    project = make_project(commerce, name="改名前", sign_date=clock.today())
    before = browser.settled()
    assert before.figures["total"] == "10,000.00 万元"
    data = {**{field: getattr(project, field) for field in ("name", "investor_name", "county_code", "sign_type",
                                                            "sign_date")},
            "name": "改名后", "total_investment": Decimal("25000")}
    project_services.update_project(project, data, version=project.version, by=commerce)
    db.session.commit()
    views = browser.look()
    assert views.api_projects()[project.id]["properties"]["name"] == "改名后"
    assert views.frame_projects()[project.id]["properties"]["name"] == "改名后"
    assert views.figures["total"] == "25,000.00 万元"
    assert "改名后" in views.briefing and "改名前" not in views.briefing


def test_a_stage_move_is_on_every_view(browser, commerce):
    project = make_project(commerce)
    browser.settled()
    project_services.change_stage(project, Stage.PAUSED, version=project.version, by=commerce, reason="资金未到位",
                                  resume_date=clock.today() + dt.timedelta(days=30))
    db.session.commit()
    views = browser.look()
    assert views.api_projects()[project.id]["properties"]["stage"] == "paused"
    assert views.frame_projects()[project.id]["properties"]["stage"] == "paused"
    assert "暂缓 1" in views.dashboard  # the current stage counts


def test_an_agreement_converted_to_a_contract(browser, commerce):
    project = make_project(commerce, sign_type=SignType.AGREEMENT)
    path = "/api/v1/projects.geojson?sign_type=contract"
    assert browser.get(path)[1].count('"id"') == 0
    browser.settled()
    project_services.convert_to_contract(project, clock.today(), version=project.version, by=commerce)
    db.session.commit()
    views = browser.look()
    response, body = browser.get(path)
    assert response.status_code == 200
    assert [f["properties"]["id"] for f in json.loads(body)["features"]] == [project.id]
    assert views.figures["conversion_rate"] == "100.0%"


def test_an_approval_item_done_clears_a_data_gap(browser, commerce):
    project = make_project(commerce, project_code="2025-350404-04-01-000001")
    project_services.update_project(project, {**_form(project), "actual_start": dt.date(2025, 5, 1)},
                                    version=project.version, by=commerce)
    project_services.change_stage(project, Stage.APPROVAL, version=project.version, by=commerce)
    project_services.change_stage(project, Stage.STARTED, version=project.version, by=commerce, historical=True)
    db.session.commit()
    assert "资料完整率 0.0%" in _completeness(browser.settled(), OWN)
    permit = db.session.scalar(select(ApprovalItem).join(ApprovalItemType)
                               .where(ApprovalItem.project_id == project.id, ApprovalItemType.name == "施工许可"))
    project_services.update_approval(project, permit, status="done", planned_date=None, done_date=dt.date(2025, 4, 1),
                                     document_no="明建〔2025〕1号", version=project.version, by=commerce)
    db.session.commit()
    assert "资料完整率 100.0%" in _completeness(browser.look(), OWN)


def _form(project: Project) -> dict:
    return {field: getattr(project, field) for field in ("name", "investor_name", "county_code", "sign_type",
                                                         "sign_date", "total_investment", "project_code")}


def _completeness(views, county: str) -> str:
    """The dashboard's 资料完整率 table as text (the county's row is there)."""
    return "资料完整率 " + views.dashboard.split("各县区资料完整率", 1)[1].split("三元区", 1)[1].split("%", 1)[0].split()[-1] + "%"


def test_milestones_added_and_done_turn_the_light(browser, commerce):
    project = make_project(commerce)
    assert browser.settled().api_projects()[project.id]["properties"]["light"] == "green"
    milestone = project_services.add_milestone(project, name="设备进场", planned_date=clock.today() + dt.timedelta(days=5),
                                               version=project.version, by=commerce)
    db.session.commit()
    views = browser.look()
    assert views.api_projects()[project.id]["properties"]["light"] == "yellow"
    assert views.frame_projects()[project.id]["properties"]["light"] == "yellow"
    project_services.update_milestone(project, milestone, planned_date=milestone.planned_date,
                                      actual_date=clock.today(), version=project.version, by=commerce)
    db.session.commit()
    assert browser.look().api_projects()[project.id]["properties"]["light"] == "green"


def test_a_lead_converted_into_a_project(browser, commerce):
    from projects.leads import services as lead_services

    lead = make_lead(commerce, investor_name="线索转项目投资有限公司")
    browser.settled()
    project = lead_services.convert_lead(lead, {"name": "线索转来的项目", "total_investment": Decimal("6000"),
                                                "sign_type": SignType.CONTRACT, "sign_date": clock.today()},
                                         version=lead.version, by=commerce)
    db.session.commit()
    views = browser.look()
    assert views.api_projects()[project.id]["properties"]["name"] == "线索转来的项目"
    assert project.id in views.frame_projects() and "线索转来的项目" in views.briefing


def test_a_signing_event_renamed(browser, commerce):
    event = make_event(commerce, name="6·18 海峡项目成果交易会")
    make_project(commerce, signing_event_id=event.id)
    assert "6·18 海峡项目成果交易会" in browser.settled().dashboard
    event_services.save_signing_event(event, name="6·18 第二十届海峡项目成果交易会", date=event.date, place=event.place,
                                      organiser=event.organiser, county_code=None, notes="", by=commerce)
    db.session.commit()
    assert "6·18 第二十届海峡项目成果交易会" in browser.look().dashboard


def test_a_monthly_report(browser, commerce):
    project = make_project(commerce)
    assert browser.settled().figures["funds_rate"] == "0.0%"
    report_services.save_report(project, clock.month_start(clock.today()), investment=Decimal("3000"),
                                funds_arrived=Decimal("2500"), note="厂房基础施工", no_change=False,
                                version=project.version, by=commerce)
    db.session.commit()
    views = browser.look()
    assert views.figures["funds_rate"] == "25.0%"
    assert "三元区 1 1 100.0%" in views.dashboard  # the month's completeness board, an entry of its own
    assert "3000" in views.briefing  # investment completed, by industry


def test_a_blocker_added_and_closed(browser, commerce):
    project = make_project(commerce)
    browser.settled()
    blocker = report_services.add_blocker(project, category="land", description="用地指标未落实", department="自然资源局",
                                          due_date=None, escalated=False, version=project.version, by=commerce)
    db.session.commit()
    assert "用地指标未落实" in browser.look().briefing  # 未解决问题
    report_services.close_blocker(project, blocker, closing_note="指标已落实", version=project.version, by=commerce)
    db.session.commit()
    assert "用地指标未落实" not in browser.look().briefing


def test_a_ledger_import_and_its_revert(app, browser, commerce):
    browser.settled()
    batch = importer.import_ledger(ledger_bytes([row(name="台账导入的项目")]), by=commerce).batch
    db.session.commit()
    views = browser.look()
    imported = [f for f in views.api_projects().values() if f["properties"]["name"] == "台账导入的项目"]
    assert len(imported) == 1 and imported[0]["properties"]["id"] in views.frame_projects()
    batches.revert_batch(fresh(type(batch), batch.id), by=make_user(Role.ADMIN))
    db.session.commit()
    views = browser.look()
    assert "台账导入的项目" not in json.dumps(views.projects, ensure_ascii=False)
    assert imported[0]["properties"]["id"] not in views.frame_projects()


def test_a_park_moved_and_given_a_boundary(browser, commerce):
    park = db.session.scalar(select(Park).where(Park.county_code == OWN).order_by(Park.id))
    project = make_project(commerce, park_id=park.id)
    browser.settled()
    admin = make_user(Role.ADMIN)
    park_services.set_position(park, 26.3012, 117.6234, note="实地核对", by=admin)
    db.session.commit()
    views = browser.look()
    assert views.park(park.id)[0]["geometry"]["coordinates"] == [117.6234, 26.3012]
    assert views.api_projects()[project.id]["geometry"]["coordinates"] == [117.6234, 26.3012]
    boundary = {"type": "Polygon", "coordinates": [[[117.60, 26.25], [117.66, 26.25], [117.66, 26.30], [117.60, 26.25]]]}
    park_services.set_boundary(fresh(Park, park.id), json.dumps(boundary).encode(), by=admin)
    db.session.commit()
    assert [f["geometry"]["type"] for f in browser.look().park(park.id)] == ["Polygon"]


def test_demo_data_from_the_command_line(browser, runner):
    assert browser.settled().projects["features"] == []
    result = runner.invoke(args=["demo-data", "--projects", "5", "--seed", "2"])
    assert result.exit_code == 0, result.output
    views = browser.look()
    assert len(views.projects["features"]) + views.projects["unplaced"] == 5
    assert len(views.frame_projects()) == len(views.projects["features"])


def test_a_new_approval_type_reaches_every_view(browser):
    """A reference edit that changes nothing shown still gives new entries: no write is ever missed."""
    browser.settled()
    project_services.add_approval_type("消防审查", by=make_user(Role.ADMIN))
    db.session.commit()
    browser.look()
