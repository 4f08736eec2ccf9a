"""Writing leads: log one (warning of a known investor), edit, follow up, move its status, sign it into a project."""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import exists, select

from core import audit, clock
from core.auth.models import County, Role, User
from core.db import db
from core.errors import Conflict, InvalidInput, NotAllowed
from core.inputs import check_area
from core.validators import company_key, credit_code_problem
from parks.models import ChainNode, Park
from projects import rules
from projects import services as project_services
from projects.models import EventKind, InvestorOrigin, Project, can_edit_projects
from projects.queries import visible_projects
from projects.rules import ProjectInvalid
from projects.stages import Stage

from .models import FollowUp, FollowUpKind, Lead, LeadSource, LeadStatus
from .queries import visible_leads

LEAD_FIELD_LABELS = {
    "investor_name": "投资方", "investor_credit_code": "统一社会信用代码", "contact_person": "联系人",
    "contact_phone": "联系电话", "investor_origin": "投资方来源", "industry_id": "意向产业",
    "chain_node_id": "产业链环节", "county_code": "意向县区", "park_id": "意向园区",
    "estimated_investment": "预计投资（万元）", "land_needed": "用地需求（亩）",
    "factory_space_needed": "标准厂房需求（m²）", "source": "线索来源", "referrer": "引荐人",
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


class Duplicates(NamedTuple):
    """Matches for an investor: the leads and projects ``user`` may see, and whether any lie outside their scope."""

    leads: list[Lead]
    projects: list[Project]
    elsewhere: bool  # a match in another county (or the city's own leads) that a county official may not see

    def __bool__(self) -> bool:
        return bool(self.leads or self.projects or self.elsewhere)


def find_duplicates(investor_name: str, credit_code: str | None, *, user: User,
                    exclude_lead: Lead | None = None) -> Duplicates:
    """Leads and projects whose investor is the same: same credit code, or the same normalised name.

    A county official gets only their county's by name; of any other they learn only that it exists."""
    key = company_key(investor_name)
    code = (credit_code or "").strip().upper() or None
    lead_match = Lead.investor_key == key
    project_match = Project.investor_key == key
    if code:
        lead_match = lead_match | (Lead.investor_credit_code == code)
        project_match = project_match | (Project.investor_credit_code == code)
    if exclude_lead is not None and exclude_lead.id is not None:
        lead_match = lead_match & (Lead.id != exclude_lead.id)
    leads = list(db.session.scalars(visible_leads(user).where(lead_match).order_by(Lead.id).limit(20)))
    projects = list(db.session.scalars(visible_projects(user).where(project_match).order_by(Project.id).limit(20)))
    elsewhere = False
    if user.role is Role.COUNTY:
        outside = (Lead.county_code.is_(None)) | (Lead.county_code != user.county_code)
        elsewhere = bool(db.session.scalar(select(
            exists().where(lead_match, outside) | exists().where(project_match, Project.county_code != user.county_code))))
    return Duplicates(leads, projects, elsewhere)


class DuplicateInvestor(InvalidInput):
    """The investor matches existing leads or projects; saving needs a reason."""

    def __init__(self, duplicates: Duplicates):
        super().__init__(errors={"duplicate_reason": "确属新线索（如集团的第二个项目）时，请填写理由后再保存。"})
        self.leads, self.projects, self.elsewhere = duplicates


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
    for field, unit in (("land_needed", "亩"), ("factory_space_needed", "m²")):
        if data.get(field) is not None:
            try:
                data[field] = check_area(data[field], LEAD_FIELD_LABELS[field], unit)
            except ValueError as problem:
                errors[field] = str(problem)
    return errors


def _require_lead_editor(lead_county: str | None, by: User) -> None:
    if not can_edit_projects(by):
        raise NotAllowed("您没有维护招商线索的权限。")
    if by.role is Role.COUNTY and lead_county != by.county_code:
        raise NotAllowed("只能维护本县区的招商线索。")


def _lead_event(lead: Lead, by: User, action: str, **detail) -> None:
    audit.record("lead", lead.id, action, by, version=lead.version, **detail)


def create_lead(data: dict, *, by: User, duplicate_reason: str = "") -> Lead:
    """Log a lead; when its investor matches an existing lead or project a reason is required."""
    if not can_edit_projects(by):
        raise NotAllowed("您没有登记招商线索的权限。")
    data = _clean_lead(data)
    if by.role is Role.COUNTY:
        data["county_code"] = by.county_code
    errors = _validate_lead(data)
    if errors:
        raise ProjectInvalid(errors)
    duplicate_reason = (duplicate_reason or "").strip()
    duplicates = find_duplicates(data["investor_name"], data.get("investor_credit_code"), user=by)
    if duplicates and not duplicate_reason:
        raise DuplicateInvestor(duplicates)
    if data.get("owner_id") is None:
        data["owner_id"] = by.id
    lead = Lead(created_by_id=by.id, investor_key=company_key(data["investor_name"]),
                duplicate_note=duplicate_reason if duplicates else "", **data)
    db.session.add(lead)
    db.session.flush()
    _lead_event(lead, by, "created", fields={LEAD_FIELD_LABELS[k]: rules.display(k, v) for k, v in data.items()
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
    _lead_event(lead, by, "updated", changes={LEAD_FIELD_LABELS[f]: [rules.display(f, o), rules.display(f, n)]
                                              for f, (o, n) in changes.items()})
    return [LEAD_FIELD_LABELS[f] for f in changes]


class LeadConflict(Conflict):
    """The lead changed since the user loaded it."""

    def __init__(self, lead: Lead, seen_version: int):
        super().__init__("该线索已被他人修改，您的修改未保存。请查看最新内容后重新编辑。")
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
    if date < clock.local_date(lead.created_at):
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
               "total_investment": lead.estimated_investment, "land_area": lead.land_needed,
               "notes": f"由招商线索 #{lead.id} 转入。" + (f"\n{lead.notes}" if lead.notes else "")}
    carried.update({k: v for k, v in data.items() if v not in (None, "")})
    project = project_services.create_project(carried, by=by, stage=Stage.SIGNED)
    old = lead.status
    lead.project_id, lead.status = project.id, LeadStatus.SIGNED
    lead.status_changed_at = lead.updated_at = clock.now()
    db.session.flush()
    _lead_event(lead, by, "converted", project_id=project.id, old=old.label, new=LeadStatus.SIGNED.label)
    project_services.record_event(project, by, EventKind.CREATED, "lead", "来源线索", None, f"#{lead.id} {lead.investor_name}")
    db.session.flush()
    return project
