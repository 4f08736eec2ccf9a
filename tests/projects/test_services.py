"""Project services and queries on a real database: audit rows, versions, gates, rules, scoping, lights, lists."""
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
from core.errors import NotAllowed
from parks.models import Chain, ChainNode, Industry, Park
from projects import queries, rules, services
from projects.events import services as event_services
from projects.ledgers.bulk import BulkCreator
from projects.models import (
    ApprovalItem,
    ApprovalItemType,
    ApprovalStatus,
    EventKind,
    InvestorOrigin,
    InvestorType,
    Project,
    ProjectEvent,
)
from projects.rules import Conflict, ProjectInvalid
from projects.stages import Light, SignType, Stage
from tests.factories import make_project, make_user

pytestmark = pytest.mark.usefixtures("project_ref")

STANDARD_APPROVALS = ["立项备案/核准", "用地预审与选址", "土地出让", "规划许可", "环评", "节能审查", "安评", "施工许可"]
CODE = "2025-350404-26-03-00012A"
TODAY = clock.today()


@pytest.fixture
def staff():
    return make_user(Role.COMMERCE)


def form_of(project: Project, **changes) -> dict:
    """What the edit form would post back unchanged, with ``changes`` applied."""
    return {**{field: getattr(project, field) for field in rules.EDITABLE_FIELDS}, **changes}


def update(project: Project, by, commit: bool = True, **changes) -> list[str]:
    """Save the edit form as a request would: one service call, then commit (unless told not to)."""
    labels = services.update_project(project, form_of(project, **changes), version=project.version, by=by)
    if commit:
        db.session.commit()
    return labels


def stage(project: Project, target: Stage, by, commit: bool = True, **kwargs) -> None:
    services.change_stage(project, target, version=project.version, by=by, **kwargs)
    if commit:
        db.session.commit()


def approval(project: Project, name: str) -> ApprovalItem:
    return next(item for item in project.approvals if item.type.name == name)


def events(project_id: int, **filters) -> list[ProjectEvent]:
    return list(db.session.scalars(select(ProjectEvent).filter_by(project_id=project_id, **filters)
                                   .order_by(ProjectEvent.id)))


def committed(project_id: int) -> Project:
    """The project as the database holds it now, nothing cached."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Project, project_id)


def park_in(county: str, other: bool = False) -> Park:
    where = Park.county_code != county if other else Park.county_code == county
    return db.session.scalars(select(Park).where(where).order_by(Park.id)).first()


def invalid(call, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(ProjectInvalid) as info:
        call(*args, **kwargs)
    db.session.rollback()
    return info.value.errors


# create ---------------------------------------------------------------------------------------------

def test_create_writes_one_created_event_per_set_field_and_the_standard_approvals(staff):
    park = park_in("350404")
    project = make_project(by=staff, name="氟化工新材料项目", investor_name="福建某某化工有限公司",
                           investor_credit_code="91350100m000100y43", park_id=park.id, is_major=True,
                           land_area=Decimal("120.5"), notes="  重点跟踪  ", liaison="",
                           investor_origin=InvestorOrigin.MINGSHANG, investor_type="private")
    project = committed(project.id)
    assert project.version == 1 and project.stage is Stage.SIGNED
    assert project.investor_credit_code == "91350100M000100Y43" and project.notes == "重点跟踪"
    assert project.investor_type is InvestorType.PRIVATE
    assert project.signed_as is SignType.CONTRACT and project.contract_date == dt.date(2025, 3, 1)
    rows = events(project.id)
    assert {r.kind for r in rows} == {EventKind.CREATED}
    assert all(r.old_value is None and r.version == 1 and r.user_id == staff.id for r in rows)
    assert [(r.field, r.new_value) for r in rows] == [
        ("stage", "签约"),
        ("name", "氟化工新材料项目"),
        ("investor_name", "福建某某化工有限公司"),
        ("investor_credit_code", "91350100M000100Y43"),
        ("investor_origin", "明商回归"),
        ("investor_type", "民企"),
        ("county_code", "三元区"),
        ("park_id", park.name),
        ("total_investment", "10000.00"),
        ("land_area", "120.50"),
        ("sign_type", "合同"),
        ("sign_date", "2025-03-01"),
        ("is_major", "是"),
        ("notes", "重点跟踪"),
    ]
    assert rows[1].label == "项目名称" and rows[0].label == "阶段"
    assert [item.type.name for item in project.approvals] == STANDARD_APPROVALS
    assert {item.status for item in project.approvals} == {ApprovalStatus.TODO}


def test_create_negotiating_project_without_signing_details(staff):
    project = services.create_project({"name": "在谈项目", "investor_name": "某集团", "county_code": "350405",
                                       "total_investment": Decimal("5000")}, by=staff, stage=Stage.NEGOTIATING)
    db.session.commit()
    project = committed(project.id)
    assert project.stage is Stage.NEGOTIATING and project.sign_type is None and project.signed_as is None
    # Signing needs the sign type and date, then records how it was first signed.
    assert invalid(stage, project, Stage.SIGNED, staff) == {
        "to_stage": "进入“签约”阶段还缺少：签约类型（协议或合同）、签约日期。"}
    # Paused while still negotiating, it is still edited without signing details.
    project = committed(project.id)
    stage(project, Stage.PAUSED, staff, reason="等待企业决策", resume_date=TODAY + dt.timedelta(days=30))
    assert update(project, staff, notes="企业董事会下月表决") == ["备注"]
    stage(project, Stage.NEGOTIATING, staff)
    update(project, staff, sign_type=SignType.AGREEMENT, sign_date=dt.date(2025, 4, 2))
    stage(project, Stage.SIGNED, staff)
    db.session.commit()
    project = committed(project.id)
    assert project.stage is Stage.SIGNED and project.signed_as is SignType.AGREEMENT
    assert project.contract_date is None


def test_create_refuses_later_stages_and_signed_without_details(staff):
    base = {"name": "x", "investor_name": "y", "county_code": "350404", "total_investment": Decimal("1")}
    assert invalid(services.create_project, base, by=staff, stage=Stage.STARTED) == {
        "": "新项目只能从“在谈”或“签约”阶段开始。"}
    assert invalid(services.create_project, base, by=staff)["sign_date"] == "已签约的项目必须填写签约类型和签约日期。"
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def _bulk_twin_data(staff) -> dict:
    leader = make_user(Role.LEADER)
    event = event_services.save_signing_event(None, name="批量对照签约会", date=dt.date(2025, 2, 1), place="", organiser="",
                                        county_code=None, notes="", by=staff)
    industry = db.session.scalars(select(Industry).order_by(Industry.id)).first()
    return {"name": " 批量对照项目 ", "investor_name": "福建某某新材料有限公司", "investor_credit_code": "91350100m000100y43",
            "investor_origin": "mingshang", "investor_type": InvestorType.PRIVATE, "county_code": "350404",
            "park_id": park_in("350404").id, "industry_id": industry.id, "total_investment": Decimal("8000"),
            "fixed_asset_investment": Decimal("6000"), "land_area": Decimal("80.5"), "sign_type": SignType.CONTRACT,
            "sign_date": dt.date(2025, 3, 1), "project_code": CODE.lower(), "is_major": True,
            "hooked_leader_id": leader.id, "responsible_unit": "县工信局", "liaison": "",
            "planned_start": dt.date(2025, 9, 1),
            "investment_baseline": Decimal("120"), "signing_event_id": event.id, "notes": "  批量  "}


@pytest.mark.parametrize("start", [Stage.SIGNED, Stage.NEGOTIATING])
def test_bulk_creation_writes_the_same_rows_as_create_project(staff, start):
    data = _bulk_twin_data(staff)
    if start is Stage.NEGOTIATING:
        data.update(signing_event_id=None, sign_type=SignType.AGREEMENT)
    one = services.create_project(dict(data), by=staff, stage=start).id
    creator = BulkCreator(by=staff)
    creator.add(dict(data), stage=start)
    assert db.session.scalar(select(func.count()).select_from(Project)) == 1, "add() writes nothing"
    [bulk] = creator.insert()
    db.session.commit()

    def event_rows(pid):
        return [(e.kind, e.field, e.label, e.old_value, e.new_value, e.version, e.user_id, e.note) for e in events(pid)]

    def approval_rows(pid):
        return [(a.type_id, a.position, a.status, a.planned_date, a.done_date, a.document_no)
                for a in committed(pid).approvals]

    def columns(pid):
        project = committed(pid)
        return {c.key: getattr(project, c.key) for c in Project.__table__.columns
                if c.key not in ("id", "created_at", "updated_at")}

    assert len(event_rows(one)) > 15 and event_rows(bulk) == event_rows(one)
    assert len(approval_rows(one)) == len(STANDARD_APPROVALS) and approval_rows(bulk) == approval_rows(one)
    assert columns(bulk) == columns(one)
    assert committed(bulk).version == 1 and committed(bulk).investment_completed == Decimal("120")


def test_bulk_creation_refuses_each_row_as_create_project_does(staff):
    creator = BulkCreator(by=staff)
    bad = {"name": "坏项目", "investor_name": "某公司", "county_code": "350404", "total_investment": Decimal("-1"),
           "project_code": "2025-999999-26-03-00012A"}
    assert invalid(creator.add, dict(bad), stage=Stage.SIGNED) == invalid(services.create_project, dict(bad), by=staff)
    assert invalid(creator.add, dict(bad), stage=Stage.STARTED) == {"": "新项目只能从“在谈”或“签约”阶段开始。"}
    with pytest.raises(NotAllowed):
        BulkCreator(by=make_user(Role.LEADER)).add({**bad, "total_investment": Decimal("1")})
    assert creator.insert() == [] and db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_enum_fields_are_stored_and_displayed_as_enums_whatever_the_input(staff):
    project = make_project(by=staff, sign_type="agreement", investor_origin="in_province")
    assert project.sign_type is SignType.AGREEMENT and project.signed_as is SignType.AGREEMENT
    update(project, staff, investor_origin="overseas", investor_type=InvestorType.FOREIGN)
    rows = events(project.id, kind=EventKind.UPDATED)
    assert [(r.field, r.old_value, r.new_value) for r in rows] == [
        ("investor_origin", "省内", "境外"), ("investor_type", None, "外企")]
    project = committed(project.id)
    assert invalid(update, project, staff, investor_type="martian") == {"investor_type": "“投资方类型”的取值无效。"}


# update and audit -----------------------------------------------------------------------------------

def test_update_writes_one_event_per_changed_field_and_bumps_the_version(staff):
    project = make_project(by=staff, name="旧名称")
    park = park_in("350404")
    before = len(events(project.id))
    labels = update(project, staff, name="新名称", total_investment=Decimal("12000.5"), park_id=park.id,
                    is_major=True, investment_completed=Decimal("0"), notes="")
    db.session.commit()
    assert labels == ["项目名称", "所属园区", "总投资（万元）", "重大项目"]
    project = committed(project.id)
    assert project.version == 2 and project.name == "新名称" and project.updated_by_id == staff.id
    rows = events(project.id, kind=EventKind.UPDATED)
    assert len(events(project.id)) == before + 4
    assert [(r.field, r.label, r.old_value, r.new_value, r.version, r.user_id) for r in rows] == [
        ("name", "项目名称", "旧名称", "新名称", 2, staff.id),
        ("park_id", "所属园区", None, park.name, 2, staff.id),
        ("total_investment", "总投资（万元）", "10000.00", "12000.50", 2, staff.id),
        ("is_major", "重大项目", "否", "是", 2, staff.id),
    ]
    assert all(r.at.tzinfo is not None for r in rows)


def test_saving_an_unchanged_form_changes_nothing(staff):
    project = make_project(by=staff)
    assert update(project, staff, total_investment=Decimal("10000.00"), name=f"  {project.name} ") == []
    db.session.commit()
    assert committed(project.id).version == 1
    assert events(project.id, kind=EventKind.UPDATED) == []


def test_stale_version_raises_conflict_with_the_events_since(staff):
    project = make_project(by=staff, name="原名")
    other = make_user(Role.COMMERCE)
    update(project, other, name="他人改名", land_area=Decimal("30"))
    db.session.commit()
    project = committed(project.id)
    with pytest.raises(Conflict) as info:
        services.update_project(project, form_of(project, name="我的改名"), version=1, by=staff)
    conflict = info.value
    assert conflict.seen_version == 1 and conflict.project.version == 2
    assert [(e.field, e.old_value, e.new_value, e.user_id) for e in conflict.events] == [
        ("name", "原名", "他人改名", other.id), ("land_area", None, "30.00", other.id)]
    db.session.rollback()
    assert committed(project.id).name == "他人改名"
    with pytest.raises(Conflict):
        services.update_project(project, form_of(project), version=None, by=staff)


@pytest.mark.parametrize("verb", ["stage", "convert", "approval", "milestone"])
def test_every_write_checks_the_version(staff, verb):
    project = make_project(by=staff, sign_type=SignType.AGREEMENT)
    update(project, staff, name="改过一次")
    db.session.commit()
    project = committed(project.id)
    calls = {
        "stage": lambda: services.change_stage(project, Stage.DROPPED, reason="撤资", version=1, by=staff),
        "convert": lambda: services.convert_to_contract(project, dt.date(2025, 5, 1), version=1, by=staff),
        "approval": lambda: services.update_approval(
            project, project.approvals[0], status="in_progress", planned_date=None, done_date=None,
            document_no="", version=1, by=staff),
        "milestone": lambda: services.add_milestone(project, name="供地", planned_date=TODAY, version=1, by=staff),
    }
    with pytest.raises(Conflict):
        calls[verb]()
    db.session.rollback()
    assert committed(project.id).version == 2
    assert {e.version for e in events(project.id)} == {1, 2}


def test_rolled_back_change_leaves_no_events_and_no_changes(staff):
    project = make_project(by=staff, name="原名")
    count = len(events(project.id))
    update(project, staff, commit=False, name="未提交的名称")
    stage(project, Stage.DROPPED, staff, commit=False, reason="撤资")
    assert len(events(project.id)) == count + 3  # flushed in this transaction...
    db.session.rollback()
    project = committed(project.id)
    assert (project.name, project.stage, project.version) == ("原名", Stage.SIGNED, 1)
    assert len(events(project.id)) == count  # ...and gone with it


def test_refused_change_writes_nothing(staff):
    project = make_project(by=staff)
    count = len(events(project.id))
    invalid(stage, project, Stage.STARTED, staff)
    invalid(update, project, staff, fixed_asset_investment=Decimal("99999"))
    project = committed(project.id)
    assert project.version == 1 and project.fixed_asset_investment is None
    assert len(events(project.id)) == count


def test_version_column_stops_a_second_writer_that_passed_the_form_check(staff):
    """Two writers load version 1; the first saves; the second's UPDATE ... AND version = 1 must fail."""
    project = make_project(by=staff, name="原名")
    session = db.session()
    assert project.version == 1  # loaded into our session
    session.expire_on_commit = False
    try:
        db.session.commit()  # end our read (SQLite would hold the write lock) and keep version 1 in memory
    finally:
        session.expire_on_commit = True
    with Session(db.engine) as other:
        twin = other.get(Project, project.id)
        twin.name = "另一人先保存"
        other.commit()
    assert project.version == 1  # our copy is stale but does not know it
    with pytest.raises(StaleDataError):
        services.update_project(project, form_of(project, name="我的修改"), version=1, by=staff)
    db.session.rollback()
    project = committed(project.id)
    assert (project.name, project.version) == ("另一人先保存", 2)
    assert events(project.id, kind=EventKind.UPDATED) == []


# stages through the services --------------------------------------------------------------------------

def test_stage_path_through_the_gates(staff):
    project = make_project(by=staff)
    assert invalid(stage, project, Stage.STARTED, staff) == {"to_stage": "不能跳过阶段：下一阶段是“前期”。"}
    assert invalid(stage, project, Stage.APPROVAL, staff) == {"to_stage": "进入“前期”阶段还缺少：项目代码。"}
    update(project, staff, project_code=CODE.lower())
    stage(project, Stage.APPROVAL, staff)
    assert project.project_code == CODE
    assert invalid(stage, project, Stage.STARTED, staff) == {
        "to_stage": "进入“开工”阶段还缺少：实际开工日期、前期手续“施工许可”已办结。"}
    update(project, staff, actual_start=dt.date(2025, 5, 1))
    assert invalid(stage, project, Stage.STARTED, staff) == {
        "to_stage": "进入“开工”阶段还缺少：前期手续“施工许可”已办结。"}
    services.update_approval(project, approval(project, "环评"), status=ApprovalStatus.DONE,
                             planned_date=None, done_date=dt.date(2025, 4, 1), document_no="明环审〔2025〕3号",
                             version=project.version, by=staff)
    db.session.commit()
    assert "施工许可" in invalid(stage, project, Stage.STARTED, staff)["to_stage"]
    services.update_approval(project, approval(project, "施工许可"), status="done", planned_date=None,
                             done_date=dt.date(2025, 4, 20), document_no=" 350404202504200101 ",
                             version=project.version, by=staff)
    db.session.commit()
    stage(project, Stage.STARTED, staff)
    assert invalid(stage, project, Stage.COMPLETED, staff) == {"to_stage": "进入“竣工”阶段还缺少：实际竣工日期。"}
    update(project, staff, actual_completion=dt.date(2026, 1, 10))
    stage(project, Stage.COMPLETED, staff)
    assert invalid(stage, project, Stage.PRODUCING, staff) == {"to_stage": "进入“投产”阶段还缺少：实际投产日期。"}
    update(project, staff, actual_production=dt.date(2026, 3, 1))
    stage(project, Stage.PRODUCING, staff)
    db.session.commit()
    project = committed(project.id)
    assert project.stage is Stage.PRODUCING
    moves = [(e.old_value, e.new_value) for e in events(project.id, kind=EventKind.STAGE)]
    assert moves == [("签约", "前期"), ("前期", "开工"), ("开工", "竣工"), ("竣工", "投产")]
    permit = [(e.label, e.old_value, e.new_value) for e in events(project.id, kind=EventKind.APPROVAL)
              if e.label.startswith("施工许可")]
    assert permit == [("施工许可·状态", "未办", "已办结"), ("施工许可·办结日期", None, "2025-04-20"),
                      ("施工许可·文号", None, "350404202504200101")]
    # Eleven writes, each its own version with its own events.
    assert project.version == 11 and {e.version for e in events(project.id)} == set(range(1, 12))


def test_going_back_needs_a_reason_and_is_recorded(staff):
    project = make_project(by=staff, project_code=CODE)
    stage(project, Stage.APPROVAL, staff)
    assert invalid(stage, project, Stage.SIGNED, staff) == {"to_stage": "退回到“签约”阶段必须填写原因。"}
    stage(project, Stage.SIGNED, staff, reason=" 用地调整 ")
    db.session.commit()
    last = events(project.id, kind=EventKind.STAGE)[-1]
    assert (last.old_value, last.new_value, last.note) == ("前期", "签约", "用地调整")


def test_pause_resume_and_drop(staff):
    project = make_project(by=staff, project_code=CODE)
    stage(project, Stage.APPROVAL, staff)
    resume = TODAY + dt.timedelta(days=60)
    assert invalid(stage, project, Stage.PAUSED, staff, resume_date=resume) == {"to_stage": "暂缓项目必须填写原因。"}
    assert invalid(stage, project, Stage.PAUSED, staff, reason="资金", resume_date=TODAY) == {
        "to_stage": "预计恢复日期必须晚于今天。"}
    stage(project, Stage.PAUSED, staff, reason="企业资金安排调整", resume_date=resume)
    db.session.commit()
    project = committed(project.id)
    assert (project.stage, project.paused_from, project.pause_reason, project.resume_expected) == (
        Stage.PAUSED, Stage.APPROVAL, "企业资金安排调整", resume)
    rows = events(project.id, kind=EventKind.STAGE)[-3:]
    assert [(r.field, r.new_value) for r in rows] == [
        ("stage", "暂缓"), ("pause_reason", "企业资金安排调整"), ("resume_expected", resume.isoformat())]
    assert len({r.version for r in rows}) == 1
    # Paused from 前期: the project code stays required.
    assert invalid(update, project, staff, project_code=None) == {
        "project_code": "项目进入“前期”阶段后必须填写项目代码。"}
    project = committed(project.id)
    assert invalid(stage, project, Stage.SIGNED, staff, reason="x") == {
        "to_stage": "暂缓的项目只能恢复到暂缓前的“前期”阶段，或终止。"}
    stage(project, Stage.APPROVAL, staff)
    assert project.stage is Stage.APPROVAL and project.paused_from is None
    assert invalid(stage, project, Stage.DROPPED, staff) == {"to_stage": "终止项目必须填写原因。"}
    stage(project, Stage.DROPPED, staff, reason="企业撤资")
    db.session.commit()
    project = committed(project.id)
    assert (project.stage, project.drop_reason) == (Stage.DROPPED, "企业撤资")
    for target in (Stage.APPROVAL, Stage.SIGNED, Stage.PAUSED):
        assert invalid(stage, project, target, staff, reason="重新启动", resume_date=resume) == {
            "to_stage": "项目已终止，不能再变更阶段。"}
    assert invalid(services.convert_to_contract, project, TODAY, version=project.version, by=staff)


def test_convert_agreement_to_contract(staff):
    project = make_project(by=staff, sign_type=SignType.AGREEMENT, sign_date=dt.date(2025, 3, 1))
    assert project.contract_date is None and project.signed_as is SignType.AGREEMENT
    # Changing the sign type through the edit form is refused: conversion is its own recorded act.
    assert "sign_type" in invalid(update, project, staff, sign_type=SignType.CONTRACT)
    project = committed(project.id)
    assert invalid(services.convert_to_contract, project, dt.date(2025, 2, 28), version=1, by=staff) == {
        "contract_date": "合同签订日期不能早于协议签约日期。"}
    assert invalid(services.convert_to_contract, project, None, version=1, by=staff) == {
        "contract_date": "请填写合同签订日期。"}
    services.convert_to_contract(project, dt.date(2025, 9, 8), version=1, by=staff)
    db.session.commit()
    project = committed(project.id)
    assert (project.sign_type, project.signed_as, project.contract_date, project.version) == (
        SignType.CONTRACT, SignType.AGREEMENT, dt.date(2025, 9, 8), 2)
    assert [(e.field, e.old_value, e.new_value) for e in events(project.id, kind=EventKind.CONVERTED)] == [
        ("sign_type", "协议", "合同"), ("contract_date", None, "2025-09-08")]
    assert invalid(services.convert_to_contract, project, TODAY, version=2, by=staff) == {
        "contract_date": "只有协议项目才能转为合同项目。"}


# field rules ---------------------------------------------------------------------------------------

def test_park_must_be_in_the_projects_county(staff):
    elsewhere = park_in("350404", other=True)
    errors = invalid(make_project, by=staff, park_id=elsewhere.id)
    assert errors["park_id"].startswith(f"园区“{elsewhere.name}”不在三元区")
    project = make_project(by=staff)
    assert "park_id" in invalid(update, project, staff, park_id=elsewhere.id)
    # Moving the project to the park's county makes the same park valid.
    project = committed(project.id)
    update(project, staff, park_id=elsewhere.id, county_code=elsewhere.county_code)
    assert project.park_id == elsewhere.id


def test_chain_node_must_belong_to_the_chosen_industry(staff):
    fluorine = db.session.scalar(select(Industry).filter_by(code="fluorine"))
    graphite = db.session.scalar(select(Industry).filter_by(code="graphite"))
    graphite_node = db.session.scalars(select(ChainNode).join(Chain).where(Chain.industry_id == graphite.id)).first()
    assert invalid(make_project, by=staff, industry_id=fluorine.id, chain_node_id=graphite_node.id) == {
        "chain_node_id": "产业链环节不属于所选产业。"}
    assert invalid(make_project, by=staff, chain_node_id=graphite_node.id) == {
        "chain_node_id": "选择产业链环节前请先选择产业。"}
    project = make_project(by=staff, industry_id=graphite.id, chain_node_id=graphite_node.id)
    assert invalid(update, project, staff, industry_id=fluorine.id) == {"chain_node_id": "产业链环节不属于所选产业。"}


def test_fixed_asset_investment_not_above_total(staff):
    assert invalid(make_project, by=staff, fixed_asset_investment=Decimal("10000.01")) == {
        "fixed_asset_investment": "固定资产投资不能大于总投资。"}
    project = make_project(by=staff, fixed_asset_investment=Decimal("10000"))
    assert invalid(update, project, staff, total_investment=Decimal("9999")) == {
        "fixed_asset_investment": "固定资产投资不能大于总投资。"}


def test_actual_dates_must_be_consistent(staff):
    project = make_project(by=staff, sign_date=dt.date(2025, 3, 1))
    assert invalid(update, project, staff, actual_start=dt.date(2025, 2, 28)) == {
        "actual_start": "实际开工日期不能早于签约日期。"}
    project = committed(project.id)
    assert invalid(update, project, staff, actual_start=dt.date(2025, 6, 1),
                   actual_completion=dt.date(2025, 5, 31)) == {"actual_completion": "实际竣工日期不能早于实际开工日期。"}
    project = committed(project.id)
    assert invalid(update, project, staff, actual_start=TODAY + dt.timedelta(days=1)) == {
        "actual_start": "实际开工日期不能晚于今天。"}
    project = committed(project.id)
    assert invalid(update, project, staff, sign_date=TODAY + dt.timedelta(days=1)) == {
        "sign_date": "签约日期不能晚于今天。"}
    project = committed(project.id)
    assert invalid(update, project, staff, planned_start=dt.date(2026, 5, 1),
                   planned_completion=dt.date(2026, 4, 1)) == {"planned_completion": "计划竣工日期不能早于计划开工日期。"}


def test_project_code_required_from_approval_on(staff):
    assert invalid(make_project, by=staff, project_code="2025-350100-26-03-00012A") == {
        "project_code": "项目代码中的区划代码 350100 不是三明市的区划。"}
    assert "project_code" in invalid(make_project, by=staff, project_code="2025350404")
    project = make_project(by=staff)  # optional while signed
    update(project, staff, project_code=CODE)
    update(project, staff, project_code=None)
    update(project, staff, project_code="2025-350400-26-03-00012A")  # the city's own code is Sanming too
    stage(project, Stage.APPROVAL, staff)
    assert invalid(update, project, staff, project_code="  ") == {
        "project_code": "项目进入“前期”阶段后必须填写项目代码。"}


def test_credit_code_is_checked(staff):
    assert invalid(make_project, by=staff, investor_credit_code="91350100M000100Y44") == {
        "investor_credit_code": "统一社会信用代码校验位不正确，请核对。"}


# who may write ---------------------------------------------------------------------------------------

def test_county_official_creates_only_in_their_own_county():
    official = make_user(Role.COUNTY, county="350404")
    project = make_project(by=official, county_code="350405")
    assert committed(project.id).county_code == "350404"


def test_county_official_cannot_touch_another_countys_project(staff):
    official = make_user(Role.COUNTY, county="350405")
    project = make_project(by=staff, county_code="350404", sign_type=SignType.AGREEMENT)
    calls = [
        lambda: update(project, official, name="越权"),
        lambda: stage(project, Stage.DROPPED, official, reason="越权"),
        lambda: services.convert_to_contract(project, TODAY, version=1, by=official),
        lambda: services.update_approval(project, project.approvals[0], status="done", planned_date=None,
                                         done_date=TODAY, document_no="", version=1, by=official),
        lambda: services.add_milestone(project, name="越权", planned_date=TODAY, version=1, by=official),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
        db.session.rollback()
    assert committed(project.id).version == 1
    # In their own county they may edit, but cannot move the project away.
    mine = make_project(by=staff, county_code="350405")
    update(mine, official, name="本县区修改", county_code="350404")
    assert (mine.county_code, mine.name) == ("350405", "本县区修改")


def test_leader_cannot_write(staff):
    leader = make_user(Role.LEADER)
    with pytest.raises(NotAllowed):
        make_project(by=leader)
    db.session.rollback()
    project = make_project(by=staff)
    for call in (lambda: update(project, leader, name="领导改名"),
                 lambda: stage(project, Stage.DROPPED, leader, reason="x"),
                 lambda: services.add_milestone(project, name="x", planned_date=TODAY, version=1, by=leader)):
        with pytest.raises(NotAllowed):
            call()
        db.session.rollback()
    assert committed(project.id).version == 1


def test_admin_edits_any_county(staff):
    admin = make_user(Role.ADMIN)
    project = make_project(by=staff, county_code="350481")
    assert update(project, admin, name="管理员修改") == ["项目名称"]


# approval types -------------------------------------------------------------------------------------

def test_added_approval_type_reaches_existing_and_new_projects(staff):
    admin = make_user(Role.ADMIN)
    old = make_project(by=staff)
    kind = services.add_approval_type(" 水土保持方案 ", by=admin)
    db.session.commit()
    assert kind.name == "水土保持方案" and kind.position > len(STANDARD_APPROVALS) - 1
    assert [a.type.name for a in committed(old.id).approvals] == STANDARD_APPROVALS + ["水土保持方案"]
    new = make_project(by=staff)
    assert [a.type.name for a in committed(new.id).approvals] == STANDARD_APPROVALS + ["水土保持方案"]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(
        entity="approval_type", entity_id=str(kind.id))) == 1
    assert invalid(services.add_approval_type, "水土保持方案", by=admin) == {"name": "前期手续“水土保持方案”已存在。"}
    assert "name" in invalid(services.add_approval_type, "  ", by=admin)
    assert services.seed_approval_types() == 0  # idempotent
    assert db.session.scalar(select(func.count()).select_from(ApprovalItemType)) == 9


def test_approval_done_needs_a_past_done_date(staff):
    project = make_project(by=staff)
    item = approval(project, "环评")
    assert invalid(services.update_approval, project, item, status="done", planned_date=None, done_date=None,
                   document_no="", version=1, by=staff) == {"done_date": "已办结的手续必须填写办结日期。"}
    project = committed(project.id)
    item = approval(project, "环评")
    assert invalid(services.update_approval, project, item, status="in_progress", planned_date=None,
                   done_date=dt.date(2025, 4, 1), document_no="", version=1,
                   by=staff) == {"done_date": "只有已办结的手续才能填写办结日期。"}
    other = make_project(by=staff)
    project = committed(project.id)
    assert invalid(services.update_approval, project, other.approvals[0], status="todo", planned_date=None,
                   done_date=None, document_no="", version=1, by=staff) == {"": "该前期手续不属于此项目。"}


# lights: Python and SQL agree ---------------------------------------------------------------------------

def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


LIGHT_CASES = {
    "nothing planned": ({}, [], None, Light.GREEN),
    "start overdue": ({"planned_start": days(-1)}, [], None, Light.RED),
    "start overdue but started": ({"planned_start": days(-1), "actual_start": days(-3)}, [], None, Light.GREEN),
    "completion due today": ({"planned_completion": days(0)}, [], None, Light.YELLOW),
    "production due in 15 days": ({"planned_production": days(15)}, [], None, Light.YELLOW),
    "production due in 16 days": ({"planned_production": days(16)}, [], None, Light.GREEN),
    "milestone overdue": ({}, [(days(-1), None)], None, Light.RED),
    "milestone done late": ({}, [(days(-10), days(-2))], None, Light.GREEN),
    "milestone due in 15 days": ({"planned_start": days(16)}, [(days(15), None)], None, Light.YELLOW),
    "milestone due in 16 days": ({}, [(days(16), None), (days(-5), days(-5))], None, Light.GREEN),
    "red date and yellow milestone": ({"planned_completion": days(-30)}, [(days(3), None)], None, Light.RED),
    "yellow date and green milestone": ({"planned_start": days(2)}, [(days(40), None)], None, Light.YELLOW),
    "dropped with overdue dates": ({"planned_start": days(-100)}, [(days(-1), None)], Stage.DROPPED, Light.GREEN),
    "paused and due soon": ({"planned_production": days(1)}, [], Stage.PAUSED, Light.YELLOW),
}


def test_python_light_agrees_with_sql_light(staff):
    ids = {}
    for label, (fields, milestones, target, _) in LIGHT_CASES.items():
        project = make_project(by=staff, sign_date=days(-400), **fields)
        for planned, actual in milestones:
            milestone = services.add_milestone(project, name="节点", planned_date=planned,
                                               version=project.version, by=staff)
            if actual is not None:
                services.update_milestone(project, milestone, planned_date=planned, actual_date=actual,
                                          version=project.version, by=staff)
        if target is not None:
            stage(project, target, staff, reason="测试", resume_date=days(30))
        db.session.commit()
        ids[project.id] = label
    db.session.expire_all()
    sql = dict(db.session.execute(select(Project.id, queries.light_expression(TODAY))).all())
    for project_id, label in ids.items():
        expected = LIGHT_CASES[label][-1]
        project = db.session.get(Project, project_id)
        assert (project.light(TODAY), Light(sql[project_id])) == (expected, expected), label


# lists and scoping -------------------------------------------------------------------------------------

def listing(user, page: int = 1, **filters):
    return queries.list_page(user, queries.ListFilters(**filters), page, TODAY)


def names(result) -> set[str]:
    return {row.name for row in result["rows"]}


@pytest.fixture
def spread(project_ref, staff):
    """A handful of projects across counties, stages, years, lights and awkward names."""
    # project_ref is named because the tests' usefixtures("spread") comes before the module's project_ref: the
    # first make_project would seed the counties itself, and project_ref's prepared rows would then collide.
    make_project(by=staff, name="达成100%产能项目", investor_name="甲公司", county_code="350404",
                 sign_date=dt.date(2024, 5, 1), total_investment=Decimal("100"), is_major=True,
                 planned_start=days(-3))
    make_project(by=staff, name="年产1000吨项目", investor_name="乙公司", county_code="350404",
                 sign_date=dt.date(2025, 5, 1), total_investment=Decimal("200.5"), planned_start=days(5))
    make_project(by=staff, name="a_b 材料", investor_name="丙_公司", county_code="350405",
                 sign_date=dt.date(2025, 6, 1), total_investment=Decimal("300"))
    make_project(by=staff, name="axb 材料", investor_name="丁公司", county_code="350405",
                 sign_date=dt.date(2024, 7, 1), total_investment=Decimal("400"), is_major=True)
    started = make_project(by=staff, name="开工项目", investor_name="戊%公司", county_code="350481",
                           sign_date=dt.date(2025, 1, 1), total_investment=Decimal("500"), project_code=CODE)
    stage(started, Stage.APPROVAL, staff)
    db.session.commit()


@pytest.mark.usefixtures("spread")
def test_list_filters_and_totals(staff):
    everything = listing(staff)
    assert (everything["count"], everything["total"]) == (5, Decimal("1500.50"))
    assert names(listing(staff, county="350405")) == {"a_b 材料", "axb 材料"}
    assert names(listing(staff, stage=Stage.APPROVAL)) == {"开工项目"}
    assert names(listing(staff, light=Light.RED)) == {"达成100%产能项目"}
    assert names(listing(staff, light=Light.YELLOW)) == {"年产1000吨项目"}
    assert len(listing(staff, light=Light.GREEN)["rows"]) == 3
    assert names(listing(staff, year=2024)) == {"达成100%产能项目", "axb 材料"}
    assert names(listing(staff, major=True)) == {"达成100%产能项目", "axb 材料"}
    result = listing(staff, county="350404", year=2025)
    assert (names(result), result["count"], result["total"]) == ({"年产1000吨项目"}, 1, Decimal("200.50"))


@pytest.mark.usefixtures("spread")
def test_search_escapes_like_wildcards(staff):
    assert names(listing(staff, q="100%")) == {"达成100%产能项目"}
    assert names(listing(staff, q="a_b")) == {"a_b 材料"}
    assert names(listing(staff, q="A_B")) == {"a_b 材料"}  # case-insensitive
    assert names(listing(staff, q="_")) == {"a_b 材料"}  # investor 丙_公司 is the same project
    assert names(listing(staff, q="%")) == {"达成100%产能项目", "开工项目"}  # 戊%公司 matches by investor
    assert names(listing(staff, q="乙公")) == {"年产1000吨项目"}
    assert names(listing(staff, q="\\")) == set()
    assert listing(staff, q="材料")["count"] == 2


@pytest.mark.usefixtures("spread")
def test_county_official_sees_only_their_county(staff):
    official = make_user(Role.COUNTY, county="350405")
    assert names(listing(official)) == {"a_b 材料", "axb 材料"}
    assert listing(official)["total"] == Decimal("700")
    assert listing(official, county="350404")["count"] == 0
    assert listing(official, q="项目")["count"] == 0
    visible = db.session.scalars(queries.visible_projects(official)).all()
    assert {p.county_code for p in visible} == {"350405"} and len(visible) == 2
    for role in (Role.COMMERCE, Role.LEADER, Role.ADMIN):
        assert len(db.session.scalars(queries.visible_projects(make_user(role))).all()) == 5
    assert queries.sign_years(official) == [2025, 2024]


@pytest.mark.usefixtures("spread")
def test_light_sort_puts_red_then_yellow_first(staff):
    official = make_user(Role.COUNTY, county="350404")
    result = listing(official)
    assert result["sort"] == "light"
    assert [(row.name, row.light) for row in result["rows"]] == [
        ("达成100%产能项目", Light.RED), ("年产1000吨项目", Light.YELLOW)]
    by_investment = listing(staff, sort="investment")
    assert [row.total_investment for row in by_investment["rows"]] == sorted(
        (row.total_investment for row in by_investment["rows"]), reverse=True)


@pytest.mark.usefixtures("spread")
def test_pagination(staff, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    first, second, third = (listing(staff, page=n, sort="investment") for n in (1, 2, 3))
    assert [r["pages"] for r in (first, second, third)] == [3, 3, 3]
    assert [[row.name for row in r["rows"]] for r in (first, second, third)] == [
        ["开工项目", "axb 材料"], ["a_b 材料", "年产1000吨项目"], ["达成100%产能项目"]]
    assert all((r["count"], r["total"]) == (5, Decimal("1500.50")) for r in (first, second, third))
    assert listing(staff, page=0)["page"] == 1
    assert listing(staff, page=99)["page"] == 3 and len(listing(staff, page=99)["rows"]) == 1
    empty = listing(staff, q="不存在")
    assert (empty["count"], empty["pages"], empty["page"], empty["rows"]) == (0, 1, 1, [])
