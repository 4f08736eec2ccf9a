"""The dashboard's figures: every one an aggregate query over the user's signed projects in a period and scope."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, extract, func, or_, select

from core import clock
from core.auth.models import County, User
from core.db import db
from parks.models import Industry
from projects.events.models import SigningEvent
from projects.models import Project
from projects.queries import data_completeness, light_expression, signed_figure_columns, visible_projects
from projects.reports.queries import completeness_by_county
from projects.stages import Light, SignType, Stage

STALLED_DAYS = 30
LIST_LIMIT = 50


@dataclass
class DashboardFilters:
    """The dashboard's period (signing date from/to, both inclusive) and scope."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    county: str | None = None
    industry: int | None = None
    event: int | None = None
    year: int | None = None


def _conditions(filters: DashboardFilters, *, with_county: bool = True) -> list:
    """Signed projects (a signing date) inside the period and scope."""
    conditions = [Project.sign_date.is_not(None)]
    if filters.date_from:
        conditions.append(Project.sign_date >= filters.date_from)
    if filters.date_to:
        conditions.append(Project.sign_date <= filters.date_to)
    if filters.industry:
        conditions.append(Project.industry_id == filters.industry)
    if filters.event:
        conditions.append(Project.signing_event_id == filters.event)
    if filters.year:
        conditions.append(extract("year", Project.sign_date) == filters.year)
    if with_county and filters.county:
        conditions.append(Project.county_code == filters.county)
    return conditions


def _scoped(user: User, filters: DashboardFilters) -> Select:
    return visible_projects(user).where(*_conditions(filters))


def _rate(part, whole) -> float | None:
    return None if not whole else float(part) / float(whole)


def _money(value) -> Decimal:
    return Decimal(value or 0)


def _stalled(today: dt.date):
    """No update for STALLED_DAYS China days before today, and not finished (投产) or dropped (终止)."""
    return and_(Project.updated_at < clock.day_start(today - dt.timedelta(days=STALLED_DAYS)),
                Project.stage.not_in([Stage.PRODUCING, Stage.DROPPED]))


def _counters(today: dt.date) -> list:
    """Every count and sum the headline figures, the funnel and the tables add up: additive, so one scan grouped by
    industry and signing event gives them all."""
    light = light_expression(today)
    contract_first = Project.signed_as == SignType.CONTRACT
    agreement_first = Project.signed_as == SignType.AGREEMENT
    under_contract = Project.sign_type == SignType.CONTRACT
    stage_columns = [func.count().filter(Project.stage == stage).label(f"stage_{stage.value}") for stage in Stage]
    return [
        func.count().label("signed"),
        func.coalesce(func.sum(Project.total_investment), 0).label("total_investment"),
        func.count().filter(contract_first).label("contracts"),
        func.count().filter(and_(contract_first, Project.actual_start.is_not(None))).label("contracts_started"),
        func.count().filter(agreement_first).label("agreements"),
        func.count().filter(and_(agreement_first, Project.contract_date.is_not(None))).label("converted"),
        func.count().filter(Project.stage == Stage.PRODUCING).label("producing"),
        func.coalesce(func.sum(Project.funds_arrived).filter(under_contract), 0).label("funds_arrived"),
        func.coalesce(func.sum(Project.total_investment).filter(under_contract), 0).label("contract_investment"),
        func.count().filter(light == Light.RED.value).label("red"),
        func.count().filter(_stalled(today)).label("stalled"),
        func.count().filter(or_(Project.stage.in_([Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING]),
                                Project.actual_start.is_not(None))).label("reached_approval"),
        func.count().filter(Project.actual_start.is_not(None)).label("reached_started"),
        func.count().filter(Project.actual_completion.is_not(None)).label("reached_completed"),
        func.count().filter(Project.actual_production.is_not(None)).label("reached_producing"),
        *stage_columns]


_GROUP_KEYS = ("industry_id", "industry_name", "industry_color", "event_id", "event_name", "event_date")
_MONEY = ("total_investment", "funds_arrived", "contract_investment")


def _added(rows: list[dict]) -> dict:
    """The counters of ``rows`` added up, with the rates the figures and tables show."""
    total = {}
    for row in rows:
        for name, value in row.items():
            if name not in _GROUP_KEYS:
                total[name] = total.get(name, 0) + (_money(value) if name in _MONEY else value)
    for name in _MONEY:
        total.setdefault(name, Decimal(0))
    total["start_rate"] = _rate(total.get("contracts_started", 0), total.get("contracts", 0))
    total["production_rate"] = _rate(total.get("producing", 0), total.get("signed", 0))
    return total


def summary(user: User, filters: DashboardFilters, today: dt.date) -> tuple[dict, list[dict], list[dict]]:
    """The headline figures with the stage funnel, and the tables by industry and by signing event, of the user's
    signed projects in the period and scope: one grouped scan (the light is worked out once per project)."""
    rows = [dict(row._mapping) for row in db.session.execute(
        _scoped(user, filters).with_only_columns(
            Industry.id.label("industry_id"), Industry.name.label("industry_name"),
            Industry.color.label("industry_color"), SigningEvent.id.label("event_id"),
            SigningEvent.name.label("event_name"), SigningEvent.date.label("event_date"), *_counters(today),
            maintain_column_froms=False)
        .select_from(Project).outerjoin(Industry, Project.industry_id == Industry.id)
        .outerjoin(SigningEvent, Project.signing_event_id == SigningEvent.id)
        .group_by(Industry.id, Industry.name, Industry.color, SigningEvent.id, SigningEvent.name, SigningEvent.date)
        .order_by(None))]
    return _figures(_added(rows)), _tables(rows, "industry"), _tables(rows, "event")


def _figures(figures: dict) -> dict:
    for name in ("signed", "contracts", "agreements", "converted", "producing", "red", "stalled", "reached_approval",
                 "reached_started", "reached_completed", "reached_producing", "contracts_started",
                 *(f"stage_{stage.value}" for stage in Stage)):
        figures.setdefault(name, 0)
    figures["conversion_rate"] = _rate(figures["converted"], figures["agreements"])
    figures["funds_rate"] = (None if not figures["contract_investment"]
                             else float(figures["funds_arrived"] / figures["contract_investment"]))
    figures["funnel"] = [("签约", figures["signed"]), ("前期", figures["reached_approval"]),
                         ("开工", figures["reached_started"]), ("竣工", figures["reached_completed"]),
                         ("投产", figures["reached_producing"])]
    figures["by_stage"] = [(stage, figures[f"stage_{stage.value}"]) for stage in Stage]
    return figures


def _tables(rows: list[dict], by: str) -> list[dict]:
    """The rows added up per industry (unclassified together; biggest total investment first) or per signing event
    (none together; latest first)."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[f"{by}_id"], []).append(row)
    table = []
    for key, members in groups.items():
        first = members[0]
        item = {"id": key, **_added(members)}
        if by == "industry":
            item.update(name=first["industry_name"] or "未分类", color=first["industry_color"])
        else:
            item.update(name=first["event_name"] or "未关联签约活动", date=first["event_date"])
        table.append(item)
    if by == "industry":
        return sorted(table, key=lambda r: (-r["total_investment"], r["name"]))
    return sorted(table, key=lambda r: (r["date"] is None, -(r["date"].toordinal() if r["date"] else 0), r["name"]))


def headline_figures(user: User, filters: DashboardFilters, today: dt.date) -> dict:
    """The headline figures and the stage funnel of the user's signed projects in the period and scope."""
    return summary(user, filters, today)[0]


def _group_columns(light):
    return (*signed_figure_columns(), func.count(Project.id).filter(light == Light.RED.value).label("red"))


def _group_rows(rows) -> list[dict]:
    out = []
    for row in rows:
        item = dict(row._mapping)
        item["total_investment"] = _money(item["total_investment"])
        item["start_rate"] = _rate(item["contracts_started"], item["contracts"])
        item["production_rate"] = _rate(item["producing"], item["signed"])
        out.append(item)
    return out


def per_current_county(*columns, conditions=()) -> Select:
    """``columns`` aggregated over each current county's projects that meet ``conditions``, one row per
    county (none left out), in the counties' order."""
    return (select(County.code, County.name, *columns).select_from(County)
            .outerjoin(Project, and_(Project.county_code == County.code, *conditions))
            .where(County.successor_code.is_(None))
            .group_by(County.code, County.name, County.position).order_by(County.position, County.code))


def county_ranking(filters: DashboardFilters, today: dt.date) -> list[dict]:
    """City-wide figures per current county (numbers only: every user may see them), ranked by total investment."""
    light = light_expression(today)
    rows = db.session.execute(per_current_county(*_group_columns(light),
                                                 conditions=_conditions(filters, with_county=False)))
    ranked = sorted(_group_rows(rows), key=lambda r: (-r["total_investment"], -r["signed"], r["code"]))
    for position, row in enumerate(ranked, start=1):
        row["rank"] = position
    return ranked


_LIST_COLUMNS = (Project.id, Project.name, Project.stage, Project.total_investment, Project.planned_start,
                 Project.planned_completion, Project.planned_production, Project.updated_at,
                 County.name.label("county"))


def _project_list(query: Select, order) -> list[dict]:
    rows = db.session.execute(query.with_only_columns(*_LIST_COLUMNS, maintain_column_froms=False)
                              .select_from(Project).join(County, Project.county_code == County.code)
                              .order_by(*order, Project.id).limit(LIST_LIMIT))
    return [dict(row._mapping) for row in rows]


def red_list(user: User, filters: DashboardFilters, today: dt.date) -> list[dict]:
    """The user's red-light projects in the period and scope, biggest first (at most LIST_LIMIT)."""
    light = light_expression(today)
    return _project_list(_scoped(user, filters).where(light == Light.RED.value), [Project.total_investment.desc()])


def stalled_list(user: User, filters: DashboardFilters, today: dt.date) -> list[dict]:
    """The user's projects with no update for 30 days (not 投产 or 终止), longest-quiet first."""
    return _project_list(_scoped(user, filters).where(_stalled(today)), [Project.updated_at])


def completeness_ranking(month: dt.date) -> list[dict]:
    """Each current county's share of ``month``'s progress reports filed, best first (ties by division code)."""
    return sorted(completeness_by_county(month), key=lambda r: (r["rank"], r["code"]))


def data_completeness_ranking() -> list[dict]:
    """Each current county's 资料完整率 (projects past 在谈 without 资料缺项), in the counties' order."""
    figures = data_completeness()
    rows = []
    for code, name in db.session.execute(select(County.code, County.name).where(County.successor_code.is_(None))
                                         .order_by(County.position, County.code)):
        total, complete = figures.get(code, (0, 0))
        rows.append({"code": code, "name": name, "total": total, "complete": complete, "gaps": total - complete,
                     "rate": _rate(complete, total)})
    return rows
