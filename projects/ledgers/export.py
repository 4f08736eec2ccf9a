"""The ledger export: which county it covers, one plain row per project the user may see in the ledger's order, the
workbook and its file name."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from core import clock, logs
from core.auth.models import County, Role, User
from core.db import db
from parks.models import Industry, Park
from projects.events.models import SigningEvent
from projects.models import CONSTRUCTION_PERMIT, ApprovalItem, ApprovalItemType, ApprovalStatus, Project
from projects.queries import visible_projects
from projects.reports.models import Blocker

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_county(user: User, asked: County | None) -> str | None:
    """The county an export covers: a county official's own whatever they asked for; else the county asked for
    (None: the whole city)."""
    if user.role is Role.COUNTY:
        return user.county_code
    return asked.code if asked is not None else None


def ledger_workbook(code: str | None, *, user: User) -> tuple[bytes, str]:
    """The ledger (.xlsx) of ``code``'s projects that ``user`` may see, and its file name; the export is logged."""
    from .excel import export_ledger  # pandas loads only when a workbook is asked for

    rows = export_rows(code, user=user)
    body = export_ledger(rows, title=export_title(code))
    logs.event("ledger_exported", scope=code or "all", rows=len(rows))
    return body, f"ledger-{code or 'all'}.xlsx"


def export_rows(county_code: str | None = None, *, user: User | None = None) -> list[dict]:
    """One plain dict per project (a county official's own county only), in the ledger's order.

    Columns are selected, not objects loaded, so 10,000 projects export in a few queries."""
    leader = aliased(User)
    query = visible_projects(user) if user is not None else select(Project)
    if county_code:
        query = query.where(Project.county_code == county_code)
    query = (query.outerjoin(County, County.code == Project.county_code)
             .outerjoin(Park, Park.id == Project.park_id).outerjoin(Industry, Industry.id == Project.industry_id)
             .outerjoin(SigningEvent, SigningEvent.id == Project.signing_event_id)
             .outerjoin(leader, leader.id == Project.hooked_leader_id)
             .with_only_columns(Project.id, Project.name, Project.investor_name, County.name, Park.name, Industry.name,
                                Project.total_investment, Project.sign_type, Project.sign_date, SigningEvent.name,
                                Project.stage, Project.project_code, Project.planned_start, Project.actual_start,
                                Project.actual_completion, Project.actual_production, Project.investment_completed,
                                leader.display_name, leader.username, Project.responsible_unit)
             .order_by(County.position, Project.county_code, Project.sign_date, Project.id))
    permits = dict(db.session.execute(
        select(ApprovalItem.project_id, ApprovalItem.done_date).join(ApprovalItemType)
        .where(ApprovalItemType.name == CONSTRUCTION_PERMIT, ApprovalItem.status == ApprovalStatus.DONE)).all())
    blockers: dict[int, list[str]] = {}
    for pid, text in db.session.execute(select(Blocker.project_id, Blocker.description)
                                        .where(Blocker.closed_at.is_(None)).order_by(Blocker.id)):
        blockers.setdefault(pid, []).append(text)
    rows = []
    for (pid, name, investor, county, park, industry, total, sign_type, sign_date, event, stage, code, planned_start,
         actual_start, actual_completion, actual_production, completed, leader_name, leader_user, unit) \
            in db.session.execute(query):
        rows.append({"name": name, "investor_name": investor, "county": county, "park": park, "industry": industry,
                     "total_investment": total, "sign_type": sign_type.label if sign_type else None,
                     "sign_date": sign_date, "event": event, "stage": stage.label, "project_code": code,
                     "permit_date": permits.get(pid), "planned_start": planned_start, "actual_start": actual_start,
                     "actual_completion": actual_completion, "actual_production": actual_production,
                     "completed": completed, "leader": leader_name or leader_user, "responsible_unit": unit or None,
                     "blocker": "；".join(blockers.get(pid, [])) or None})
    return rows


def export_title(county_code: str | None) -> str:
    county = db.session.get(County, county_code) if county_code else None
    where = f"三明市{county.name}" if county else "三明市"
    return f"{where}招商引资项目推进台账（截至{clock.today():%Y年%m月%d日}）"
