"""Projects queries room: the one place projects are scoped to a user's county, plus list filters."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, and_, case, exists, extract, func, literal, or_, select
from sqlalchemy.orm import aliased, selectinload

from core import logs
from core.auth.models import County, Role, User
from core.db import db

from .models import (ApprovalItem, Blocker, FollowUp, Lead, LeadStatus, Milestone, ProgressReport, Project,
                     ProjectEvent)
from .stages import YELLOW_WINDOW_DAYS, Light, SignType, Stage

PAGE_SIZE = 50


def visible_projects(user: User) -> Select:
    """Projects ``user`` may see: a county official only their own county's, everyone else all."""
    query = select(Project)
    if user.role is Role.COUNTY:
        query = query.where(Project.county_code == user.county_code)
    return query


def get_project_or_404(project_id: int, user: User, *, for_edit: bool = False) -> Project:
    """A project the user may see (another county's is 404, so ids cannot be probed);
    ``for_edit`` also requires write access (a leader gets 403)."""
    project = db.session.scalar(visible_projects(user).where(Project.id == project_id))
    if project is None:
        _not_found(Project, project_id, user)
    if for_edit and not project.editable_by(user):
        abort(403)
    return project


def project_detail(project_id: int, user: User) -> Project:
    project = db.session.scalar(
        visible_projects(user).where(Project.id == project_id).options(
            selectinload(Project.approvals).selectinload(ApprovalItem.type),
            selectinload(Project.milestones),
            selectinload(Project.events).selectinload(ProjectEvent.user),
            selectinload(Project.county), selectinload(Project.park), selectinload(Project.industry),
            selectinload(Project.chain_node), selectinload(Project.hooked_leader),
            selectinload(Project.updated_by)))
    if project is None:
        _not_found(Project, project_id, user)
    return project


def _not_found(model, row_id: int, user: User):
    """404; when the row exists in another county, log the refusal (one more query, on this path only)."""
    if user.role is Role.COUNTY and db.session.get(model, row_id) is not None:
        logs.event("access_denied", "refused", reason="county", entity=model.__tablename__, entity_id=row_id)
    abort(404)


def light_expression(today: dt.date):
    """SQL for a project's light, agreeing with Project.light: red, yellow or green."""
    soon = today + dt.timedelta(days=YELLOW_WINDOW_DAYS)
    pairs = [(Project.planned_start, Project.actual_start),
             (Project.planned_completion, Project.actual_completion),
             (Project.planned_production, Project.actual_production)]

    def overdue(planned, actual):
        return and_(actual.is_(None), planned.is_not(None), planned < today)

    def due_soon(planned, actual):
        return and_(actual.is_(None), planned.is_not(None), planned >= today, planned <= soon)

    open_milestones = select(Milestone.id).where(Milestone.project_id == Project.id,
                                                 Milestone.actual_date.is_(None))
    red = or_(*(overdue(p, a) for p, a in pairs),
              exists(open_milestones.where(Milestone.planned_date < today)))
    yellow = or_(*(due_soon(p, a) for p, a in pairs),
                 exists(open_milestones.where(Milestone.planned_date >= today,
                                              Milestone.planned_date <= soon)))
    live = Project.stage != Stage.DROPPED
    return case((and_(live, red), literal(Light.RED.value)),
                (and_(live, yellow), literal(Light.YELLOW.value)),
                else_=literal(Light.GREEN.value))


def light_rank(light_sql):
    return case((light_sql == Light.RED.value, 2), (light_sql == Light.YELLOW.value, 1), else_=0)


@dataclass
class ListFilters:
    county: str | None = None
    park: int | None = None
    industry: int | None = None
    stage: Stage | None = None
    sign_type: SignType | None = None
    year: int | None = None
    major: bool = False
    light: Light | None = None
    q: str = ""
    sort: str = ""
    event: int | None = None  # the signing event (签约活动) that first signed the project


SORTS = {
    "updated": "最近更新",
    "light": "亮灯（红黄在前）",
    "investment": "总投资（大到小）",
    "sign_date": "签约日期（新到旧）",
    "name": "项目名称",
}


def default_sort(user: User) -> str:
    return "light" if user.role is Role.COUNTY else "updated"


def filtered_projects(user: User, filters: ListFilters, today: dt.date) -> tuple[Select, object]:
    """The user's visible projects narrowed by ``filters``, and the light expression used."""
    light = light_expression(today)
    query = visible_projects(user)
    if filters.county:
        query = query.where(Project.county_code == filters.county)
    if filters.park:
        query = query.where(Project.park_id == filters.park)
    if filters.industry:
        query = query.where(Project.industry_id == filters.industry)
    if filters.stage:
        query = query.where(Project.stage == filters.stage)
    if filters.sign_type:
        query = query.where(Project.sign_type == filters.sign_type)
    if filters.year:
        query = query.where(extract("year", Project.sign_date) == filters.year)
    if filters.major:
        query = query.where(Project.is_major.is_(True))
    if filters.light:
        query = query.where(light == filters.light.value)
    if filters.event:
        query = query.where(Project.signing_event_id == filters.event)
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(or_(Project.name.ilike(pattern, escape="\\"),
                                Project.investor_name.ilike(pattern, escape="\\")))
    return query, light


def list_page(user: User, filters: ListFilters, page: int, today: dt.date):
    """One page of rows (project, light) plus totals for the whole filtered set."""
    query, light = filtered_projects(user, filters, today)
    sort = filters.sort if filters.sort in SORTS else default_sort(user)
    order = {
        "updated": [Project.updated_at.desc()],
        "light": [light_rank(light).desc(), Project.updated_at.desc()],
        "investment": [Project.total_investment.desc()],
        "sign_date": [Project.sign_date.desc().nulls_last()],
        "name": [Project.name],
    }[sort] + [Project.id.desc()]
    count, total = db.session.execute(query.with_only_columns(
        func.count(), func.coalesce(func.sum(Project.total_investment), 0))).one()
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        query.add_columns(light.label("light")).order_by(*order)
        .options(selectinload(Project.county), selectinload(Project.park), selectinload(Project.industry))
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return {"rows": [(project, Light(light_value)) for project, light_value in rows],
            "count": count, "total": total, "page": page, "pages": pages, "sort": sort}


def sign_years(user: User) -> list[int]:
    year = extract("year", Project.sign_date)
    query = visible_projects(user).with_only_columns(year).where(Project.sign_date.is_not(None)).distinct()
    return sorted((int(y) for y in db.session.scalars(query)), reverse=True)


# ---- Leads ----

def visible_leads(user: User) -> Select:
    """Leads ``user`` may see: a county official only those meant for their county."""
    query = select(Lead)
    if user.role is Role.COUNTY:
        query = query.where(Lead.county_code == user.county_code)
    return query


def get_lead_or_404(lead_id: int, user: User, *, for_edit: bool = False) -> Lead:
    lead = db.session.scalar(visible_leads(user).where(Lead.id == lead_id))
    if lead is None:
        _not_found(Lead, lead_id, user)
    if for_edit and not lead.editable_by(user):
        abort(403)
    return lead


@dataclass(frozen=True)
class LeadClocks:
    """Response deadlines for leads, in days (configurable: LEAD_*_DAYS)."""

    first_response: int = 1
    assess: int = 3
    follow_up: int = 14

    @classmethod
    def from_config(cls, config) -> LeadClocks:
        return cls(first_response=config.get("LEAD_FIRST_RESPONSE_DAYS", 1),
                   assess=config.get("LEAD_ASSESS_DAYS", 3),
                   follow_up=config.get("LEAD_FOLLOW_UP_DAYS", 14))


OVERDUE_LABELS = {
    "first_response": "首次响应超时",
    "assess": "研判超时",
    "follow_up": "跟进间隔超时",
    "next_due": "下一步已到期",
}


def lead_overdue_columns(clocks: LeadClocks, now: dt.datetime, today: dt.date) -> dict:
    """SQL flags, one per clock, that are true when a lead has missed that deadline."""
    any_follow_up = exists(select(FollowUp.id).where(FollowUp.lead_id == Lead.id))
    last_follow_up = select(func.max(FollowUp.date)).where(FollowUp.lead_id == Lead.id).scalar_subquery()
    latest_next_due = (select(FollowUp.next_due).where(FollowUp.lead_id == Lead.id)
                       .order_by(FollowUp.date.desc(), FollowUp.id.desc()).limit(1).scalar_subquery())
    is_new = Lead.status == LeadStatus.NEW
    open_status = Lead.status.in_([LeadStatus.NEW, LeadStatus.ASSESSING, LeadStatus.NEGOTIATING])
    return {
        "first_response": and_(is_new, ~any_follow_up,
                               Lead.created_at < now - dt.timedelta(days=clocks.first_response)),
        "assess": and_(is_new, Lead.created_at < now - dt.timedelta(days=clocks.assess)),
        # Quiet for too long: neither a follow-up nor the move to 在谈 within the window.
        "follow_up": and_(Lead.status == LeadStatus.NEGOTIATING,
                          Lead.status_changed_at < now - dt.timedelta(days=clocks.follow_up),
                          or_(last_follow_up.is_(None), last_follow_up < today - dt.timedelta(days=clocks.follow_up))),
        "next_due": and_(open_status, latest_next_due.is_not(None), latest_next_due < today),
    }


def leads_with_flags(user: User, clocks: LeadClocks, now: dt.datetime, today: dt.date, *,
                     status: LeadStatus | None = None, overdue_only: bool = False, owner_id: int | None = None,
                     q: str = "", limit: int | None = None, lead_id: int | None = None):
    """Rows of (lead, [overdue labels]) the user may see, newest first, overdue ones first."""
    flags = lead_overdue_columns(clocks, now, today)
    any_overdue = or_(*flags.values())
    query = visible_leads(user).add_columns(*(flag.label(name) for name, flag in flags.items()))
    if status is not None:
        query = query.where(Lead.status == status)
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    if lead_id is not None:
        query = query.where(Lead.id == lead_id)
    if overdue_only:
        query = query.where(any_overdue)
    if q:
        query = query.where(Lead.investor_name.ilike(_like(q), escape="\\"))
    query = query.order_by(case((any_overdue, 0), else_=1), Lead.created_at.desc(), Lead.id.desc()) \
        .options(selectinload(Lead.owner), selectinload(Lead.county), selectinload(Lead.industry))
    if limit:
        query = query.limit(limit)
    rows = []
    for row in db.session.execute(query):
        lead, values = row[0], row[1:]
        rows.append((lead, [OVERDUE_LABELS[name] for name, value in zip(flags, values) if value]))
    return rows


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def follow_ups_due(user: User, today: dt.date, *, within_days: int = 3, owner_id: int | None = None):
    """Open leads whose latest follow-up's next step is due within ``within_days`` (or overdue)."""
    inner = aliased(FollowUp)
    latest = (select(inner.id).where(inner.lead_id == Lead.id)
              .order_by(inner.date.desc(), inner.id.desc()).limit(1).correlate(Lead).scalar_subquery())
    query = (visible_leads(user).join(FollowUp, FollowUp.id == latest).add_columns(FollowUp)
             .where(Lead.status.in_([LeadStatus.NEW, LeadStatus.ASSESSING, LeadStatus.NEGOTIATING]),
                    FollowUp.next_due.is_not(None),
                    FollowUp.next_due <= today + dt.timedelta(days=within_days))
             .order_by(FollowUp.next_due))
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    return db.session.execute(query).all()


# ---- Signing events ----

def cohort_figures(user: User, event_id: int) -> dict:
    """Conversion figures for the projects an event signed (only those the user may see)."""
    scoped = visible_projects(user).where(Project.signing_event_id == event_id).subquery()
    p = scoped.c
    contract = p.signed_as == SignType.CONTRACT.value
    agreement = p.signed_as == SignType.AGREEMENT.value
    row = db.session.execute(select(
        func.count(),
        func.coalesce(func.sum(p.total_investment), 0),
        func.count().filter(contract),
        func.count().filter(and_(contract, p.actual_start.is_not(None))),
        func.count().filter(agreement),
        func.count().filter(and_(agreement, p.contract_date.is_not(None))),
        func.count().filter(p.stage == Stage.PRODUCING.value),
        func.count().filter(p.actual_start.is_not(None)),
        func.count().filter(p.is_capital_increase.is_(True)),
    ).select_from(scoped)).one()
    signed, total, contracts, contracts_started, agreements, converted, producing, started, increases = row

    def rate(part, whole):
        return None if not whole else part / whole

    return {"signed": signed, "total_investment": total, "contracts": contracts, "started": started,
            "contracts_started": contracts_started, "agreements": agreements, "converted": converted,
            "producing": producing, "capital_increases": increases,
            "start_rate": rate(contracts_started, contracts), "conversion_rate": rate(converted, agreements),
            "production_rate": rate(producing, signed)}


# ---- Monthly reports ----

REPORTING_STAGE_VALUES = [Stage.SIGNED, Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING]


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def due_for_month(month: dt.date):
    """SQL condition: a project that must report for ``month`` (signed by then, not yet past production)."""
    return and_(Project.stage.in_(REPORTING_STAGE_VALUES),
                Project.sign_date.is_not(None), Project.sign_date < next_month(month),
                or_(Project.actual_production.is_(None), Project.actual_production >= month))


def reported_in(month: dt.date):
    return exists(select(ProgressReport.id).where(ProgressReport.project_id == Project.id,
                                                  ProgressReport.month == month))


def completeness_by_county(month: dt.date) -> list[dict]:
    """Per county: projects due to report for the month and how many have — the city's scoreboard."""
    due = func.count(Project.id)
    done = func.count(Project.id).filter(reported_in(month))
    rows = db.session.execute(
        select(County.code, County.name, due, done)
        .select_from(County).outerjoin(Project, and_(Project.county_code == County.code, due_for_month(month)))
        .where(County.successor_code.is_(None)).group_by(County.code, County.name, County.position)
        .order_by(County.position)).all()
    board = [{"code": code, "name": name, "due": due_count, "reported": done_count,
              "rate": (done_count / due_count) if due_count else None} for code, name, due_count, done_count in rows]
    ranked = sorted(board, key=lambda r: (-(r["rate"] if r["rate"] is not None else -1), r["code"]))
    rank, previous = 0, object()
    for position, row in enumerate(ranked, start=1):
        if row["rate"] != previous:  # equal rates share a rank (1, 1, 3): the division code decides nothing
            rank, previous = position, row["rate"]
        row["rank"] = rank
    return board


def projects_due_for_month(user: User, month: dt.date, *, county: str | None = None):
    """(project, report or None) for every project of the user's scope that must report for ``month``."""
    query = visible_projects(user).where(due_for_month(month))
    if county:
        query = query.where(Project.county_code == county)
    report = aliased(ProgressReport)
    query = (query.outerjoin(report, and_(report.project_id == Project.id, report.month == month))
             .add_columns(report).order_by(Project.county_code, Project.name, Project.id)
             .options(selectinload(Project.county)))
    return db.session.execute(query).all()


def missing_reports(user: User, month: dt.date, *, limit: int = 50):
    query = (visible_projects(user).where(due_for_month(month), ~reported_in(month))
             .order_by(Project.county_code, Project.name).options(selectinload(Project.county)))
    return db.session.scalars(query.limit(limit)).all(), db.session.scalar(
        visible_projects(user).where(due_for_month(month), ~reported_in(month))
        .with_only_columns(func.count()).order_by(None))


# ---- Blockers and the to-do page ----

def open_blockers(user: User, *, park_id: int | None = None, leader_id: int | None = None, limit: int = 50):
    query = (select(Blocker).join(Project, Blocker.project_id == Project.id).where(Blocker.closed_at.is_(None))
             .order_by(Blocker.due_date.is_(None), Blocker.due_date, Blocker.id)
             .options(selectinload(Blocker.project).selectinload(Project.county)))
    if user.role is Role.COUNTY:
        query = query.where(Project.county_code == user.county_code)
    if park_id is not None:
        query = query.where(Project.park_id == park_id)
    if leader_id is not None:
        query = query.where(Project.hooked_leader_id == leader_id)
    return db.session.scalars(query.limit(limit)).all()


def lit_projects(user: User, today: dt.date, lights=(Light.RED, Light.YELLOW), *, leader_id: int | None = None,
                 limit: int = 50):
    """Projects with the given lights (red first), with their light."""
    light = light_expression(today)
    query = visible_projects(user).add_columns(light.label("light"))
    if lights:
        query = query.where(light.in_([value.value for value in lights]))
    if leader_id is not None:
        query = query.where(Project.hooked_leader_id == leader_id)
    query = (query.order_by(light_rank(light).desc(), Project.updated_at.desc(), Project.id)
             .options(selectinload(Project.county)).limit(limit))
    return [(project, Light(value)) for project, value in db.session.execute(query)]


def park_summary(user: User, park_id: int) -> dict:
    """How many of the user's visible projects sit in the park, by stage, and their investment."""
    rows = db.session.execute(visible_projects(user).where(Project.park_id == park_id)
                              .with_only_columns(Project.stage, func.count(), func.coalesce(func.sum(Project.total_investment), 0))
                              .group_by(Project.stage)).all()
    by_stage = {Stage(stage): (count, total) for stage, count, total in rows}
    return {"by_stage": [(stage, *by_stage[stage]) for stage in Stage if stage in by_stage],
            "count": sum(count for count, _ in by_stage.values()),
            "total": sum((total for _, total in by_stage.values()), 0)}
