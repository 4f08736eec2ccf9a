"""Projects services room: create, edit, move stages, approvals and milestones; audit, flush, never commit."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, insert, select

from core import audit, clock
from core.auth.models import County, Role, User
from core.db import db, utcnow
from core.enums import LabeledEnum
from core.validators import company_key, credit_code_problem, project_code_problem
from parks.models import ChainNode, Industry, Park

from . import stages
from .models import (ApprovalItem, ApprovalItemType, ApprovalStatus, Blocker, BlockerCategory, EventKind, FollowUp,
                     FollowUpKind, InvestorOrigin, InvestorType, Lead, LeadSource, LeadStatus, Milestone,
                     ProgressReport, Project, ProjectEvent, SigningEvent)
from .stages import SignType, Stage

# The fields a user edits through the project form, with the label the timeline shows.
FIELD_LABELS = {
    "name": "项目名称",
    "investor_name": "投资方",
    "investor_credit_code": "统一社会信用代码",
    "investor_origin": "投资方来源",
    "investor_type": "投资方类型",
    "county_code": "所属县区",
    "park_id": "所属园区",
    "industry_id": "产业",
    "chain_node_id": "产业链环节",
    "total_investment": "总投资（万元）",
    "fixed_asset_investment": "固定资产投资（万元）",
    "land_area": "用地（亩）",
    "sign_type": "签约类型",
    "sign_date": "签约日期",
    "project_code": "项目代码",
    "is_major": "重大项目",
    "hooked_leader_id": "挂钩领导",
    "responsible_unit": "责任单位",
    "liaison": "联络员",
    "planned_start": "计划开工日期",
    "actual_start": "实际开工日期",
    "planned_completion": "计划竣工日期",
    "actual_completion": "实际竣工日期",
    "planned_production": "计划投产日期",
    "actual_production": "实际投产日期",
    "investment_baseline": "月报前累计完成投资（万元）",
    "signing_event_id": "签约活动",
    "is_capital_increase": "增资项目",
    "notes": "备注",
}
EDITABLE_FIELDS = tuple(FIELD_LABELS)
STAGE_LABELS = {"stage": "阶段", "pause_reason": "暂缓原因", "resume_expected": "预计恢复日期",
                "drop_reason": "终止原因", "sign_type": "签约类型", "contract_date": "合同签订日期"}


class ProjectInvalid(ValueError):
    """Input that breaks a project rule; ``errors`` maps a form field (or "") to a Chinese message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


class Conflict(Exception):
    """The project changed since the user loaded it; carries what changed in between."""

    def __init__(self, project: Project, seen_version: int):
        super().__init__(f"project {project.id} is at version {project.version}, form had {seen_version}")
        self.project = project
        self.seen_version = seen_version
        self.events = list(db.session.scalars(
            select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                       ProjectEvent.version > seen_version)
            .order_by(ProjectEvent.id)))


class NotAllowed(PermissionError):
    """The user may not change this project (a leader, or another county)."""


def display(field: str, value) -> str | None:
    """How a stored value reads in the timeline and on the conflict page."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, LabeledEnum):
        return value.label
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if field in _LOOKUPS:
        model, attr = _LOOKUPS[field]
        row = db.session.get(model, value)
        return getattr(row, attr) if row is not None else str(value)
    return str(value)


_LOOKUPS = {"county_code": (County, "name"), "park_id": (Park, "name"), "industry_id": (Industry, "name"),
            "chain_node_id": (ChainNode, "name"), "hooked_leader_id": (User, "name_for_display"),
            "signing_event_id": (SigningEvent, "name"), "owner_id": (User, "name_for_display")}


def _check_version(project: Project, version: int | None) -> None:
    if version is None or int(version) != project.version:
        raise Conflict(project, int(version or 0))


def _touch(project: Project, by: User) -> None:
    # Any change to a project or its items bumps its version, so every edit form goes stale.
    project.updated_at = utcnow()
    project.updated_by_id = by.id


def _event(project: Project, by: User, kind: EventKind, field: str = "", label: str = "",
           old=None, new=None, note: str = "") -> ProjectEvent:
    event = ProjectEvent(project=project, version=project.version, user_id=by.id, kind=kind,
                         field=field, label=label, old_value=display(field, old),
                         new_value=display(field, new), note=note)
    db.session.add(event)
    return event


def _require_editor(project_county: str | None, by: User) -> None:
    if not by.can_edit_projects or not by.may_edit_county(project_county):
        raise NotAllowed("只能编辑本县区的项目。" if by.role is Role.COUNTY else "您没有编辑项目的权限。")


def _validate(data: dict, *, current: Project | None, new_stage: Stage = Stage.SIGNED,
              regions: set[str] | None = None) -> dict[str, str]:
    """Check the rules that span fields or need the database; returns field → message.

    ``regions`` (from _regions()) may be passed by a caller checking many projects at once."""
    errors: dict[str, str] = {}
    county_code = data.get("county_code")
    county = db.session.get(County, county_code) if county_code else None
    if county is None or not county.is_current:
        errors["county_code"] = "请选择有效的县区。"
    park = db.session.get(Park, data["park_id"]) if data.get("park_id") else None
    if data.get("park_id") and park is None:
        errors["park_id"] = "园区不存在。"
    elif park is not None and county is not None and park.county_code != county.code:
        errors["park_id"] = f"园区“{park.name}”不在{county.name}，请选择该县区的园区。"
    if data.get("chain_node_id"):
        node = db.session.get(ChainNode, data["chain_node_id"])
        if node is None:
            errors["chain_node_id"] = "产业链环节不存在。"
        elif data.get("industry_id") and node.chain.industry_id != data["industry_id"]:
            errors["chain_node_id"] = "产业链环节不属于所选产业。"
        elif not data.get("industry_id"):
            errors["chain_node_id"] = "选择产业链环节前请先选择产业。"
    if data.get("signing_event_id") and db.session.get(SigningEvent, data["signing_event_id"]) is None:
        errors["signing_event_id"] = "签约活动不存在。"
    if current is not None and current.signing_event_id and data.get("investor_name") \
            and company_key(data["investor_name"]) != current.investor_key:
        # A changed investor counts under the event after the change: a later one, not the same,
        # an earlier one or none (which would drop the project from every cohort).
        first = db.session.get(SigningEvent, current.signing_event_id)
        chosen = db.session.get(SigningEvent, data["signing_event_id"]) if data.get("signing_event_id") else None
        if chosen is None or (first is not None and chosen.date <= first.date):
            errors.setdefault("signing_event_id", "投资方已变更：项目应计入变更后签约的活动，请选择晚于"
                              f"“{first.name if first else ''}”的签约活动。")
    if data.get("hooked_leader_id"):
        leader = db.session.get(User, data["hooked_leader_id"])
        if leader is None or leader.role is not Role.LEADER:
            errors["hooked_leader_id"] = "挂钩领导须为领导角色的用户。"
    if data.get("investor_credit_code"):
        problem = credit_code_problem(data["investor_credit_code"])
        if problem:
            errors["investor_credit_code"] = problem
    stage = current.stage if current is not None else new_stage
    # A paused project keeps the obligations of the stage it will resume to.
    reached = current.paused_from if current is not None and stage is Stage.PAUSED else stage
    if reached is Stage.NEGOTIATING and data.get("signing_event_id") \
            and (current is None or data["signing_event_id"] != current.signing_event_id):
        # An event is credited with the projects first signed there: one still in talks is not yet.
        errors.setdefault("signing_event_id", "在谈项目尚未签约，不能计入签约活动；签约后再选择签约活动。")
    if data.get("project_code"):
        regions = regions if regions is not None else _regions()
        problem = project_code_problem(data["project_code"], regions, this_year=clock.today().year)
        if problem:
            errors["project_code"] = problem
    elif current is not None and PIPELINE_INDEX.get(reached, 0) >= PIPELINE_INDEX[Stage.APPROVAL]:
        errors["project_code"] = "项目进入“前期”阶段后必须填写项目代码。"
    fixed, total = data.get("fixed_asset_investment"), data.get("total_investment")
    if total is None:
        errors["total_investment"] = "请填写总投资。"
    elif total < 0:
        errors["total_investment"] = "总投资不能为负数。"
    if fixed is not None and total is not None and fixed > total:
        errors["fixed_asset_investment"] = "固定资产投资不能大于总投资。"
    if reached is not Stage.NEGOTIATING and (data.get("sign_type") is None or data.get("sign_date") is None):
        errors.setdefault("sign_date", "已签约的项目必须填写签约类型和签约日期。")
    if data.get("sign_date") and data["sign_date"] > clock.today():
        errors["sign_date"] = "签约日期不能晚于今天。"
    errors.update({k: v for k, v in stages.date_problems(
        sign_date=data.get("sign_date"), actual_start=data.get("actual_start"),
        actual_completion=data.get("actual_completion"), actual_production=data.get("actual_production"),
        today=clock.today()).items() if k not in errors})
    for planned, later, label in (("planned_start", "planned_completion", "计划竣工日期不能早于计划开工日期。"),
                                  ("planned_start", "planned_production", "计划投产日期不能早于计划开工日期。")):
        if data.get(planned) and data.get(later) and data[later] < data[planned]:
            errors.setdefault(later, label)
    return errors


PIPELINE_INDEX = {stage: index for index, stage in enumerate(stages.PIPELINE)}


def _regions() -> set[str]:
    """The region codes a project code may carry: every county's (old ones too) and the city's."""
    return {code for code in db.session.scalars(select(County.code))} | {"350400"}


_ENUM_FIELDS = {"sign_type": SignType, "investor_origin": InvestorOrigin, "investor_type": InvestorType}


def _clean(data: dict) -> dict:
    """Keep only the editable fields, with blanks as None and text trimmed."""
    cleaned = {}
    for field in EDITABLE_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            value = value.strip()
            if value == "" and field not in ("responsible_unit", "liaison", "notes"):
                value = None
        cleaned[field] = value
    # str.strip() above turns a StrEnum into a plain str: bring the enums back (display labels,
    # "is SignType.CONTRACT" checks) and refuse values that are not members.
    for field, enum_cls in _ENUM_FIELDS.items():
        if cleaned.get(field) is not None:
            try:
                cleaned[field] = enum_cls(cleaned[field])
            except ValueError:
                raise ProjectInvalid({field: f"“{FIELD_LABELS[field]}”的取值无效。"}) from None
    if cleaned.get("investor_credit_code"):
        cleaned["investor_credit_code"] = cleaned["investor_credit_code"].upper()
    if cleaned.get("project_code"):
        cleaned["project_code"] = cleaned["project_code"].upper()
    for text_field in ("responsible_unit", "liaison", "notes"):
        cleaned[text_field] = cleaned[text_field] or ""
    cleaned["is_major"] = bool(cleaned.get("is_major"))
    if cleaned.get("investment_baseline") is None:
        cleaned["investment_baseline"] = Decimal("0")
    cleaned["is_capital_increase"] = bool(cleaned.get("is_capital_increase"))
    return cleaned


def create_project(data: dict, *, by: User, stage: Stage = Stage.SIGNED) -> Project:
    """Register a project (signed by default, or still negotiating) with the standard approval items."""
    data = _checked_new(data, by=by, stage=stage)
    project = Project(**_new_project_columns(data, stage=stage, by=by))
    db.session.add(project)
    types = db.session.scalars(select(ApprovalItemType).where(ApprovalItemType.is_active)
                               .order_by(ApprovalItemType.position))
    for position, kind in enumerate(types):
        project.approvals.append(ApprovalItem(type=kind, position=position))
    db.session.flush()
    for field, label, value in _created_fields(data, stage):
        _event(project, by, EventKind.CREATED, field, label, None, value)
    db.session.flush()
    return project


def _checked_new(data: dict, *, by: User, stage: Stage, regions: set[str] | None = None) -> dict:
    """create_project's permission and rule checks; returns the cleaned data or raises."""
    if not by.can_edit_projects:
        raise NotAllowed("您没有登记项目的权限。")
    data = _clean(data)
    if by.role is Role.COUNTY:
        data["county_code"] = by.county_code
    _require_editor(data.get("county_code"), by)
    if stage not in (Stage.NEGOTIATING, Stage.SIGNED):
        raise ProjectInvalid({"": "新项目只能从“在谈”或“签约”阶段开始。"})
    errors = _validate(data, current=None, new_stage=stage, regions=regions)
    if stage is Stage.SIGNED and (data.get("sign_type") is None or data.get("sign_date") is None):
        errors.setdefault("sign_date", "已签约的项目必须填写签约类型和签约日期。")
    if errors:
        raise ProjectInvalid(errors)
    return data


def _new_project_columns(data: dict, *, stage: Stage, by: User) -> dict:
    """A new project's column values from its cleaned data, derived columns included (one rule for every path)."""
    columns = dict(data, stage=stage, updated_by_id=by.id)
    columns["investor_key"] = company_key(data.get("investor_name"))
    columns["investment_completed"] = data.get("investment_baseline")
    columns["signed_as"] = data.get("sign_type")
    columns["contract_date"] = data.get("sign_date") if data.get("sign_type") is SignType.CONTRACT else None
    return columns


def _created_fields(data: dict, stage: Stage):
    """The (field, label, value) a new project's CREATED events record: its stage, then each set field."""
    yield "stage", "阶段", stage
    for field, value in data.items():
        if value not in (None, "", False):
            yield field, FIELD_LABELS[field], value


class BulkCreator:
    """Create many projects in one go (ledger import): create_project's checks row by row, then one INSERT
    per table instead of three flushes and ~20 ORM objects per project.

    add() raises exactly what create_project would for that row and writes nothing; insert() writes every
    added project, its approval items and its CREATED events (the rows create_project writes) in the
    caller's transaction, never committing, and returns the new ids in the order added."""

    def __init__(self, *, by: User):
        self.by = by
        self.regions = _regions()
        self.approval_types = list(db.session.scalars(
            select(ApprovalItemType.id).where(ApprovalItemType.is_active).order_by(ApprovalItemType.position)))
        # The identity map holds rows weakly: keep the reference rows _validate and display() look up
        # alive, or each db.session.get() reloads them once per row.
        self._keep = [*db.session.scalars(select(County)), *db.session.scalars(select(Park)),
                      *db.session.scalars(select(Industry)), *db.session.scalars(select(SigningEvent)),
                      *db.session.scalars(select(User).where(User.role == Role.LEADER))]
        self.pending: list[tuple[dict, Stage]] = []

    def add(self, data: dict, *, stage: Stage = Stage.SIGNED) -> dict:
        """Check one project as create_project does and queue it; returns its cleaned data."""
        data = _checked_new(data, by=self.by, stage=stage, regions=self.regions)
        self.pending.append((data, stage))
        return data

    def insert(self) -> list[int]:
        if not self.pending:
            return []
        table = Project.__table__
        columns = [_new_project_columns(data, stage=stage, by=self.by) for data, stage in self.pending]
        ids = list(db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                      columns).scalars())
        approvals = [{"project_id": pid, "type_id": type_id, "position": position}
                     for pid in ids for position, type_id in enumerate(self.approval_types)]
        # A project inserted through the table starts at the version column's default, as an ORM insert does.
        version = table.c.version.default.arg
        events = [{"project_id": pid, "version": version, "user_id": self.by.id, "kind": EventKind.CREATED,
                   "field": field, "label": label, "old_value": None, "new_value": display(field, value), "note": ""}
                  for pid, (data, stage) in zip(ids, self.pending, strict=True)
                  for field, label, value in _created_fields(data, stage)]
        if approvals:
            db.session.execute(insert(ApprovalItem.__table__), approvals)
        db.session.execute(insert(ProjectEvent.__table__), events)
        self.pending = []
        return ids


def update_project(project: Project, data: dict, *, version: int | None, by: User) -> list[str]:
    """Save the edit form; returns the labels of the fields that changed."""
    _require_editor(project.county_code, by)
    _check_version(project, version)
    data = _clean(data)
    if by.role is Role.COUNTY:
        data["county_code"] = project.county_code  # a county official cannot move a project away
    _require_editor(data.get("county_code"), by)
    errors = _validate(data, current=project)
    if project.sign_type != data.get("sign_type") and project.stage is not Stage.NEGOTIATING:
        errors.setdefault("sign_type", "签约类型不能直接修改；协议转合同请使用“协议转合同”操作。")
    if errors:
        raise ProjectInvalid(errors)
    changes = [(field, getattr(project, field), value) for field, value in data.items()
               if getattr(project, field) != value]
    if not changes:
        return []
    for field, _, value in changes:
        setattr(project, field, value)
    if project.stage is Stage.NEGOTIATING:
        project.signed_as = project.sign_type
    if project.signed_as is SignType.CONTRACT:
        project.contract_date = project.sign_date  # signed as a contract: the two dates are one
    project.investor_key = company_key(project.investor_name)
    _recompute_totals(project)
    _touch(project, by)
    db.session.flush()
    for field, old, new in changes:
        _event(project, by, EventKind.UPDATED, field, FIELD_LABELS[field], old, new)
    db.session.flush()
    return [FIELD_LABELS[field] for field, _, _ in changes]


def change_stage(project: Project, target: Stage | str, *, version: int | None, by: User,
                 reason: str = "", resume_date: dt.date | None = None) -> None:
    """Move a project to ``target`` if the stage rules and gates allow it."""
    _require_editor(project.county_code, by)
    _check_version(project, version)
    try:
        target = Stage(target)
    except ValueError:
        raise ProjectInvalid({"to_stage": "未知的阶段。"}) from None
    problems = stages.transition_problems(project.stage, target, project.facts(), reason=reason,
                                          resume_date=resume_date, paused_from=project.paused_from,
                                          today=clock.today())
    if problems:
        raise ProjectInvalid({"to_stage": " ".join(problems)})
    if target in (Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING) and not project.project_code:
        raise ProjectInvalid({"to_stage": f"进入“{target.label}”阶段还缺少：项目代码。"})
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
    _touch(project, by)
    db.session.flush()
    for field, old, new in changes:
        _event(project, by, EventKind.STAGE, field, STAGE_LABELS[field], old, new,
               note=reason if field == "stage" else "")
    db.session.flush()


def convert_to_contract(project: Project, contract_date: dt.date | None, *, version: int | None,
                        by: User) -> None:
    """Record that an agreement became a contract on ``contract_date`` (feeds 协议转合同率)."""
    _require_editor(project.county_code, by)
    _check_version(project, version)
    problems = stages.conversion_problems(project.sign_type, project.sign_date, contract_date, today=clock.today())
    if project.stage in (Stage.NEGOTIATING, Stage.DROPPED):
        problems.insert(0, f"“{project.stage.label}”阶段的项目不能转为合同。")
    if problems:
        raise ProjectInvalid({"contract_date": " ".join(problems)})
    project.sign_type, project.contract_date = SignType.CONTRACT, contract_date
    _touch(project, by)
    db.session.flush()
    _event(project, by, EventKind.CONVERTED, "sign_type", "签约类型", SignType.AGREEMENT, SignType.CONTRACT)
    _event(project, by, EventKind.CONVERTED, "contract_date", "合同签订日期", None, contract_date)
    db.session.flush()


def update_approval(project: Project, item: ApprovalItem, *, status: ApprovalStatus | str,
                    planned_date: dt.date | None, done_date: dt.date | None, document_no: str,
                    version: int | None, by: User) -> None:
    _require_editor(project.county_code, by)
    _check_version(project, version)
    if item.project_id != project.id:
        raise ProjectInvalid({"": "该前期手续不属于此项目。"})
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
        raise ProjectInvalid(errors)
    label = item.type.name
    changes = []
    for field, value in (("status", status), ("planned_date", planned_date), ("done_date", done_date),
                         ("document_no", document_no)):
        if getattr(item, field) != value:
            changes.append((field, getattr(item, field), value))
            setattr(item, field, value)
    if not changes:
        return
    _touch(project, by)
    db.session.flush()
    names = {"status": "状态", "planned_date": "计划日期", "done_date": "办结日期", "document_no": "文号"}
    for field, old, new in changes:
        _event(project, by, EventKind.APPROVAL, f"approval:{field}", f"{label}·{names[field]}", old, new)
    db.session.flush()


def add_milestone(project: Project, *, name: str, planned_date: dt.date, note: str = "",
                  version: int | None, by: User) -> Milestone:
    _require_editor(project.county_code, by)
    _check_version(project, version)
    name = (name or "").strip()
    if not name:
        raise ProjectInvalid({"name": "请填写节点名称。"})
    milestone = Milestone(project=project, name=name, planned_date=planned_date, note=(note or "").strip())
    db.session.add(milestone)
    _touch(project, by)
    db.session.flush()
    _event(project, by, EventKind.MILESTONE, "milestone", f"节点“{name}”·计划日期", None, planned_date)
    db.session.flush()
    return milestone


def update_milestone(project: Project, milestone: Milestone, *, planned_date: dt.date,
                     actual_date: dt.date | None, version: int | None, by: User) -> None:
    _require_editor(project.county_code, by)
    _check_version(project, version)
    if milestone.project_id != project.id:
        raise ProjectInvalid({"": "该节点不属于此项目。"})
    if actual_date is not None and actual_date > clock.today():
        raise ProjectInvalid({"actual_date": "实际完成日期不能晚于今天。"})
    changes = []
    for field, label, value in (("planned_date", "计划日期", planned_date), ("actual_date", "实际完成日期", actual_date)):
        if getattr(milestone, field) != value:
            changes.append((label, getattr(milestone, field), value))
            setattr(milestone, field, value)
    if not changes:
        return
    _touch(project, by)
    db.session.flush()
    for label, old, new in changes:
        _event(project, by, EventKind.MILESTONE, "milestone", f"节点“{milestone.name}”·{label}", old, new)
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
        raise ProjectInvalid({"name": "请填写 1–64 个字符的手续名称。"})
    if db.session.scalar(select(ApprovalItemType).where(ApprovalItemType.name == name)):
        raise ProjectInvalid({"name": f"前期手续“{name}”已存在。"})
    position = (db.session.scalar(select(func.max(ApprovalItemType.position))) or 0) + 1
    kind = ApprovalItemType(name=name, position=position)
    db.session.add(kind)
    db.session.flush()
    project_ids = db.session.scalars(select(Project.id))
    db.session.add_all(ApprovalItem(project_id=pid, type_id=kind.id, position=position) for pid in project_ids)
    audit.record("approval_type", kind.id, "created", by, name=name)
    db.session.flush()
    return kind



def _recompute_totals(project: Project) -> None:
    """Cumulative investment and funds arrived are derived from the monthly reports, never typed twice."""
    with db.session.no_autoflush:  # one UPDATE (one version step) for the whole change, not two
        invested, funds = db.session.execute(
            select(func.coalesce(func.sum(ProgressReport.investment), 0),
                   func.coalesce(func.sum(ProgressReport.funds_arrived), 0))
            .where(ProgressReport.project_id == project.id)).one()
    project.investment_completed = (project.investment_baseline or Decimal("0")) + Decimal(invested)
    project.funds_arrived = Decimal(funds)


# ---- Monthly progress reports (月度进展) ----

REPORTING_STAGES = (Stage.SIGNED, Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def report_month_problem(project: Project, month: dt.date) -> str | None:
    """Why ``project`` cannot report for ``month`` (the first of a month), or None."""
    if project.stage not in REPORTING_STAGES or project.sign_date is None:
        return f"“{project.stage.label}”阶段的项目不填报月度进展。"
    if month > month_start(clock.today()):
        return "不能填报未来月份的进展。"
    if month < month_start(project.sign_date):
        return f"项目 {project.sign_date:%Y年%m月} 签约，不能填报签约之前月份的进展。"
    if project.actual_production and month > month_start(project.actual_production):
        return f"项目已于 {project.actual_production:%Y年%m月} 投产，之后的月份不再填报。"
    return None


def save_report(project: Project, month: dt.date, *, investment: Decimal | None, funds_arrived: Decimal | None,
                note: str, no_change: bool, version: int | None, by: User,
                confirm_funds_over_total: bool = False) -> ProgressReport:
    """Record (or correct) a project's report for one month; a second report for the month updates it."""
    _require_editor(project.county_code, by)
    _check_version(project, version)
    month = month_start(month)
    problem = report_month_problem(project, month)
    if problem:
        raise ProjectInvalid({"month": problem})
    note = (note or "").strip()
    if no_change:
        investment, funds_arrived = Decimal("0"), Decimal("0")
    investment = investment if investment is not None else Decimal("0")
    funds_arrived = funds_arrived if funds_arrived is not None else Decimal("0")
    if investment < 0 or funds_arrived < 0:
        raise ProjectInvalid({"investment": "金额不能为负数。"})
    if not no_change and investment == 0 and funds_arrived == 0 and not note:
        raise ProjectInvalid({"note": "请填写本月完成投资、到位资金或进展说明，或勾选“本月无变化”。"})
    report = db.session.scalar(select(ProgressReport).where(ProgressReport.project_id == project.id,
                                                            ProgressReport.month == month))
    old_funds = report.funds_arrived if report else Decimal("0")
    if project.funds_arrived - old_funds + funds_arrived > project.total_investment and not confirm_funds_over_total:
        raise FundsOverTotal(project, project.funds_arrived - old_funds + funds_arrived)
    label = f"{month:%Y年%m月}"
    changes = []
    if report is None:
        report = ProgressReport(project=project, month=month)
        db.session.add(report)
        changes.append(("report", f"{label}月报", None, "本月无变化" if no_change else "已填报"))
    for field, title, value in (("investment", "完成投资（万元）", investment), ("funds_arrived", "到位资金（万元）", funds_arrived),
                                ("note", "进展说明", note), ("no_change", "本月无变化", no_change)):
        old = getattr(report, field)
        if old != value:
            if report.id is not None:
                changes.append((field, f"{label}·{title}", old, value))
            setattr(report, field, value)
    if report.id is not None and not changes:
        return report
    report.reported_by_id, report.reported_at = by.id, clock.now()
    db.session.flush()
    _recompute_totals(project)
    _touch(project, by)
    db.session.flush()
    for field, title, old, new in changes:
        _event(project, by, EventKind.REPORT, field, title, old, new)
    db.session.flush()
    return report


class FundsOverTotal(ValueError):
    """Funds arrived would exceed the total investment: allowed only once the user confirms."""

    def __init__(self, project: Project, funds: Decimal):
        super().__init__(f"到位资金累计 {funds:.2f} 万元，超过总投资 {project.total_investment:.2f} 万元，请确认后再保存。")
        self.project = project
        self.funds = funds


# ---- Blockers (存在问题) ----

def add_blocker(project: Project, *, category: BlockerCategory | str, description: str, department: str,
                due_date: dt.date | None, escalated: bool, version: int | None, by: User) -> Blocker:
    _require_editor(project.county_code, by)
    _check_version(project, version)
    description = (description or "").strip()
    if not description:
        raise ProjectInvalid({"description": "请描述存在的问题。"})
    blocker = Blocker(project=project, category=BlockerCategory(category), description=description,
                      department=(department or "").strip(), due_date=due_date, escalated=bool(escalated),
                      created_by_id=by.id)
    db.session.add(blocker)
    _touch(project, by)
    db.session.flush()
    _event(project, by, EventKind.BLOCKER, "blocker", f"存在问题（{blocker.category.label}）", None, description,
           note="已提请挂钩领导协调" if blocker.escalated else "")
    db.session.flush()
    return blocker


def escalate_blocker(project: Project, blocker: Blocker, *, version: int | None, by: User) -> None:
    _require_editor(project.county_code, by)
    _check_version(project, version)
    if blocker.project_id != project.id:
        raise ProjectInvalid({"": "该问题不属于此项目。"})
    if not blocker.is_open or blocker.escalated:
        raise ProjectInvalid({"": "该问题已关闭或已提请挂钩领导协调。"})
    blocker.escalated = True
    _touch(project, by)
    db.session.flush()
    _event(project, by, EventKind.BLOCKER, "blocker", f"存在问题（{blocker.category.label}）·提请挂钩领导", False, True)
    db.session.flush()


def close_blocker(project: Project, blocker: Blocker, *, closing_note: str, version: int | None, by: User) -> None:
    _require_editor(project.county_code, by)
    _check_version(project, version)
    if blocker.project_id != project.id:
        raise ProjectInvalid({"": "该问题不属于此项目。"})
    if not blocker.is_open:
        raise ProjectInvalid({"closing_note": "该问题已经关闭。"})
    closing_note = (closing_note or "").strip()
    if not closing_note:
        raise ProjectInvalid({"closing_note": "关闭问题时请说明解决情况。"})
    blocker.closed_at, blocker.closing_note = clock.now(), closing_note
    _touch(project, by)
    db.session.flush()
    _event(project, by, EventKind.BLOCKER, "blocker", f"存在问题（{blocker.category.label}）", blocker.description,
           "已解决", note=closing_note)
    db.session.flush()


# ---- Signing events (签约活动) ----

def save_signing_event(event: SigningEvent | None, *, name: str, date: dt.date, place: str, organiser: str,
                       county_code: str | None, notes: str, by: User) -> SigningEvent:
    if by.role not in (Role.COMMERCE, Role.ADMIN):
        raise NotAllowed("只有市商务局和管理员可以维护签约活动。")
    name = (name or "").strip()
    if not name:
        raise ProjectInvalid({"name": "请填写活动名称。"})
    clash = db.session.scalar(select(SigningEvent).where(SigningEvent.name == name))
    if clash is not None and clash is not event:
        raise ProjectInvalid({"name": f"签约活动“{name}”已存在。"})
    if county_code and (db.session.get(County, county_code) is None):
        raise ProjectInvalid({"county_code": "请选择有效的县区。"})
    created = event is None
    event = event or SigningEvent()
    event.name, event.date, event.place = name, date, (place or "").strip()
    event.organiser, event.county_code, event.notes = (organiser or "").strip(), county_code or None, (notes or "").strip()
    db.session.add(event)
    db.session.flush()
    audit.record("signing_event", event.id, "created" if created else "updated", by, name=name, date=date)
    return event


# ---- Leads (招商线索) ----

LEAD_FIELD_LABELS = {
    "investor_name": "投资方", "investor_credit_code": "统一社会信用代码", "contact_person": "联系人",
    "contact_phone": "联系电话", "investor_origin": "投资方来源", "industry_id": "意向产业",
    "chain_node_id": "产业链环节", "county_code": "意向县区", "park_id": "意向园区",
    "estimated_investment": "预计投资（万元）", "source": "线索来源", "referrer": "引荐人",
    "owner_id": "负责人", "notes": "备注",
}
_LEAD_TEXT_FIELDS = ("contact_person", "contact_phone", "referrer", "notes")
# A lead moves one way; 放弃 is possible from any open status.
LEAD_TRANSITIONS = {
    LeadStatus.NEW: (LeadStatus.ASSESSING, LeadStatus.ABANDONED),
    LeadStatus.ASSESSING: (LeadStatus.NEGOTIATING, LeadStatus.ABANDONED),
    LeadStatus.NEGOTIATING: (LeadStatus.ABANDONED,),
    LeadStatus.SIGNED: (),
    LeadStatus.ABANDONED: (),
}


def find_duplicates(investor_name: str, credit_code: str | None, *, exclude_lead: Lead | None = None):
    """Leads and projects whose investor is the same: same credit code, or the same normalised name."""
    key = company_key(investor_name)
    code = (credit_code or "").strip().upper() or None
    lead_match = Lead.investor_key == key
    project_match = Project.investor_key == key
    if code:
        lead_match = lead_match | (Lead.investor_credit_code == code)
        project_match = project_match | (Project.investor_credit_code == code)
    leads = select(Lead).where(lead_match).order_by(Lead.id)
    if exclude_lead is not None and exclude_lead.id is not None:
        leads = leads.where(Lead.id != exclude_lead.id)
    return (list(db.session.scalars(leads.limit(20))),
            list(db.session.scalars(select(Project).where(project_match).order_by(Project.id).limit(20))))


class DuplicateInvestor(ValueError):
    """The investor matches existing leads or projects; saving needs a reason."""

    def __init__(self, leads, projects):
        super().__init__("投资方与已有线索或项目重复。")
        self.leads, self.projects = leads, projects


def _clean_lead(data: dict) -> dict:
    cleaned = {}
    for field in LEAD_FIELD_LABELS:
        value = data.get(field)
        if isinstance(value, str) and field not in ("source", "investor_origin"):
            value = value.strip()
            if value == "" and field not in _LEAD_TEXT_FIELDS:
                value = None
        cleaned[field] = value
    for field in _LEAD_TEXT_FIELDS:
        cleaned[field] = cleaned[field] or ""
    for field, enum_cls in (("source", LeadSource), ("investor_origin", InvestorOrigin)):
        if cleaned.get(field) not in (None, ""):
            try:
                cleaned[field] = enum_cls(cleaned[field])
            except ValueError:
                raise ProjectInvalid({field: f"“{LEAD_FIELD_LABELS[field]}”的取值无效。"}) from None
        else:
            cleaned[field] = None
    if cleaned.get("investor_credit_code"):
        cleaned["investor_credit_code"] = cleaned["investor_credit_code"].upper()
    return cleaned


def _validate_lead(data: dict) -> dict[str, str]:
    errors = {}
    if not data.get("investor_name"):
        errors["investor_name"] = "请填写投资方。"
    if data.get("source") is None:
        errors["source"] = "请选择线索来源。"
    if data.get("investor_credit_code"):
        problem = credit_code_problem(data["investor_credit_code"])
        if problem:
            errors["investor_credit_code"] = problem
    county = db.session.get(County, data["county_code"]) if data.get("county_code") else None
    if data.get("county_code") and (county is None or not county.is_current):
        errors["county_code"] = "请选择有效的县区。"
    if data.get("park_id"):
        park = db.session.get(Park, data["park_id"])
        if park is None:
            errors["park_id"] = "园区不存在。"
        elif county is not None and park.county_code != county.code:
            errors["park_id"] = f"园区“{park.name}”不在{county.name}。"
    if data.get("chain_node_id"):
        node = db.session.get(ChainNode, data["chain_node_id"])
        if node is None or not data.get("industry_id") or node.chain.industry_id != data["industry_id"]:
            errors["chain_node_id"] = "产业链环节须属于所选产业。"
    if data.get("owner_id"):
        owner = db.session.get(User, data["owner_id"])
        if owner is None or owner.role not in (Role.COMMERCE, Role.COUNTY, Role.ADMIN) or not owner.is_enabled:
            errors["owner_id"] = "负责人须为在用的商务局、县区或管理员账号。"
    if data.get("estimated_investment") is not None and data["estimated_investment"] < 0:
        errors["estimated_investment"] = "预计投资不能为负数。"
    return errors


def _require_lead_editor(lead_county: str | None, by: User) -> None:
    if not by.can_edit_projects:
        raise NotAllowed("您没有维护招商线索的权限。")
    if by.role is Role.COUNTY and lead_county != by.county_code:
        raise NotAllowed("只能维护本县区的招商线索。")


def _lead_event(lead: Lead, by: User, action: str, **detail) -> None:
    audit.record("lead", lead.id, action, by, version=lead.version, **detail)


def create_lead(data: dict, *, by: User, duplicate_reason: str = "") -> Lead:
    """Log a lead; when its investor matches an existing lead or project a reason is required."""
    if not by.can_edit_projects:
        raise NotAllowed("您没有登记招商线索的权限。")
    data = _clean_lead(data)
    if by.role is Role.COUNTY:
        data["county_code"] = by.county_code
    errors = _validate_lead(data)
    if errors:
        raise ProjectInvalid(errors)
    duplicate_reason = (duplicate_reason or "").strip()
    leads, projects = find_duplicates(data["investor_name"], data.get("investor_credit_code"))
    if (leads or projects) and not duplicate_reason:
        raise DuplicateInvestor(leads, projects)
    if data.get("owner_id") is None:
        data["owner_id"] = by.id
    lead = Lead(created_by_id=by.id, investor_key=company_key(data["investor_name"]),
                duplicate_note=duplicate_reason if (leads or projects) else "", **data)
    db.session.add(lead)
    db.session.flush()
    _lead_event(lead, by, "created", fields={LEAD_FIELD_LABELS[k]: display(k, v) for k, v in data.items()
                                             if v not in (None, "")}, duplicate_note=lead.duplicate_note)
    return lead


def update_lead(lead: Lead, data: dict, *, version: int | None, by: User) -> list[str]:
    _require_lead_editor(lead.county_code, by)
    if version is None or int(version) != lead.version:
        raise LeadConflict(lead, int(version or 0))
    if lead.status in (LeadStatus.SIGNED, LeadStatus.ABANDONED):
        raise ProjectInvalid({"": f"“{lead.status.label}”的线索不能再修改。"})
    data = _clean_lead(data)
    if by.role is Role.COUNTY:
        data["county_code"] = lead.county_code
    errors = _validate_lead(data)
    if errors:
        raise ProjectInvalid(errors)
    changes = {field: (getattr(lead, field), value) for field, value in data.items() if getattr(lead, field) != value}
    if not changes:
        return []
    for field, (_, value) in changes.items():
        setattr(lead, field, value)
    lead.investor_key = company_key(lead.investor_name)
    lead.updated_at = clock.now()
    db.session.flush()
    _lead_event(lead, by, "updated", changes={LEAD_FIELD_LABELS[f]: [display(f, o), display(f, n)]
                                              for f, (o, n) in changes.items()})
    return [LEAD_FIELD_LABELS[f] for f in changes]


class LeadConflict(Exception):
    """The lead changed since the user loaded it."""

    def __init__(self, lead: Lead, seen_version: int):
        super().__init__(f"lead {lead.id} is at version {lead.version}, form had {seen_version}")
        self.lead, self.seen_version = lead, seen_version


def change_lead_status(lead: Lead, target: LeadStatus | str, *, reason: str = "", version: int | None,
                       by: User) -> None:
    _require_lead_editor(lead.county_code, by)
    if version is None or int(version) != lead.version:
        raise LeadConflict(lead, int(version or 0))
    try:
        target = LeadStatus(target)
    except ValueError:
        raise ProjectInvalid({"status": "未知的线索状态。"}) from None
    if target is LeadStatus.SIGNED:
        raise ProjectInvalid({"status": "签约请使用“转为项目”，以便同时登记项目。"})
    if target not in LEAD_TRANSITIONS[lead.status]:
        raise ProjectInvalid({"status": f"线索不能从“{lead.status.label}”变为“{target.label}”。"})
    reason = (reason or "").strip()
    if target is LeadStatus.ABANDONED:
        if not reason:
            raise ProjectInvalid({"reason": "放弃线索必须填写原因。"})
        lead.abandon_reason = reason
    old = lead.status
    lead.status, lead.status_changed_at, lead.updated_at = target, clock.now(), clock.now()
    db.session.flush()
    _lead_event(lead, by, "status", old=old.label, new=target.label, reason=reason)


def add_follow_up(lead: Lead, *, date: dt.date, kind: FollowUpKind | str, summary: str, next_step: str,
                  next_due: dt.date | None, by: User) -> FollowUp:
    """Log a follow-up; a new lead's first follow-up answers its first-response clock."""
    _require_lead_editor(lead.county_code, by)
    if lead.status in (LeadStatus.SIGNED, LeadStatus.ABANDONED):
        raise ProjectInvalid({"": f"“{lead.status.label}”的线索不再跟进。"})
    summary = (summary or "").strip()
    errors = {}
    if not summary:
        errors["summary"] = "请填写跟进情况。"
    if date > clock.today():
        errors["date"] = "跟进日期不能晚于今天。"
    if date < lead.created_at.astimezone(clock.LOCAL_TZ).date():
        errors["date"] = "跟进日期不能早于线索登记日期。"
    if next_due is not None and next_due < date:
        errors["next_due"] = "下一步的期限不能早于本次跟进日期。"
    if errors:
        raise ProjectInvalid(errors)
    follow_up = FollowUp(lead=lead, date=date, kind=FollowUpKind(kind), summary=summary,
                         next_step=(next_step or "").strip(), next_due=next_due, created_by_id=by.id)
    db.session.add(follow_up)
    lead.updated_at = clock.now()
    db.session.flush()
    _lead_event(lead, by, "follow_up", date=date, kind=follow_up.kind.label, summary=summary)
    return follow_up


def convert_lead(lead: Lead, data: dict, *, version: int | None, by: User) -> Project:
    """Sign a lead: create its project with everything carried over, and link the two (once)."""
    _require_lead_editor(lead.county_code, by)
    if lead.project_id is not None or lead.status is LeadStatus.SIGNED:
        raise ProjectInvalid({"": "该线索已经转为项目，不能重复转换。"})
    if version is None or int(version) != lead.version:
        raise LeadConflict(lead, int(version or 0))
    if lead.status is LeadStatus.ABANDONED:
        raise ProjectInvalid({"": "已放弃的线索不能转为项目。"})
    carried = {"investor_name": lead.investor_name, "investor_credit_code": lead.investor_credit_code,
               "investor_origin": lead.investor_origin, "county_code": lead.county_code, "park_id": lead.park_id,
               "industry_id": lead.industry_id, "chain_node_id": lead.chain_node_id,
               "total_investment": lead.estimated_investment,
               "notes": f"由招商线索 #{lead.id} 转入。" + (f"\n{lead.notes}" if lead.notes else "")}
    carried.update({k: v for k, v in data.items() if v not in (None, "")})
    project = create_project(carried, by=by, stage=Stage.SIGNED)
    old = lead.status
    lead.project_id, lead.status = project.id, LeadStatus.SIGNED
    lead.status_changed_at = lead.updated_at = clock.now()
    db.session.flush()
    _lead_event(lead, by, "converted", project_id=project.id, old=old.label, new=LeadStatus.SIGNED.label)
    _event(project, by, EventKind.CREATED, "lead", "来源线索", None, f"#{lead.id} {lead.investor_name}")
    db.session.flush()
    return project
