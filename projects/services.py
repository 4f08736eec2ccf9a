"""The project's verbs: register, edit, move stages, convert, approval items, milestones; flush, never commit."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified

from core import audit, clock
from core.auth.models import Role, User
from core.db import db, utcnow
from core.errors import NotAllowed
from core.validators import company_key

from . import rules, stages
from .models import (
    ApprovalItem,
    ApprovalItemType,
    ApprovalStatus,
    EventKind,
    Milestone,
    Project,
    ProjectEvent,
    can_edit_projects,
)
from .stages import SignType, Stage


def check_version(project: Project, version: int | None) -> None:
    if version is None or int(version) != project.version:
        raise rules.Conflict(project, int(version or 0))


def touch(project: Project, by: User) -> None:
    # Any change to a project or its items bumps its version, so every edit form goes stale: flagged, so the
    # UPDATE (and the bump) happens even when the clock reads the same as at the last change.
    project.updated_at = utcnow()
    project.updated_by_id = by.id
    flag_modified(project, "updated_at")


def record_event(project: Project, by: User, kind: EventKind, field: str = "", label: str = "",
           old=None, new=None, note: str = "") -> ProjectEvent:
    event = ProjectEvent(project=project, version=project.version, user_id=by.id, kind=kind,
                         # A label quoting a milestone's name (up to 100 characters) must fit the column's 64.
                         field=field, label=label[:64], old_value=rules.display(field, old),
                         new_value=rules.display(field, new), note=note)
    db.session.add(event)
    return event


def require_editor(project_county: str | None, by: User) -> None:
    if not can_edit_projects(by) or not by.may_edit_county(project_county):
        raise NotAllowed("只能编辑本县区的项目。" if by.role is Role.COUNTY else "您没有编辑项目的权限。")


def create_project(data: dict, *, by: User, stage: Stage = Stage.SIGNED) -> Project:
    """Register a project (signed by default, or still negotiating) with the standard approval items."""
    data = checked_new(data, by=by, stage=stage)
    project = Project(**new_project_columns(data, stage=stage, by=by))
    db.session.add(project)
    types = db.session.scalars(select(ApprovalItemType).where(ApprovalItemType.is_active)
                               .order_by(ApprovalItemType.position))
    for position, kind in enumerate(types):
        project.approvals.append(ApprovalItem(type=kind, position=position))
    db.session.flush()
    for field, label, value in created_fields(data, stage):
        record_event(project, by, EventKind.CREATED, field, label, None, value)
    db.session.flush()
    return project


def checked_new(data: dict, *, by: User, stage: Stage, regions: set[str] | None = None,
                historical: bool = False) -> dict:
    """create_project's permission and rule checks; returns the cleaned data or raises.

    ``historical``: a project recorded in the stage a ledger states (any pipeline stage), the facts its gates
    would ask for left as 资料缺项 rather than refused."""
    if not can_edit_projects(by):
        raise NotAllowed("您没有登记项目的权限。")
    data = rules.clean(data)
    if by.role is Role.COUNTY:
        data["county_code"] = by.county_code
    require_editor(data.get("county_code"), by)
    if stage not in (stages.PIPELINE if historical else (Stage.NEGOTIATING, Stage.SIGNED)):
        raise rules.ProjectInvalid({"": "新项目只能从“在谈”或“签约”阶段开始。"})
    errors = rules.validate(data, current=None, new_stage=stage, regions=regions, historical=historical)
    if errors:
        raise rules.ProjectInvalid(errors)
    return data


def new_project_columns(data: dict, *, stage: Stage, by: User) -> dict:
    """A new project's column values from its cleaned data, derived columns included (one rule for every path)."""
    columns = dict(data, stage=stage, updated_by_id=by.id)
    columns["investor_key"] = company_key(data.get("investor_name"))
    columns["investment_completed"] = data.get("investment_baseline")
    columns["signed_as"] = data.get("sign_type")
    columns["contract_date"] = data.get("sign_date") if data.get("sign_type") is SignType.CONTRACT else None
    return columns


def created_fields(data: dict, stage: Stage):
    """The (field, label, value) a new project's CREATED events record: its stage, then each set field."""
    yield "stage", "阶段", stage
    for field, value in data.items():
        if value not in (None, "", False):
            yield field, rules.FIELD_LABELS[field], value


def update_project(project: Project, data: dict, *, version: int | None, by: User) -> list[str]:
    """Save the edit form; returns the labels of the fields that changed."""
    require_editor(project.county_code, by)
    check_version(project, version)
    data = rules.clean(data)
    if by.role is Role.COUNTY:
        data["county_code"] = project.county_code  # a county official cannot move a project away
    require_editor(data.get("county_code"), by)
    errors = rules.validate(data, current=project)
    # One recorded without it (a ledger's 资料缺项) may have it filled in here.
    if project.sign_type is not None and project.sign_type != data.get("sign_type") \
            and project.stage is not Stage.NEGOTIATING:
        errors.setdefault("sign_type", "签约类型不能直接修改；协议转合同请使用“协议转合同”操作。")
    if errors:
        raise rules.ProjectInvalid(errors)
    changes = [(field, getattr(project, field), value) for field, value in data.items()
               if getattr(project, field) != value]
    if not changes:
        return []
    # Cumulative investment is the carried-in baseline plus every monthly report: move it with the baseline.
    project.investment_completed += data["investment_baseline"] - (project.investment_baseline or Decimal("0"))
    for field, _, value in changes:
        setattr(project, field, value)
    if project.stage is Stage.NEGOTIATING:
        project.signed_as = project.sign_type
    if project.signed_as is SignType.CONTRACT:
        project.contract_date = project.sign_date  # signed as a contract: the two dates are one
    project.investor_key = company_key(project.investor_name)
    touch(project, by)
    db.session.flush()
    for field, old, new in changes:
        record_event(project, by, EventKind.UPDATED, field, rules.FIELD_LABELS[field], old, new)
    db.session.flush()
    return [rules.FIELD_LABELS[field] for field, _, _ in changes]


def change_stage(project: Project, target: Stage | str, *, version: int | None, by: User,
                 reason: str = "", resume_date: dt.date | None = None, historical: bool = False) -> None:
    """Move a project to ``target`` if the stage rules and gates allow it.

    ``historical``: record a later pipeline stage a ledger states, without its gates (what they would ask
    for stays a 资料缺项); never backwards, never out of a pause."""
    require_editor(project.county_code, by)
    check_version(project, version)
    try:
        target = Stage(target)
    except ValueError:
        raise rules.ProjectInvalid({"to_stage": "未知的阶段。"}) from None
    if historical:
        forward = project.stage in stages.PIPELINE and target in stages.PIPELINE \
            and stages.PIPELINE.index(target) > stages.PIPELINE.index(project.stage)
        problems = [] if forward else [f"台账只能把项目从“{project.stage.label}”向后推进，不能改为“{target.label}”。"]
    else:
        problems = stages.transition_problems(project.stage, target, project.facts(), reason=reason,
                                              resume_date=resume_date, paused_from=project.paused_from,
                                              today=clock.today())
    if problems:
        raise rules.ProjectInvalid({"to_stage": " ".join(problems)})
    old_stage, reason = project.stage, (reason or "").strip()
    changes = [("stage", old_stage, target)]
    if target is Stage.PAUSED:
        project.paused_from = old_stage
        changes += [("pause_reason", project.pause_reason or None, reason),
                    ("resume_expected", project.resume_expected, resume_date)]
        project.pause_reason, project.resume_expected = reason, resume_date
    elif target is Stage.DROPPED:
        changes.append(("drop_reason", project.drop_reason or None, reason))
        project.drop_reason = reason
    else:
        if old_stage is Stage.PAUSED:  # resumed: the pause is over (its reason stays in the timeline)
            changes += [("pause_reason", project.pause_reason or None, None),
                        ("resume_expected", project.resume_expected, None)]
            project.pause_reason, project.resume_expected = "", None
        project.paused_from = None
    if target is Stage.SIGNED and old_stage is Stage.NEGOTIATING:
        project.signed_as = project.sign_type
        if project.sign_type is SignType.CONTRACT:
            project.contract_date = project.sign_date
    project.stage = target
    touch(project, by)
    db.session.flush()
    for field, old, new in changes:
        record_event(project, by, EventKind.STAGE, field, rules.STAGE_LABELS[field], old, new,
               note=reason if field == "stage" else "")
    db.session.flush()


def convert_to_contract(project: Project, contract_date: dt.date | None, *, version: int | None,
                        by: User) -> None:
    """Record that an agreement became a contract on ``contract_date`` (feeds 协议转合同率)."""
    require_editor(project.county_code, by)
    check_version(project, version)
    problems = stages.conversion_problems(project.sign_type, project.sign_date, contract_date, today=clock.today())
    if project.stage in (Stage.NEGOTIATING, Stage.DROPPED):
        problems.insert(0, f"“{project.stage.label}”阶段的项目不能转为合同。")
    if problems:
        raise rules.ProjectInvalid({"contract_date": " ".join(problems)})
    project.sign_type, project.contract_date = SignType.CONTRACT, contract_date
    touch(project, by)
    db.session.flush()
    record_event(project, by, EventKind.CONVERTED, "sign_type", "签约类型", SignType.AGREEMENT, SignType.CONTRACT)
    record_event(project, by, EventKind.CONVERTED, "contract_date", "合同签订日期", None, contract_date)
    db.session.flush()


def update_approval(project: Project, item: ApprovalItem, *, status: ApprovalStatus | str,
                    planned_date: dt.date | None, done_date: dt.date | None, document_no: str,
                    version: int | None, by: User) -> None:
    require_editor(project.county_code, by)
    check_version(project, version)
    if item.project_id != project.id:
        raise rules.ProjectInvalid({"": "该前期手续不属于此项目。"})
    status = ApprovalStatus(status)
    document_no = (document_no or "").strip()
    errors = {}
    if status is ApprovalStatus.DONE and done_date is None:
        errors["done_date"] = "已办结的手续必须填写办结日期。"
    if done_date is not None and done_date > clock.today():
        errors["done_date"] = "办结日期不能晚于今天。"
    if done_date is not None and status is not ApprovalStatus.DONE:
        errors["done_date"] = "只有已办结的手续才能填写办结日期。"
    if errors:
        raise rules.ProjectInvalid(errors)
    label = item.type.name
    changes = []
    for field, value in (("status", status), ("planned_date", planned_date), ("done_date", done_date),
                         ("document_no", document_no)):
        if getattr(item, field) != value:
            changes.append((field, getattr(item, field), value))
            setattr(item, field, value)
    if not changes:
        return
    touch(project, by)
    db.session.flush()
    names = {"status": "状态", "planned_date": "计划日期", "done_date": "办结日期", "document_no": "文号"}
    for field, old, new in changes:
        record_event(project, by, EventKind.APPROVAL, f"approval:{field}", f"{label}·{names[field]}", old, new)
    db.session.flush()


def add_milestone(project: Project, *, name: str, planned_date: dt.date, note: str = "",
                  version: int | None, by: User) -> Milestone:
    require_editor(project.county_code, by)
    check_version(project, version)
    name = (name or "").strip()
    if not name:
        raise rules.ProjectInvalid({"name": "请填写节点名称。"})
    milestone = Milestone(project=project, name=name, planned_date=planned_date, note=(note or "").strip())
    db.session.add(milestone)
    touch(project, by)
    db.session.flush()
    record_event(project, by, EventKind.MILESTONE, "milestone", f"节点“{name}”·计划日期", None, planned_date)
    db.session.flush()
    return milestone


def update_milestone(project: Project, milestone: Milestone, *, planned_date: dt.date,
                     actual_date: dt.date | None, version: int | None, by: User) -> None:
    require_editor(project.county_code, by)
    check_version(project, version)
    if milestone.project_id != project.id:
        raise rules.ProjectInvalid({"": "该节点不属于此项目。"})
    if actual_date is not None and actual_date > clock.today():
        raise rules.ProjectInvalid({"actual_date": "实际完成日期不能晚于今天。"})
    changes = []
    for field, label, value in (("planned_date", "计划日期", planned_date), ("actual_date", "实际完成日期", actual_date)):
        if getattr(milestone, field) != value:
            changes.append((label, getattr(milestone, field), value))
            setattr(milestone, field, value)
    if not changes:
        return
    touch(project, by)
    db.session.flush()
    for label, old, new in changes:
        record_event(project, by, EventKind.MILESTONE, "milestone", f"节点“{milestone.name}”·{label}", old, new)
    db.session.flush()


APPROVAL_TYPES = ["立项备案/核准", "用地预审与选址", "土地出让", "规划许可", "环评", "节能审查", "安评", "施工许可"]


def seed_approval_types() -> int:
    """Insert the standard approval items an administrator may later extend; returns rows added."""
    added = 0
    for position, name in enumerate(APPROVAL_TYPES):
        kind = db.session.scalar(select(ApprovalItemType).where(ApprovalItemType.name == name))
        if kind is None:
            db.session.add(ApprovalItemType(name=name, position=position))
            added += 1
    db.session.flush()
    return added


def add_approval_type(name: str, *, by: User) -> ApprovalItemType:
    """Extend the approval list; existing projects get the new item too."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise rules.ProjectInvalid({"name": "请填写 1–64 个字符的手续名称。"})
    if db.session.scalar(select(ApprovalItemType).where(ApprovalItemType.name == name)):
        raise rules.ProjectInvalid({"name": f"前期手续“{name}”已存在。"})
    position = (db.session.scalar(select(func.max(ApprovalItemType.position))) or 0) + 1
    kind = ApprovalItemType(name=name, position=position)
    db.session.add(kind)
    db.session.flush()
    project_ids = db.session.scalars(select(Project.id))
    db.session.add_all(ApprovalItem(project_id=pid, type_id=kind.id, position=position) for pid in project_ids)
    audit.record("approval_type", kind.id, "created", by, name=name)
    db.session.flush()
    return kind
