"""Reading the monthly briefing's sections as plain rows for its workbook, scoped to the user's county."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func

from core.auth.models import County, Role, User
from core.clock import next_month
from core.db import db
from maps.dashboard.queries import completeness_ranking, data_completeness_ranking, per_current_county
from parks.models import Industry, Park
from projects.chains.queries import ChainFilters, gap_records
from projects.events.models import SigningEvent
from projects.models import Project
from projects.queries import light_expression, visible_projects
from projects.reports.models import Blocker
from projects.stages import Light, Stage


def _visible(user: User, *columns) -> Select:
    """``columns`` over the projects the user may see (the scoping rule stays in projects.queries)."""
    return visible_projects(user).with_only_columns(*columns, maintain_column_froms=False)


def county_stage(user: User) -> list[dict]:
    """Per current county (a county official: their own only): projects by current stage, count and investment."""
    stage_columns = [func.count(Project.id).filter(Project.stage == stage).label(stage.value) for stage in Stage]
    query = per_current_county(*stage_columns, func.count(Project.id).label("count"),
                               func.coalesce(func.sum(Project.total_investment), 0).label("total_investment"))
    if user.role is Role.COUNTY:
        query = query.where(County.code == user.county_code)
    return [dict(row._mapping) for row in db.session.execute(query)]


def by_industry(user: User) -> list[dict]:
    """The user's projects per industry: counts, investment, funds, started and producing, in the industries' order."""
    query = (_visible(user, Industry.name, func.count(Project.id).label("count"),
                      func.count(Project.id).filter(Project.sign_date.is_not(None)).label("signed"),
                      func.coalesce(func.sum(Project.total_investment), 0).label("total_investment"),
                      func.coalesce(func.sum(Project.investment_completed), 0).label("investment_completed"),
                      func.coalesce(func.sum(Project.funds_arrived), 0).label("funds_arrived"),
                      func.count(Project.id).filter(Project.actual_start.is_not(None)).label("started"),
                      func.count(Project.id).filter(Project.stage == Stage.PRODUCING).label("producing"))
             .select_from(Project).outerjoin(Industry, Project.industry_id == Industry.id)
             .group_by(Industry.id, Industry.name, Industry.position)
             .order_by(Industry.position.is_(None), Industry.position))
    return [{**row._mapping, "name": row.name or "未分类"} for row in db.session.execute(query)]


def _project_rows(user: User, *conditions, order=()) -> list[dict]:
    query = (_visible(user, Project.id, Project.name, Project.investor_name, County.name.label("county"),
                      Park.name.label("park"), Industry.name.label("industry"), Project.stage, Project.sign_type,
                      Project.sign_date, Project.actual_start, Project.planned_start, Project.planned_completion,
                      Project.planned_production, Project.total_investment, Project.investment_completed,
                      Project.funds_arrived, Project.responsible_unit, SigningEvent.name.label("event"))
             .select_from(Project).join(County, Project.county_code == County.code)
             .outerjoin(Park, Project.park_id == Park.id).outerjoin(Industry, Project.industry_id == Industry.id)
             .outerjoin(SigningEvent, Project.signing_event_id == SigningEvent.id)
             .where(*conditions).order_by(*order, County.position, Project.id))
    return [dict(row._mapping) for row in db.session.execute(query)]


def _open_blockers(user: User) -> list[dict]:
    query = (_visible(user, Project.name.label("project"), County.name.label("county"), Blocker.category,
                      Blocker.description, Blocker.department, Blocker.due_date, Blocker.escalated, Blocker.created_at)
             .select_from(Blocker).join(Project, Blocker.project_id == Project.id)
             .join(County, Project.county_code == County.code)
             .where(Blocker.closed_at.is_(None))
             .order_by(Blocker.due_date.is_(None), Blocker.due_date, County.position, Blocker.id))
    return [dict(row._mapping) for row in db.session.execute(query)]


def briefing_data(user: User, month: dt.date, today: dt.date) -> dict:
    """Everything the monthly briefing workbook shows, as plain rows (a constant number of queries)."""
    end = next_month(month) - dt.timedelta(days=1)
    as_of = min(today, end)  # lights as they stood at the month's end (or today, for the current month)
    light = light_expression(as_of)
    return {
        "month": month, "as_of": as_of,
        "county_stage": county_stage(user),
        "industries": by_industry(user),
        "signed": _project_rows(user, Project.sign_date >= month, Project.sign_date <= end,
                                order=[Project.sign_date]),
        "started": _project_rows(user, Project.actual_start >= month, Project.actual_start <= end,
                                 order=[Project.actual_start]),
        "red": _project_rows(user, light == Light.RED.value, order=[Project.total_investment.desc()]),
        "blockers": _open_blockers(user),
        "completeness": completeness_ranking(month),
        "data_completeness": data_completeness_ranking(),
        # City-wide for every role, as on the chain pages: node figures and parks only, no project names.
        "chains": gap_records(ChainFilters(), today),
    }
