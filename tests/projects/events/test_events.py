"""Signing events: cohort figures on a known fixture, county scoping of the event pages, investor changes."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import clock, errors
from core.auth.models import Role
from core.db import db
from projects import rules, services
from projects.events import queries as event_queries
from projects.events import services as event_services
from projects.models import EventKind, Project, ProjectEvent
from projects.rules import ProjectInvalid
from projects.stages import SignType, Stage
from tests.factories import make_event, make_project, make_user
from tests.projects.web import new_client, page_text, project_form_data

pytestmark = pytest.mark.usefixtures("project_ref")

NOW = dt.datetime(2025, 11, 20, 4, 0, tzinfo=dt.UTC)  # 2025-11-20, noon in Sanming
SANYUAN, YONGAN = "350404", "350481"
SIGN_DAY = dt.date(2025, 6, 18)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def staff():
    return make_user(Role.COMMERCE)


def signed_at(event, by, name: str, county: str, sign_type: SignType, total: str, **facts) -> Project:
    """A project first signed at ``event``, with facts (stage, actual dates) set as they stand today."""
    project = make_project(by, name=name, county_code=county, sign_type=sign_type, sign_date=event.date,
                           total_investment=Decimal(total), signing_event_id=event.id,
                           is_capital_increase=facts.pop("increase", False))
    for field, value in facts.items():
        setattr(project, field, value)
    db.session.commit()
    return project


@pytest.fixture
def cohort(staff):
    """第二十四届6·18: 3 contracts (2 started, 1 of them producing, 1 a capital increase not started),
    2 agreements (1 converted); 三元区 holds C1, C3 and A1. Other projects sit elsewhere."""
    event = make_event(staff, name="第二十四届6·18", date=SIGN_DAY)
    later = make_event(staff, name="9·8投洽会", date=dt.date(2025, 9, 8))
    c1 = signed_at(event, staff, "三元氟化工合同甲", SANYUAN, SignType.CONTRACT, "10000",
                   stage=Stage.STARTED, actual_start=dt.date(2025, 8, 1))
    c2 = signed_at(event, staff, "永安石墨合同乙", YONGAN, SignType.CONTRACT, "20000", stage=Stage.PRODUCING,
                   actual_start=dt.date(2025, 7, 1), actual_completion=dt.date(2025, 9, 1),
                   actual_production=dt.date(2025, 10, 1))
    c3 = signed_at(event, staff, "三元稀土增资丙", SANYUAN, SignType.CONTRACT, "2000", increase=True)
    a1 = signed_at(event, staff, "三元医药协议丁", SANYUAN, SignType.AGREEMENT, "5000")
    services.convert_to_contract(a1, dt.date(2025, 8, 15), version=a1.version, by=staff)
    db.session.commit()
    a2 = signed_at(event, staff, "永安石墨协议戊", YONGAN, SignType.AGREEMENT, "3000")
    elsewhere = signed_at(later, staff, "投洽会合同己", SANYUAN, SignType.CONTRACT, "7000",
                          stage=Stage.STARTED, actual_start=dt.date(2025, 10, 1))
    unattached = make_project(staff, name="无活动项目庚", county_code=SANYUAN, total_investment=Decimal("900"),
                              sign_date=SIGN_DAY, actual_start=dt.date(2025, 7, 1))
    return {"event": event, "later": later, "c1": c1, "c2": c2, "c3": c3, "a1": a1, "a2": a2,
            "elsewhere": elsewhere, "unattached": unattached}


def event_counts(response) -> dict[str, int]:
    """Event name → the project count its row on the event list shows."""
    rows = re.findall(r'<a href="/events/\d+">([^<]+)</a>.*?<td class="text-end">(\d+)</td>',
                      response.get_data(as_text=True), flags=re.S)
    return {name: int(count) for name, count in rows}


def test_cohort_figures_on_a_known_fixture(staff, cohort):
    figures = event_queries.cohort_figures(staff, cohort["event"].id)
    assert figures["signed"] == 5
    assert Decimal(figures["total_investment"]) == Decimal("40000")  # the increase counts only its 2000
    assert (figures["contracts"], figures["contracts_started"]) == (3, 2)
    assert figures["start_rate"] == pytest.approx(2 / 3)
    assert (figures["agreements"], figures["converted"]) == (2, 1)
    assert figures["conversion_rate"] == pytest.approx(1 / 2)
    assert figures["producing"] == 1
    assert figures["production_rate"] == pytest.approx(1 / 5)
    assert figures["capital_increases"] == 1
    assert figures["started"] == 2
    # The converted agreement keeps counting as an agreement (signed_as), not as a fourth contract.
    assert db.session.get(Project, cohort["a1"].id).sign_type is SignType.CONTRACT


def test_event_without_projects_has_no_rates(staff):
    event = make_event(staff, name="空活动")
    figures = event_queries.cohort_figures(staff, event.id)
    assert figures["signed"] == 0 and Decimal(figures["total_investment"]) == 0
    assert figures["start_rate"] is None and figures["conversion_rate"] is None and figures["production_rate"] is None


def test_event_page_shows_the_cohort_and_its_figures(app, staff, cohort):
    response = new_client(app, staff).get(f"/events/{cohort['event'].id}")
    assert response.status_code == 200
    text = page_text(response)
    for expected in ("签约项目 5 个", "总投资 40,000.00 万元", "开工率 66.7%", "协议转合同率 50.0%", "投产率 20.0%",
                     "合同项目 3 个", "增资项目 1 个"):
        assert expected in text, expected
    for key in ("c1", "c2", "c3", "a1", "a2"):
        assert cohort[key].name in text
    assert cohort["elsewhere"].name not in text and cohort["unattached"].name not in text
    assert "协议→合同" in text  # the converted agreement is marked as such


def test_county_official_sees_only_their_countys_projects_and_figures(app, cohort):
    official = make_user(Role.COUNTY, county=SANYUAN)
    figures = event_queries.cohort_figures(official, cohort["event"].id)
    assert (figures["signed"], Decimal(figures["total_investment"])) == (3, Decimal("17000"))
    assert (figures["contracts"], figures["contracts_started"], figures["agreements"], figures["converted"],
            figures["producing"]) == (2, 1, 1, 1, 0)
    client = new_client(app, official)
    text = page_text(client.get(f"/events/{cohort['event'].id}"))
    for expected in ("以下仅统计本县区项目", "签约项目 3 个", "总投资 17,000.00 万元", "开工率 50.0%",
                     "协议转合同率 100.0%", "投产率 0.0%"):
        assert expected in text, expected
    assert all(cohort[key].name in text for key in ("c1", "c3", "a1"))
    assert cohort["c2"].name not in text and cohort["a2"].name not in text
    # The event list counts only the official's projects too.
    assert event_counts(client.get("/events/")) == {"第二十四届6·18": 3, "9·8投洽会": 1}
    assert event_counts(new_client(app, make_user(Role.LEADER)).get("/events/")) == {"第二十四届6·18": 5, "9·8投洽会": 1}


def test_county_official_cannot_maintain_events(app, cohort):
    client = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    assert client.post("/events/new", data={"name": "三元区自办签约会", "date": "2025-10-01"}).status_code == 403
    with pytest.raises(errors.NotAllowed):
        event_services.save_signing_event(None, name="三元区自办签约会", date=dt.date(2025, 10, 1), place="", organiser="",
                                    county_code=SANYUAN, notes="", by=make_user(Role.COUNTY, county=SANYUAN))


def test_event_names_are_unique(staff, cohort):
    with pytest.raises(ProjectInvalid) as info:
        event_services.save_signing_event(None, name="第二十四届6·18", date=dt.date(2025, 6, 18), place="", organiser="",
                                    county_code=None, notes="", by=staff)
    assert "已存在" in info.value.errors["name"]


def test_an_event_edited_from_an_older_copy_is_refused_and_keeps_the_first_save(app, staff):
    event = make_event(name="春季签约会", place="福州")
    first, second = new_client(app, staff), new_client(app, make_user(Role.ADMIN))
    form = {"name": "春季签约会", "date": event.date.isoformat(), "version": "1"}
    assert 'name="version" type="hidden" value="1"' in first.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert first.post(f"/events/{event.id}/edit", data={**form, "place": "厦门"}).status_code == 302
    late = second.post(f"/events/{event.id}/edit", data={**form, "place": "泉州"})
    assert late.status_code == 409 and "已被他人修改" in page_text(late)
    db.session.expire_all()
    assert (db.session.get(type(event), event.id).place, db.session.get(type(event), event.id).version) == ("厦门", 2)


# investor change -------------------------------------------------------------------------------------

def form_of(project: Project, **changes) -> dict:
    return {**{field: getattr(project, field) for field in rules.EDITABLE_FIELDS}, **changes}


def refused(project: Project, by, **changes) -> dict[str, str]:
    with pytest.raises(ProjectInvalid) as info:
        services.update_project(project, form_of(project, **changes), version=project.version, by=by)
    db.session.rollback()
    return info.value.errors


def test_investor_change_moves_the_project_to_the_later_event_and_keeps_its_history(staff):
    earlier = make_event(staff, name="第七届进博会", date=dt.date(2024, 11, 5))
    first = make_event(staff, name="第二十四届6·18", date=SIGN_DAY)
    later = make_event(staff, name="9·8投洽会", date=dt.date(2025, 9, 8))
    project = make_project(staff, name="氟材料项目", investor_name="福建甲材料有限公司", sign_date=SIGN_DAY,
                           signing_event_id=first.id)
    version = project.version

    errors = refused(project, staff, investor_name="厦门乙科技有限公司")  # still the first event
    assert "投资方已变更" in errors["signing_event_id"]
    errors = refused(project, staff, investor_name="厦门乙科技有限公司", signing_event_id=earlier.id)
    assert "投资方已变更" in errors["signing_event_id"]
    errors = refused(project, staff, investor_name="厦门乙科技有限公司", signing_event_id=None)
    assert "投资方已变更" in errors["signing_event_id"]
    project = db.session.get(Project, project.id)
    assert (project.investor_name, project.signing_event_id, project.version) == ("福建甲材料有限公司", first.id, version)

    # Rewriting the same investor's name (suffix, brackets, spaces) is not a change of investor.
    services.update_project(project, form_of(project, investor_name="福建 甲材料（集团）股份有限公司"),
                            version=project.version, by=staff)
    db.session.commit()
    assert project.signing_event_id == first.id

    services.update_project(project, form_of(project, investor_name="厦门乙科技有限公司", signing_event_id=later.id),
                            version=project.version, by=staff)
    db.session.commit()
    project = db.session.get(Project, project.id)
    assert project.signing_event_id == later.id and project.investor_name == "厦门乙科技有限公司"
    assert event_queries.cohort_figures(staff, first.id)["signed"] == 0
    assert event_queries.cohort_figures(staff, later.id)["signed"] == 1

    history = {row.field: row for row in db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id, ProjectEvent.version == project.version))}
    assert (history["investor_name"].old_value, history["investor_name"].new_value) == \
        ("福建 甲材料（集团）股份有限公司", "厦门乙科技有限公司")
    assert (history["signing_event_id"].old_value, history["signing_event_id"].new_value) == ("第二十四届6·18", "9·8投洽会")
    assert {row.kind for row in history.values()} == {EventKind.UPDATED}
    first_names = [row.new_value for row in db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id, ProjectEvent.field == "investor_name")
        .order_by(ProjectEvent.id))]
    assert first_names == ["福建甲材料有限公司", "福建 甲材料（集团）股份有限公司", "厦门乙科技有限公司"]


def test_investor_change_on_a_project_without_an_event_needs_no_event(staff):
    project = make_project(staff, investor_name="福建甲材料有限公司")
    services.update_project(project, form_of(project, investor_name="厦门乙科技有限公司"), version=project.version,
                            by=staff)
    db.session.commit()
    assert db.session.get(Project, project.id).investor_name == "厦门乙科技有限公司"


def test_investor_change_refusal_shows_on_the_edit_form(app, staff):
    first = make_event(staff, name="第二十四届6·18", date=SIGN_DAY)
    project = make_project(staff, investor_name="福建甲材料有限公司", sign_date=SIGN_DAY, signing_event_id=first.id)
    data = project_form_data(project)
    data["investor_name"] = "厦门乙科技有限公司"
    response = new_client(app, staff).post(f"/projects/{project.id}/edit", data=data)
    assert response.status_code == 400
    assert "投资方已变更" in page_text(response)
    db.session.rollback()
    assert db.session.get(Project, project.id).investor_name == "福建甲材料有限公司"


def test_a_project_still_in_talks_is_not_credited_to_an_event(staff):
    event = make_event(staff, name="第二十四届6·18", date=SIGN_DAY)
    with pytest.raises(ProjectInvalid) as info:
        make_project(staff, name="在谈项目", stage=Stage.NEGOTIATING, sign_type=None, sign_date=None,
                     signing_event_id=event.id)
    db.session.rollback()
    assert "在谈项目尚未签约" in info.value.errors["signing_event_id"]
    talks = make_project(staff, name="在谈项目", stage=Stage.NEGOTIATING, sign_type=None, sign_date=None)
    errors = refused(talks, staff, signing_event_id=event.id)
    assert "在谈项目尚未签约" in errors["signing_event_id"]
    assert event_queries.cohort_figures(staff, event.id)["signed"] == 0
    # Once signed it is credited; if it later goes back to 在谈 it may still be edited.
    services.update_project(talks, form_of(talks, sign_type=SignType.CONTRACT, sign_date=SIGN_DAY),
                            version=talks.version, by=staff)
    services.change_stage(talks, Stage.SIGNED, version=talks.version, by=staff)
    services.update_project(talks, form_of(talks, signing_event_id=event.id), version=talks.version, by=staff)
    db.session.commit()
    assert event_queries.cohort_figures(staff, event.id)["signed"] == 1
    services.change_stage(talks, Stage.NEGOTIATING, version=talks.version, by=staff, reason="投资方要求重新谈判")
    services.update_project(talks, form_of(talks, name="在谈项目（重新谈判）"), version=talks.version, by=staff)
    db.session.commit()
    assert db.session.get(Project, talks.id).name == "在谈项目（重新谈判）"
