"""Lead services and queries on a real database: conversion, response clocks, duplicates, status, follow-ups, audit."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core import clock
from core.audit import AuditEntry
from core.auth.models import Role
from core.db import db
from core.errors import NotAllowed, NotFound
from core.validators import credit_code_check_char
from parks.models import ChainNode, Industry, Park
from projects import services
from projects.leads import queries as lead_queries
from projects.leads import services as lead_services
from projects.leads.models import FollowUp, FollowUpKind, Lead, LeadSource, LeadStatus
from projects.leads.services import DuplicateInvestor, LeadConflict
from projects.models import InvestorOrigin, Project, ProjectEvent
from projects.rules import ProjectInvalid
from projects.stages import SignType, Stage
from tests.factories import make_lead, make_project, make_user, sanming

pytestmark = pytest.mark.usefixtures("project_ref")

SANYUAN, YONGAN = "350404", "350481"  # 三元区, 永安市
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def credit_code(body: str) -> str:
    """A well-formed 统一社会信用代码 of a Sanming company: 9135 0400 + ``body`` (9 chars) + check char."""
    first17 = "91350400" + body
    assert len(first17) == 17
    return first17 + credit_code_check_char(first17)


def park(name: str) -> Park:
    found = db.session.scalar(select(Park).where(Park.name == name))
    assert found is not None, name
    return found


def industry(code: str) -> Industry:
    return db.session.scalar(select(Industry).where(Industry.code == code))


def node(name: str) -> ChainNode:
    return db.session.scalar(select(ChainNode).where(ChainNode.name == name))


def lead_audit(lead_id: int) -> list[AuditEntry]:
    """The lead's audit rows, oldest first, as the session sees them now (pending ones included)."""
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "lead",
                                                           AuditEntry.entity_id == str(lead_id))
                                   .order_by(AuditEntry.id)))


def actions(lead_id: int) -> list[str]:
    return [entry.action for entry in lead_audit(lead_id)]


def lead_audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "lead"))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def committed(model, ident):
    """A row as the database holds it now, nothing cached."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(model, ident)


def refused(call, *args, **kwargs) -> dict[str, str]:
    """The service refuses with ProjectInvalid; its errors (the session is left as the refusal left it)."""
    with pytest.raises(ProjectInvalid) as info:
        call(*args, **kwargs)
    return info.value.errors


def signing(**overrides) -> dict:
    return {"name": "测试签约项目", "sign_type": SignType.CONTRACT, "sign_date": clock.today(), **overrides}


def status(lead: Lead, target: LeadStatus, by, reason: str = "") -> None:
    lead_services.change_lead_status(lead, target, reason=reason, version=lead.version, by=by)
    db.session.commit()


def follow_up(lead: Lead, by, date: dt.date | None = None, next_due: dt.date | None = None) -> FollowUp:
    row = lead_services.add_follow_up(lead, date=date or clock.today(), kind=FollowUpKind.PHONE, summary="电话沟通投资意向",
                                 next_step="安排实地考察", next_due=next_due, by=by)
    db.session.commit()
    return row


@pytest.fixture
def staff():
    return make_user(Role.COMMERCE, display_name="招商科张三")


def flags(lead: Lead, user, clocks: lead_queries.LeadClocks = lead_queries.LeadClocks()) -> list[str]:
    rows = lead_queries.leads_with_flags(user, clocks, clock.today(), lead_id=lead.id)
    assert [row[0].id for row in rows] == [lead.id]
    return rows[0][1]


# conversion -------------------------------------------------------------------------------------------

def test_conversion_carries_everything_over_and_links_lead_and_project(staff):
    code = credit_code("MA2Y00001")
    lead = make_lead(staff, investor_name="福建永晶科技股份有限公司", investor_credit_code=code,
                     investor_origin=InvestorOrigin.IN_PROVINCE, industry_id=industry("fluorine").id,
                     chain_node_id=node("氢氟酸").id, county_code=SANYUAN,
                     park_id=park("黄砂氟新材料循环经济产业园").id, estimated_investment=Decimal("52000"),
                     contact_person="王经理", notes="6·18 展会上结识", land_needed=Decimal("85"))
    project = lead_services.convert_lead(lead, signing(name="永晶含氟新材料项目"), version=lead.version, by=staff)
    db.session.commit()
    project_id = project.id

    project = committed(Project, project_id)
    assert (project.name, project.investor_name, project.investor_credit_code, project.investor_origin) == (
        "永晶含氟新材料项目", "福建永晶科技股份有限公司", code, InvestorOrigin.IN_PROVINCE)
    assert (project.industry_id, project.chain_node_id, project.county_code, project.park_id) == (
        industry("fluorine").id, node("氢氟酸").id, SANYUAN, park("黄砂氟新材料循环经济产业园").id)
    assert project.total_investment == Decimal("52000")
    assert project.land_area == Decimal("85")  # the land the investor asked for
    assert (project.stage, project.sign_type, project.sign_date) == (Stage.SIGNED, SignType.CONTRACT, clock.today())
    assert project.investor_key == "福建永晶科技"  # so a later lead for the same investor finds this project
    assert f"招商线索 #{lead.id}" in project.notes and "6·18 展会上结识" in project.notes
    assert len(project.approvals) == len(services.APPROVAL_TYPES)  # a project like any other

    lead = db.session.get(Lead, lead.id)
    assert lead.project_id == project_id and lead.project is project
    assert lead.status is LeadStatus.SIGNED
    link = db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project_id,
                                                         ProjectEvent.field == "lead")).one()
    assert (link.label, link.new_value) == ("来源线索", f"#{lead.id} 福建永晶科技股份有限公司")
    converted = lead_audit(lead.id)[-1]
    assert (converted.action, converted.user_id) == ("converted", staff.id)
    assert converted.data["project_id"] == project_id
    assert (converted.data["old"], converted.data["new"]) == ("新线索", "已签约")
    assert lead_services.find_duplicates("福建永晶科技有限公司", None, user=staff)[1] == [project]


def test_conversion_total_is_the_estimate_unless_overridden(staff):
    lead = make_lead(staff, estimated_investment=Decimal("30000"))
    project = lead_services.convert_lead(lead, signing(total_investment=Decimal("45000.50")), version=lead.version, by=staff)
    db.session.commit()
    assert committed(Project, project.id).total_investment == Decimal("45000.50")

    no_estimate = make_lead(staff)
    errors = refused(lead_services.convert_lead, no_estimate, signing(), version=no_estimate.version, by=staff)
    assert errors["total_investment"] == "请填写总投资。"
    db.session.rollback()
    assert committed(Lead, no_estimate.id).status is LeadStatus.NEW and count(Project) == 1


def test_second_conversion_is_refused_and_makes_no_second_project(staff):
    lead = make_lead(staff, estimated_investment=Decimal("8000"))
    lead_services.convert_lead(lead, signing(), version=lead.version, by=staff)
    db.session.commit()
    audit_before = actions(lead.id)

    lead = committed(Lead, lead.id)
    errors = refused(lead_services.convert_lead, lead, signing(name="再转一次"), version=lead.version, by=staff)
    assert errors == {"": "该线索已经转为项目，不能重复转换。"}
    assert count(Project) == 1 and actions(lead.id) == audit_before


def test_abandoned_lead_cannot_convert(staff):
    lead = make_lead(staff, estimated_investment=Decimal("8000"))
    status(lead, LeadStatus.ABANDONED, staff, reason="投资方资金链断裂")
    audit_before = actions(lead.id)

    errors = refused(lead_services.convert_lead, lead, signing(), version=lead.version, by=staff)
    assert errors == {"": "已放弃的线索不能转为项目。"}
    assert count(Project) == 0 and actions(lead.id) == audit_before
    lead = committed(Lead, lead.id)
    assert lead.status is LeadStatus.ABANDONED and lead.project_id is None


def test_conversion_respects_county_scoping(staff):
    official = make_user(Role.COUNTY, county=SANYUAN)
    yongan = make_lead(staff, county_code=YONGAN, estimated_investment=Decimal("8000"))
    with pytest.raises(NotAllowed):
        lead_services.convert_lead(yongan, signing(), version=yongan.version, by=official)
    with pytest.raises(NotAllowed):
        lead_services.convert_lead(yongan, signing(), version=yongan.version, by=make_user(Role.LEADER))
    assert count(Project) == 0 and actions(yongan.id) == ["created"]

    own = make_lead(staff, county_code=SANYUAN, estimated_investment=Decimal("8000"))
    # The convert form offers a county; a county official's project stays in their own county.
    project = lead_services.convert_lead(own, signing(county_code=YONGAN), version=own.version, by=official)
    assert project.county_code == SANYUAN and own.project_id == project.id


# response clocks ---------------------------------------------------------------------------------------

def test_first_response_clock(staff, freeze):
    # A clock of N days runs through the N-th day after the day of logging (China days) and turns red at the
    # local midnight that ends it: logged 10:00 on 10 March, answered in time until 11 March 23:59.
    freeze(sanming(3, 10, 10))
    lead = make_lead(staff)
    freeze(sanming(3, 11, 23, 59))
    assert flags(lead, staff) == []
    freeze(sanming(3, 12))
    assert flags(lead, staff) == ["首次响应超时"]
    follow_up(lead, staff)
    assert flags(lead, staff) == []


def test_moving_to_assessment_answers_the_new_lead_clocks(staff, freeze):
    lead = make_lead(staff)
    freeze(lead.created_at + 2 * HOUR)
    status(lead, LeadStatus.ASSESSING, staff)
    freeze(lead.created_at + 5 * DAY)
    assert flags(lead, staff) == []
    freeze(lead.created_at + 30 * DAY)  # the 14-day follow-up clock runs only while 在谈
    assert flags(lead, staff) == []


def test_assessment_clock(staff, freeze):
    freeze(sanming(3, 10, 18))
    lead = make_lead(staff)
    follow_up(lead, staff)  # answered in time: only the 研判 deadline is left
    freeze(sanming(3, 13, 23, 59))
    assert flags(lead, staff) == []
    freeze(sanming(3, 14))
    assert flags(lead, staff) == ["研判超时"]
    status(lead, LeadStatus.ASSESSING, staff)
    assert flags(lead, staff) == []


def test_a_new_lead_neither_answered_nor_assessed_misses_both_deadlines(staff, freeze):
    lead = make_lead(staff)
    freeze(lead.created_at + 4 * DAY)
    assert flags(lead, staff) == ["首次响应超时", "研判超时"]


def negotiating(lead: Lead, by, freeze) -> dt.datetime:
    """Follow the lead up and move it to 在谈, all at one frozen moment; returns that moment."""
    moment = freeze(lead.created_at + dt.timedelta(minutes=5))
    follow_up(lead, by)
    status(lead, LeadStatus.ASSESSING, by)
    status(lead, LeadStatus.NEGOTIATING, by)
    return moment


def test_follow_up_interval_clock_while_negotiating(staff, freeze):
    lead = make_lead(staff)
    start = negotiating(lead, staff, freeze)
    freeze(start + 13 * DAY)
    assert flags(lead, staff) == []
    freeze(start + 15 * DAY)
    assert flags(lead, staff) == ["跟进间隔超时"]
    follow_up(lead, staff)
    assert flags(lead, staff) == []


def test_follow_up_interval_counts_from_the_latest_follow_up(staff, freeze):
    lead = make_lead(staff)
    start = negotiating(lead, staff, freeze)
    freeze(start + 10 * DAY)
    follow_up(lead, staff)
    freeze(start + 23 * DAY)  # 23 days in 在谈, but followed up 13 days ago
    assert flags(lead, staff) == []
    freeze(start + 25 * DAY)
    assert flags(lead, staff) == ["跟进间隔超时"]


def test_follow_up_interval_counts_from_the_move_to_negotiating(staff, freeze):
    lead = make_lead(staff)
    start = freeze(lead.created_at + dt.timedelta(minutes=5))
    follow_up(lead, staff)
    status(lead, LeadStatus.ASSESSING, staff)
    freeze(start + 20 * DAY)
    status(lead, LeadStatus.NEGOTIATING, staff)
    freeze(start + 21 * DAY)  # last follow-up 21 days ago, but in 在谈 for a day only
    assert flags(lead, staff) == []
    freeze(start + 36 * DAY)
    assert flags(lead, staff) == ["跟进间隔超时"]


def test_next_step_due_clock(staff, freeze):
    lead = make_lead(staff)
    start = freeze(lead.created_at + dt.timedelta(minutes=5))
    status(lead, LeadStatus.ASSESSING, staff)
    follow_up(lead, staff, next_due=clock.today() + 2 * DAY)
    assert [row[0].id for row in lead_queries.follow_ups_due(staff, clock.today())] == [lead.id]
    assert lead_queries.follow_ups_due(staff, clock.today(), within_days=1) == []
    freeze(start + 2 * DAY)
    assert flags(lead, staff) == []  # due today is not yet late
    freeze(start + 3 * DAY)
    assert flags(lead, staff) == ["下一步已到期"]
    follow_up(lead, staff, next_due=clock.today() + 7 * DAY)  # the latest follow-up's next step counts
    assert flags(lead, staff) == []


def test_closed_leads_run_no_clocks(staff, freeze):
    abandoned, signed = make_lead(staff), make_lead(staff, estimated_investment=Decimal("5000"))
    freeze(signed.created_at + dt.timedelta(minutes=5))
    for lead in (abandoned, signed):  # both were in 在谈 with a next step pending
        follow_up(lead, staff, next_due=clock.today() + DAY)
        status(lead, LeadStatus.ASSESSING, staff)
        status(lead, LeadStatus.NEGOTIATING, staff)
    status(abandoned, LeadStatus.ABANDONED, staff, reason="无意向")
    lead_services.convert_lead(signed, signing(), version=signed.version, by=staff)
    db.session.commit()
    freeze(signed.created_at + 60 * DAY)
    assert flags(abandoned, staff) == [] and flags(signed, staff) == []
    assert lead_queries.follow_ups_due(staff, clock.today()) == []


def test_configured_deadlines_move_the_clocks(staff, freeze):
    clocks = lead_queries.LeadClocks.from_config({"LEAD_FIRST_RESPONSE_DAYS": 2, "LEAD_ASSESS_DAYS": 5,
                                             "LEAD_FOLLOW_UP_DAYS": 20})
    assert clocks == lead_queries.LeadClocks(first_response=2, assess=5, follow_up=20)
    assert lead_queries.LeadClocks.from_config({}) == lead_queries.LeadClocks(1, 3, 14)
    freeze(sanming(3, 10, 9))
    fresh, quiet = make_lead(staff), make_lead(staff)
    start = negotiating(quiet, staff, freeze)
    freeze(sanming(3, 12, 23, 59))
    assert flags(fresh, staff, clocks) == []
    freeze(sanming(3, 13))
    assert flags(fresh, staff, clocks) == ["首次响应超时"]
    freeze(sanming(3, 15, 23, 59))
    assert flags(fresh, staff, clocks) == ["首次响应超时"]
    freeze(sanming(3, 16))
    assert flags(fresh, staff, clocks) == ["首次响应超时", "研判超时"]
    freeze(start + 19 * DAY)
    assert flags(quiet, staff, clocks) == []
    freeze(start + 21 * DAY)
    assert flags(quiet, staff, clocks) == ["跟进间隔超时"]


def test_overdue_leads_come_first_and_can_be_listed_alone(staff, freeze):
    freeze(sanming(3, 10, 9))
    older = make_lead(staff)
    freeze(sanming(3, 10, 9, 5))
    newer = make_lead(staff)
    freeze(sanming(3, 12, 9))
    follow_up(newer, staff)
    rows = lead_queries.leads_with_flags(staff, lead_queries.LeadClocks(), clock.today())
    assert [(lead.id, labels) for lead, labels in rows] == [(older.id, ["首次响应超时"]), (newer.id, [])]
    rows = lead_queries.leads_with_flags(staff, lead_queries.LeadClocks(), clock.today(), overdue_only=True)
    assert [lead.id for lead, _ in rows] == [older.id]


# duplicates ---------------------------------------------------------------------------------------------

def test_duplicates_match_on_the_normalised_name(staff):
    lead = make_lead(staff, investor_name="福建三农（集团）股份有限公司")
    for name in ("福建三农集团有限公司", "福建 三农", "福建三农(集团)有限责任公司", " 福建三农 "):
        assert lead_services.find_duplicates(name, None, user=staff) == ([lead], [], False), name
    for name in ("福建三农化工有限公司", "三农集团", "福建三化集团有限公司"):
        assert lead_services.find_duplicates(name, None, user=staff) == ([], [], False), name
    assert lead_services.find_duplicates("福建三农集团", None, user=staff, exclude_lead=lead) == ([], [], False)


def test_duplicates_match_on_the_credit_code_whatever_the_name(staff):
    code = credit_code("MA2Y00002")
    lead = make_lead(staff, investor_name="三明金氟化工有限公司", investor_credit_code=code)
    assert lead_services.find_duplicates("完全不同的名字有限公司", code, user=staff) == ([lead], [], False)
    assert lead_services.find_duplicates("完全不同的名字有限公司", code.lower(), user=staff) == ([lead], [], False)
    assert lead_services.find_duplicates("完全不同的名字有限公司", credit_code("MA2Y00003"), user=staff) == ([], [], False)


def test_duplicates_match_projects_too(staff):
    code = credit_code("MA2Y00004")
    by_name = make_project(staff, investor_name="福建三农集团有限公司")
    by_code = make_project(staff, investor_name="海斯福化工有限公司", investor_credit_code=code)
    assert lead_services.find_duplicates("福建三农（集团）股份有限公司", None, user=staff) == ([], [by_name], False)
    assert lead_services.find_duplicates("另一家公司", code, user=staff) == ([], [by_code], False)


def test_a_duplicate_is_saved_only_with_a_reason_which_is_kept(staff):
    first = make_lead(staff, investor_name="福建三农（集团）股份有限公司")
    project = make_project(staff, investor_name="福建三农集团有限公司")
    with pytest.raises(DuplicateInvestor) as info:
        lead_services.create_lead({"investor_name": "福建 三农", "source": LeadSource.EXPO}, by=staff)
    assert (info.value.leads, info.value.projects) == ([first], [project])
    with pytest.raises(DuplicateInvestor):
        lead_services.create_lead({"investor_name": "福建 三农", "source": LeadSource.EXPO}, by=staff,
                             duplicate_reason="   ")
    assert count(Lead) == 1 and lead_audit_count() == 1

    second = lead_services.create_lead({"investor_name": "福建 三农", "source": LeadSource.EXPO}, by=staff,
                                  duplicate_reason=" 集团第二个项目：含氟医药中间体 ")
    db.session.commit()
    second = committed(Lead, second.id)
    assert second.duplicate_note == "集团第二个项目：含氟医药中间体"
    assert second.investor_key == first.investor_key == "福建三农"
    entry = lead_audit(second.id)[0]
    assert (entry.action, entry.data["duplicate_note"]) == ("created", "集团第二个项目：含氟医药中间体")


def test_a_reason_is_not_kept_when_nothing_matched(staff):
    lead = lead_services.create_lead({"investor_name": "全新投资方有限公司", "source": LeadSource.FUND}, by=staff,
                                duplicate_reason="多余的理由")
    assert lead.duplicate_note == ""


# create and edit -----------------------------------------------------------------------------------------

def test_create_defaults_owner_to_the_logger_and_audits_the_fields(staff):
    lead = lead_services.create_lead({"investor_name": " 翔丰华新能源材料有限公司 ", "source": "expo",
                                 "county_code": YONGAN, "contact_person": "李总",
                                 "estimated_investment": Decimal("20000")}, by=staff)
    db.session.commit()
    lead = committed(Lead, lead.id)
    assert (lead.investor_name, lead.source, lead.status, lead.owner_id, lead.created_by_id) == (
        "翔丰华新能源材料有限公司", LeadSource.EXPO, LeadStatus.NEW, staff.id, staff.id)
    entry = lead_audit(lead.id)[0]
    assert (entry.action, entry.user_id) == ("created", staff.id)
    assert entry.data["fields"]["投资方"] == "翔丰华新能源材料有限公司"
    assert entry.data["fields"]["意向县区"] == "永安市" and entry.data["fields"]["线索来源"] == "展会"


@pytest.mark.parametrize("data, field", [
    ({"investor_name": "", "source": "visit"}, "investor_name"),
    ({"investor_name": "某公司", "source": ""}, "source"),
    ({"investor_name": "某公司", "source": "rumour"}, "source"),
    ({"investor_name": "某公司", "source": "visit", "investor_credit_code": "BAD"}, "investor_credit_code"),
    ({"investor_name": "某公司", "source": "visit", "county_code": "350403"}, "county_code"),
    ({"investor_name": "某公司", "source": "visit", "county_code": YONGAN, "park_name": "黄砂氟新材料循环经济产业园"}, "park_id"),
    ({"investor_name": "某公司", "source": "visit", "industry": "graphite", "node": "氢氟酸"}, "chain_node_id"),
    ({"investor_name": "某公司", "source": "visit", "estimated_investment": Decimal("-1")}, "estimated_investment"),
    ({"investor_name": "某公司", "source": "visit", "owner_role": Role.LEADER}, "owner_id"),
])
def test_bad_lead_input_is_refused_in_chinese(staff, data, field):
    data = dict(data)
    if data.get("investor_credit_code") == "BAD":  # well-formed but for its check character
        good = credit_code("MA2Y00005")
        data["investor_credit_code"] = good[:17] + ("1" if good[17] != "1" else "2")
    if "park_name" in data:
        data["park_id"] = park(data.pop("park_name")).id
    if "node" in data:
        data["industry_id"], data["chain_node_id"] = industry(data.pop("industry")).id, node(data.pop("node")).id
    if "owner_role" in data:
        data["owner_id"] = make_user(data.pop("owner_role")).id
    errors = refused(lead_services.create_lead, data, by=staff)
    assert field in errors and any("\u4e00" <= ch <= "\u9fff" for ch in errors[field])
    assert count(Lead) == 0 and lead_audit_count() == 0


def lead_form(lead: Lead, **changes) -> dict:
    return {**{field: getattr(lead, field) for field in lead_services.LEAD_FIELD_LABELS}, **changes}


def test_update_records_what_changed_and_an_unchanged_form_changes_nothing(staff):
    lead = make_lead(staff, contact_person="王经理")
    labels = lead_services.update_lead(lead, lead_form(lead, contact_person="李经理", estimated_investment=Decimal("9000")),
                                  version=lead.version, by=staff)
    db.session.commit()
    assert sorted(labels) == sorted(["联系人", "预计投资（万元）"])
    lead = committed(Lead, lead.id)
    assert (lead.contact_person, lead.estimated_investment, lead.version) == ("李经理", Decimal("9000"), 2)
    entry = lead_audit(lead.id)[-1]
    assert entry.action == "updated"
    assert entry.data["changes"] == {"联系人": ["王经理", "李经理"], "预计投资（万元）": [None, "9000.00"]}

    assert lead_services.update_lead(lead, lead_form(lead), version=lead.version, by=staff) == []
    db.session.commit()
    assert actions(lead.id) == ["created", "updated"] and committed(Lead, lead.id).version == 2


def test_renaming_the_investor_updates_the_matching_key(staff):
    lead = make_lead(staff, investor_name="旧名称有限公司")
    lead_services.update_lead(lead, lead_form(lead, investor_name="海西联合药业（集团）有限公司"), version=lead.version, by=staff)
    db.session.commit()
    assert lead_services.find_duplicates("海西联合药业", None, user=staff) == ([committed(Lead, lead.id)], [], False)


@pytest.mark.parametrize("seen", [None, 0, 2])
def test_lead_writes_check_the_version(staff, seen):
    lead = make_lead(staff, estimated_investment=Decimal("5000"))
    calls = [
        lambda: lead_services.update_lead(lead, lead_form(lead, contact_person="某人"), version=seen, by=staff),
        lambda: lead_services.change_lead_status(lead, LeadStatus.ASSESSING, version=seen, by=staff),
        lambda: lead_services.convert_lead(lead, signing(), version=seen, by=staff),
    ]
    for call in calls:
        with pytest.raises(LeadConflict) as info:
            call()
        assert info.value.lead is lead and info.value.seen_version == (seen or 0)
    assert count(Project) == 0 and actions(lead.id) == ["created"]
    lead = committed(Lead, lead.id)
    assert (lead.status, lead.contact_person, lead.version) == (LeadStatus.NEW, "", 1)


def test_the_version_column_stops_a_second_writer(staff):
    """Two writers load version 1; the first saves; the second's UPDATE ... AND version = 1 must fail."""
    lead = make_lead(staff)
    session = db.session()
    assert lead.version == 1  # loaded into our session
    session.expire_on_commit = False
    try:
        db.session.commit()  # end our read (SQLite would hold the write lock) and keep version 1 in memory
    finally:
        session.expire_on_commit = True
    with Session(db.engine) as other:
        other.get(Lead, lead.id).contact_person = "另一人先保存"
        other.commit()
    with pytest.raises(StaleDataError):
        lead_services.change_lead_status(lead, LeadStatus.ASSESSING, version=1, by=staff)
    db.session.rollback()
    lead = committed(Lead, lead.id)
    assert (lead.status, lead.contact_person, lead.version) == (LeadStatus.NEW, "另一人先保存", 2)
    assert actions(lead.id) == ["created"]


# status --------------------------------------------------------------------------------------------------

def test_status_moves_one_step_at_a_time(staff):
    lead = make_lead(staff)
    errors = refused(lead_services.change_lead_status, lead, LeadStatus.NEGOTIATING, version=lead.version, by=staff)
    assert errors == {"status": "线索不能从“新线索”变为“在谈”。"}
    assert actions(lead.id) == ["created"]
    db.session.rollback()

    status(lead, LeadStatus.ASSESSING, staff)
    status(lead, LeadStatus.NEGOTIATING, staff)
    lead = committed(Lead, lead.id)
    assert lead.status is LeadStatus.NEGOTIATING and lead.version == 3
    moves = [(e.data["old"], e.data["new"]) for e in lead_audit(lead.id) if e.action == "status"]
    assert moves == [("新线索", "研判"), ("研判", "在谈")]
    errors = refused(lead_services.change_lead_status, lead, LeadStatus.ASSESSING, version=lead.version, by=staff)
    assert errors == {"status": "线索不能从“在谈”变为“研判”。"}


def test_signing_goes_through_conversion_only(staff):
    lead = make_lead(staff)
    errors = refused(lead_services.change_lead_status, lead, LeadStatus.SIGNED, version=lead.version, by=staff)
    assert "转为项目" in errors["status"]
    errors = refused(lead_services.change_lead_status, lead, "married", version=lead.version, by=staff)
    assert errors == {"status": "未知的线索状态。"}
    assert committed(Lead, lead.id).status is LeadStatus.NEW and actions(lead.id) == ["created"]


def test_abandoning_needs_a_reason(staff):
    lead = make_lead(staff)
    for reason in ("", "  "):
        errors = refused(lead_services.change_lead_status, lead, LeadStatus.ABANDONED, reason=reason,
                         version=lead.version, by=staff)
        assert errors == {"reason": "放弃线索必须填写原因。"}
    assert actions(lead.id) == ["created"]
    status(lead, LeadStatus.ABANDONED, staff, reason=" 企业转投江西 ")
    lead = committed(Lead, lead.id)
    assert (lead.status, lead.abandon_reason) == (LeadStatus.ABANDONED, "企业转投江西")
    entry = lead_audit(lead.id)[-1]
    assert (entry.action, entry.data["new"], entry.data["reason"]) == ("status", "放弃", "企业转投江西")


@pytest.mark.parametrize("final", [LeadStatus.SIGNED, LeadStatus.ABANDONED])
def test_signed_and_abandoned_are_final(staff, final):
    lead = make_lead(staff, estimated_investment=Decimal("5000"))
    if final is LeadStatus.SIGNED:
        lead_services.convert_lead(lead, signing(), version=lead.version, by=staff)
        db.session.commit()
    else:
        status(lead, LeadStatus.ABANDONED, staff, reason="无意向")
    lead = committed(Lead, lead.id)
    history = actions(lead.id)
    for target in (LeadStatus.NEW, LeadStatus.ASSESSING, LeadStatus.NEGOTIATING, LeadStatus.ABANDONED):
        errors = refused(lead_services.change_lead_status, lead, target, reason="再试", version=lead.version, by=staff)
        assert errors == {"status": f"线索不能从“{final.label}”变为“{target.label}”。"}
    assert refused(lead_services.update_lead, lead, lead_form(lead, contact_person="某人"), version=lead.version,
                   by=staff) == {"": f"“{final.label}”的线索不能再修改。"}
    assert refused(lead_services.add_follow_up, lead, date=clock.today(), kind="phone", summary="还想再谈", next_step="",
                   next_due=None, by=staff) == {"": f"“{final.label}”的线索不再跟进。"}
    assert actions(lead.id) == history and count(FollowUp) == 0
    assert committed(Lead, lead.id).status is final


# follow-ups ----------------------------------------------------------------------------------------------

def test_a_follow_up_is_logged_and_audited(staff):
    lead = make_lead(staff)
    row = follow_up(lead, staff, next_due=clock.today() + 3 * DAY)
    row = committed(FollowUp, row.id)
    assert (row.lead_id, row.date, row.kind, row.summary, row.next_step, row.next_due, row.created_by_id) == (
        lead.id, clock.today(), FollowUpKind.PHONE, "电话沟通投资意向", "安排实地考察", clock.today() + 3 * DAY, staff.id)
    entry = lead_audit(lead.id)[-1]
    assert (entry.action, entry.data["kind"], entry.data["summary"]) == ("follow_up", "电话", "电话沟通投资意向")


@pytest.mark.parametrize("when, next_due, field, message", [
    (1, None, "date", "跟进日期不能晚于今天。"),
    (-1, None, "date", "跟进日期不能早于线索登记日期。"),
    (0, -1, "next_due", "下一步的期限不能早于本次跟进日期。"),
])
def test_bad_follow_up_dates_are_refused(staff, when, next_due, field, message):
    lead = make_lead(staff)
    logged = lead.created_at.astimezone(clock.LOCAL_TZ).date()
    day = (clock.today() if when >= 0 else logged) + when * DAY
    due = None if next_due is None else day + next_due * DAY
    errors = refused(lead_services.add_follow_up, lead, date=day, kind=FollowUpKind.VISIT, summary="走访企业",
                     next_step="", next_due=due, by=staff)
    assert errors == {field: message}
    assert count(FollowUp) == 0 and actions(lead.id) == ["created"]


def test_a_follow_up_needs_a_summary(staff):
    lead = make_lead(staff)
    errors = refused(lead_services.add_follow_up, lead, date=clock.today(), kind="phone", summary="  ", next_step="",
                     next_due=None, by=staff)
    assert errors == {"summary": "请填写跟进情况。"}
    assert count(FollowUp) == 0


def test_a_follow_up_may_be_dated_the_day_the_lead_was_logged(staff, freeze):
    lead = make_lead(staff)
    logged = lead.created_at.astimezone(clock.LOCAL_TZ).date()
    freeze(lead.created_at + 3 * DAY)
    follow_up(lead, staff, date=logged)
    assert committed(Lead, lead.id).follow_ups[0].date == logged


# county scoping ------------------------------------------------------------------------------------------

def test_county_official_logs_and_sees_only_their_own_countys_leads(staff):
    official = make_user(Role.COUNTY, county=SANYUAN)
    other = make_lead(staff, county_code=YONGAN)
    unassigned = make_lead(staff, county_code=None)
    own = lead_services.create_lead({"investor_name": "某县区线索有限公司", "source": "visit", "county_code": YONGAN},
                               by=official)
    db.session.commit()
    assert own.county_code == SANYUAN
    assert db.session.scalars(lead_queries.visible_leads(official)).all() == [own]
    assert {lead.id for lead in db.session.scalars(lead_queries.visible_leads(staff))} == {other.id, unassigned.id, own.id}
    leader = make_user(Role.LEADER)
    assert len(db.session.scalars(lead_queries.visible_leads(leader)).all()) == 3
    rows = lead_queries.leads_with_flags(official, lead_queries.LeadClocks(), clock.today())
    assert [lead.id for lead, _ in rows] == [own.id]


def test_county_official_cannot_write_another_countys_lead_and_leaders_write_none(staff):
    official = make_user(Role.COUNTY, county=SANYUAN)
    leader = make_user(Role.LEADER)
    lead = make_lead(staff, county_code=YONGAN, estimated_investment=Decimal("5000"))
    own = make_lead(staff, county_code=SANYUAN)
    for by, target in ((official, lead), (leader, lead), (leader, own)):
        for call in (
            lambda: lead_services.update_lead(target, lead_form(target, contact_person="某人"), version=target.version, by=by),
            lambda: lead_services.change_lead_status(target, LeadStatus.ASSESSING, version=target.version, by=by),
            lambda: lead_services.add_follow_up(target, date=clock.today(), kind="phone", summary="越权", next_step="",
                                           next_due=None, by=by),
            lambda: lead_services.convert_lead(target, signing(), version=target.version, by=by),
        ):
            with pytest.raises(NotAllowed):
                call()
    with pytest.raises(NotAllowed):
        lead_services.create_lead({"investor_name": "领导登记", "source": "visit"}, by=leader)
    assert count(Lead) == 2 and count(FollowUp) == 0 and count(Project) == 0
    assert actions(lead.id) == ["created"] and actions(own.id) == ["created"]


def test_get_lead_or_404_hides_other_counties_and_refuses_writes_to_readers(staff, app):
    official, leader = make_user(Role.COUNTY, county=SANYUAN), make_user(Role.LEADER)
    own, other = make_lead(staff, county_code=SANYUAN), make_lead(staff, county_code=YONGAN)
    assert lead_queries.get_lead_or_404(own.id, official, for_edit=True) is own
    assert lead_queries.get_lead_or_404(other.id, staff, for_edit=True) is other
    assert lead_queries.get_lead_or_404(other.id, leader) is other
    with pytest.raises(NotFound):
        lead_queries.get_lead_or_404(other.id, official)
    with pytest.raises(NotAllowed):
        lead_queries.get_lead_or_404(own.id, leader, for_edit=True)


def test_county_official_cannot_move_a_lead_to_another_county(staff):
    official = make_user(Role.COUNTY, county=SANYUAN)
    lead = make_lead(staff, county_code=SANYUAN)
    lead_services.update_lead(lead, lead_form(lead, county_code=YONGAN, contact_person="某人"), version=lead.version,
                         by=official)
    db.session.commit()
    assert committed(Lead, lead.id).county_code == SANYUAN
