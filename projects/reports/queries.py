"""Reading reports and blockers: who must report for a month, the counties' board, a project's reports and blockers."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from core import clock
from core.auth.models import County, Role, User
from core.db import db
from core.errors import NotFound
from projects.models import Project
from projects.queries import visible_projects
from projects.stages import Stage

from .models import Blocker, ProgressReport

REPORTING_STAGE_VALUES = [Stage.SIGNED, Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING]


def due_for_month(month: dt.date):
    """SQL condition: a project that must report for ``month`` (signed by then, not yet past production)."""
    return and_(Project.stage.in_(REPORTING_STAGE_VALUES),
                Project.sign_date.is_not(None), Project.sign_date < clock.next_month(month),
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


def reports_of(project: Project) -> Select:
    """A project's monthly reports, the latest month first."""
    return select(ProgressReport).where(ProgressReport.project_id == project.id).order_by(ProgressReport.month.desc())


def month_report(project: Project, month: dt.date) -> ProgressReport | None:
    return db.session.scalar(select(ProgressReport).where(ProgressReport.project_id == project.id,
                                                          ProgressReport.month == month))


# ---- Blockers and the to-do page ----

def blockers_of(project: Project) -> Select:
    """A project's blockers, open and closed, the latest first (as the project page lists them)."""
    return select(Blocker).where(Blocker.project_id == project.id).order_by(Blocker.id.desc())


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


def blocker_or_404(project: Project, blocker_id: int) -> Blocker:
    blocker = db.session.get(Blocker, blocker_id)
    if blocker is None or blocker.project_id != project.id:
        raise NotFound()
    return blocker
