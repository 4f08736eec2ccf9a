"""Maps queries room: plain rows for the map's markers, the dashboard's figures and the monthly briefing, scoped to the user."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, extract, func, or_, select

from core.auth.models import County, Role, User
from core.auth.reference_data import EXTENT
from core.db import db
from parks.models import Industry, Park, Zone
from core.clock import next_month
from projects.events.models import SigningEvent
from projects.models import Project
from projects.queries import ListFilters, filtered_projects, light_expression, visible_projects
from projects.reports.models import Blocker
from projects.reports.queries import completeness_by_county
from projects.stages import Light, SignType, Stage

from .coords import spread


_STAGES = {stage.value: stage for stage in Stage}  # a dict look-up per row, not an Enum() call
_LIGHTS = {light.value: light for light in Light}


def has_position(lat: float | None, lon: float | None) -> bool:
    """A position the map can use: inside Sanming (a 0/0 or swapped placeholder is not one)."""
    return (lat is not None and lon is not None and EXTENT["lat_min"] <= lat <= EXTENT["lat_max"]
            and EXTENT["lon_min"] <= lon <= EXTENT["lon_max"])


def _boundary_geometries(boundary_geojson: str | None) -> list[dict]:
    if not boundary_geojson:
        return []
    boundary = json.loads(boundary_geojson)
    if boundary.get("type") == "FeatureCollection":
        return [feature["geometry"] for feature in boundary["features"]]
    return [boundary.get("geometry", boundary)] if boundary.get("type") == "Feature" else [boundary]


def park_map_data(filters: ListFilters) -> tuple[dict, list[dict]]:
    """Every park (all users see all parks) narrowed by industry and county: a FeatureCollection of
    those that can be drawn (boundary, else point) and the properties of those with no position."""
    query = (select(Park.id, Park.name, Park.lat, Park.lon, Park.boundary_geojson, Park.position_confidence,
                    County.name.label("county"), Industry.name.label("industry"), Industry.color,
                    Zone.name.label("zone"),
                    Zone.layout)
             .join(County, Park.county_code == County.code)
             .outerjoin(Industry, Park.industry_id == Industry.id)
             .outerjoin(Zone, Park.zone_id == Zone.id)
             .order_by(Industry.position.is_(None), Industry.position, Zone.position, Park.position, Park.id))
    if filters.industry:
        query = query.where(Park.industry_id == filters.industry)
    if filters.county:
        query = query.where(Park.county_code == filters.county)
    features, unplaced = [], []
    for row in db.session.execute(query):
        properties = {"id": row.id, "name": row.name, "county": row.county,
                      "industry": row.industry or "", "color": row.color or "",
                      "zone": row.zone or "", "layout": row.layout or "",
                      "position_confidence": row.position_confidence.label}
        geometries = _boundary_geometries(row.boundary_geojson)
        if not geometries and not has_position(row.lat, row.lon):
            unplaced.append(properties)
            continue
        geometries = geometries or [{"type": "Point", "coordinates": [round(row.lon, 6), round(row.lat, 6)]}]
        features += [{"type": "Feature", "geometry": geometry, "properties": properties} for geometry in geometries]
    return {"type": "FeatureCollection", "features": features}, unplaced


def project_count(user: User, filters: ListFilters, today: dt.date) -> int:
    query, _light = filtered_projects(user, filters, today)
    return db.session.scalar(query.with_only_columns(func.count(Project.id)).order_by(None))


def project_map_data(user: User, filters: ListFilters, today: dt.date) -> dict:
    """The user's filtered projects as point features at their park (else their county seat), spread
    round that spot; ``unplaced`` counts those with neither."""
    query, light = filtered_projects(user, filters, today)
    query = (query.with_only_columns(
        Project.id, Project.name, Project.investor_name, Project.total_investment, Project.stage,
        Project.is_major, light.label("light"), County.name.label("county"), Park.name.label("park"),
        Park.lat, Park.lon, County.seat_lat, County.seat_lon, maintain_column_froms=False)
        .select_from(Project)
        .join(County, Project.county_code == County.code)
        .outerjoin(Park, Project.park_id == Park.id)
        .order_by(Project.id))
    features, unplaced, taken = [], 0, {}
    for row in db.session.execute(query):
        spot = ((row.lat, row.lon) if has_position(row.lat, row.lon)
                else (row.seat_lat, row.seat_lon) if has_position(row.seat_lat, row.seat_lon) else None)
        if spot is None:
            unplaced += 1
            continue
        index = taken[spot] = taken.get(spot, -1) + 1
        lat, lon = spread(*spot, index)
        stage, lit = _STAGES[row.stage], _LIGHTS[row.light]
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
                         "properties": {"id": row.id, "name": row.name, "investor": row.investor_name,
                                        "county": row.county, "park": row.park or "",
                                        "investment": float(row.total_investment), "major": row.is_major,
                                        "stage": stage.value, "stage_label": stage.label,
                                        "light": lit.value, "light_label": lit.label}})
    return {"type": "FeatureCollection", "features": features, "unplaced": unplaced}


# ---- Dashboard and monthly briefing: every figure is one aggregate query, whatever the data size ----

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


def _stalled(now: dt.datetime):
    """No update for STALLED_DAYS days, and not finished (投产) or dropped (终止)."""
    return and_(Project.updated_at < now - dt.timedelta(days=STALLED_DAYS),
                Project.stage.not_in([Stage.PRODUCING, Stage.DROPPED]))


def headline_figures(user: User, filters: DashboardFilters, today: dt.date, now: dt.datetime) -> dict:
    """The headline figures and the stage funnel of the user's signed projects in the period and scope."""
    light = light_expression(today)
    contract_first = Project.signed_as == SignType.CONTRACT
    agreement_first = Project.signed_as == SignType.AGREEMENT
    under_contract = Project.sign_type == SignType.CONTRACT
    stage_columns = [func.count().filter(Project.stage == stage).label(f"stage_{stage.value}") for stage in Stage]
    row = db.session.execute(_scoped(user, filters).with_only_columns(
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
        func.count().filter(_stalled(now)).label("stalled"),
        func.count().filter(or_(Project.stage.in_([Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING]),
                                Project.actual_start.is_not(None))).label("reached_approval"),
        func.count().filter(Project.actual_start.is_not(None)).label("reached_started"),
        func.count().filter(Project.actual_completion.is_not(None)).label("reached_completed"),
        func.count().filter(Project.actual_production.is_not(None)).label("reached_producing"),
        *stage_columns, maintain_column_froms=False).select_from(Project).order_by(None)).one()._mapping
    figures = dict(row)
    figures["total_investment"] = _money(figures["total_investment"])
    figures["funds_arrived"] = _money(figures["funds_arrived"])
    figures["contract_investment"] = _money(figures["contract_investment"])
    figures["start_rate"] = _rate(figures["contracts_started"], figures["contracts"])
    figures["conversion_rate"] = _rate(figures["converted"], figures["agreements"])
    figures["production_rate"] = _rate(figures["producing"], figures["signed"])
    figures["funds_rate"] = (None if not figures["contract_investment"]
                             else float(figures["funds_arrived"] / figures["contract_investment"]))
    figures["funnel"] = [("签约", figures["signed"]), ("前期", figures["reached_approval"]),
                         ("开工", figures["reached_started"]), ("竣工", figures["reached_completed"]),
                         ("投产", figures["reached_producing"])]
    figures["by_stage"] = [(stage, figures[f"stage_{stage.value}"]) for stage in Stage]
    return figures


def _group_columns(light):
    contract_first = Project.signed_as == SignType.CONTRACT
    return (func.count(Project.id).label("signed"),
            func.coalesce(func.sum(Project.total_investment), 0).label("total_investment"),
            func.count(Project.id).filter(contract_first).label("contracts"),
            func.count(Project.id).filter(and_(contract_first, Project.actual_start.is_not(None))).label("contracts_started"),
            func.count(Project.id).filter(Project.stage == Stage.PRODUCING).label("producing"),
            func.count(Project.id).filter(light == Light.RED.value).label("red"))


def _group_rows(rows) -> list[dict]:
    out = []
    for row in rows:
        item = dict(row._mapping)
        item["total_investment"] = _money(item["total_investment"])
        item["start_rate"] = _rate(item["contracts_started"], item["contracts"])
        item["production_rate"] = _rate(item["producing"], item["signed"])
        out.append(item)
    return out


def county_ranking(filters: DashboardFilters, today: dt.date) -> list[dict]:
    """City-wide figures per current county (numbers only: every user may see them), ranked by total investment."""
    light = light_expression(today)
    rows = db.session.execute(
        select(County.code, County.name, *_group_columns(light))
        .select_from(County)
        .outerjoin(Project, and_(Project.county_code == County.code, *_conditions(filters, with_county=False)))
        .where(County.successor_code.is_(None))
        .group_by(County.code, County.name, County.position).order_by(County.position, County.code))
    ranked = sorted(_group_rows(rows), key=lambda r: (-r["total_investment"], -r["signed"], r["code"]))
    for position, row in enumerate(ranked, start=1):
        row["rank"] = position
    return ranked


def by_industry(user: User, filters: DashboardFilters, today: dt.date) -> list[dict]:
    light = light_expression(today)
    rows = db.session.execute(
        _scoped(user, filters).with_only_columns(Industry.id, Industry.name, Industry.color, *_group_columns(light),
                                                 maintain_column_froms=False)
        .select_from(Project).outerjoin(Industry, Project.industry_id == Industry.id)
        .group_by(Industry.id, Industry.name, Industry.color).order_by(None))
    result = _group_rows(rows)
    for row in result:
        row["name"] = row["name"] or "未分类"
    return sorted(result, key=lambda r: (-r["total_investment"], r["name"]))


def by_event(user: User, filters: DashboardFilters, today: dt.date) -> list[dict]:
    light = light_expression(today)
    rows = db.session.execute(
        _scoped(user, filters).with_only_columns(SigningEvent.id, SigningEvent.name, SigningEvent.date,
                                                 *_group_columns(light), maintain_column_froms=False)
        .select_from(Project).outerjoin(SigningEvent, Project.signing_event_id == SigningEvent.id)
        .group_by(SigningEvent.id, SigningEvent.name, SigningEvent.date).order_by(None))
    result = _group_rows(rows)
    for row in result:
        row["name"] = row["name"] or "未关联签约活动"
    return sorted(result, key=lambda r: (r["date"] is None, -(r["date"].toordinal() if r["date"] else 0), r["name"]))


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


def stalled_list(user: User, filters: DashboardFilters, now: dt.datetime) -> list[dict]:
    """The user's projects with no update for 30 days (not 投产 or 终止), longest-quiet first."""
    return _project_list(_scoped(user, filters).where(_stalled(now)), [Project.updated_at])


# ---- Monthly briefing (调度会): plain rows for maps/excel.py ----

def _briefing_scope(user: User, query: Select) -> Select:
    return query.where(Project.county_code == user.county_code) if user.role is Role.COUNTY else query


def briefing_county_stage(user: User) -> list[dict]:
    """Per current county (only the user's own for a county official): projects by current stage, count and investment."""
    stage_columns = [func.count(Project.id).filter(Project.stage == stage).label(stage.value) for stage in Stage]
    query = (select(County.code, County.name, *stage_columns, func.count(Project.id).label("count"),
                    func.coalesce(func.sum(Project.total_investment), 0).label("total_investment"))
             .select_from(County).outerjoin(Project, Project.county_code == County.code)
             .where(County.successor_code.is_(None))
             .group_by(County.code, County.name, County.position).order_by(County.position, County.code))
    if user.role is Role.COUNTY:
        query = query.where(County.code == user.county_code)
    return [dict(row._mapping) for row in db.session.execute(query)]


def briefing_by_industry(user: User) -> list[dict]:
    query = _briefing_scope(user, select(
        Industry.name, func.count(Project.id).label("count"),
        func.count(Project.id).filter(Project.sign_date.is_not(None)).label("signed"),
        func.coalesce(func.sum(Project.total_investment), 0).label("total_investment"),
        func.coalesce(func.sum(Project.investment_completed), 0).label("investment_completed"),
        func.coalesce(func.sum(Project.funds_arrived), 0).label("funds_arrived"),
        func.count(Project.id).filter(Project.actual_start.is_not(None)).label("started"),
        func.count(Project.id).filter(Project.stage == Stage.PRODUCING).label("producing"))
        .select_from(Project).outerjoin(Industry, Project.industry_id == Industry.id)
        .group_by(Industry.id, Industry.name, Industry.position).order_by(Industry.position.is_(None), Industry.position))
    return [{**row._mapping, "name": row.name or "未分类"} for row in db.session.execute(query)]


def _project_rows(user: User, *conditions, order=(), extra=()) -> list[dict]:
    query = _briefing_scope(user, select(
        Project.id, Project.name, Project.investor_name, County.name.label("county"), Park.name.label("park"),
        Industry.name.label("industry"), Project.stage, Project.sign_type, Project.sign_date, Project.actual_start,
        Project.planned_start, Project.planned_completion, Project.planned_production, Project.total_investment,
        Project.investment_completed, Project.funds_arrived, Project.responsible_unit,
        SigningEvent.name.label("event"), *extra)
        .select_from(Project).join(County, Project.county_code == County.code)
        .outerjoin(Park, Project.park_id == Park.id).outerjoin(Industry, Project.industry_id == Industry.id)
        .outerjoin(SigningEvent, Project.signing_event_id == SigningEvent.id)
        .where(*conditions).order_by(*order, County.position, Project.id))
    return [dict(row._mapping) for row in db.session.execute(query)]


def month_end(month: dt.date) -> dt.date:
    return next_month(month) - dt.timedelta(days=1)


def briefing_data(user: User, month: dt.date, today: dt.date) -> dict:
    """Everything the monthly briefing workbook shows, as plain rows (a constant number of queries)."""
    end = month_end(month)
    as_of = min(today, end)  # lights as they stood at the month's end (or today, for the current month)
    light = light_expression(as_of)
    blockers = _briefing_scope(user, select(
        Project.name.label("project"), County.name.label("county"), Blocker.category, Blocker.description,
        Blocker.department, Blocker.due_date, Blocker.escalated, Blocker.created_at)
        .select_from(Blocker).join(Project, Blocker.project_id == Project.id)
        .join(County, Project.county_code == County.code)
        .where(Blocker.closed_at.is_(None))
        .order_by(Blocker.due_date.is_(None), Blocker.due_date, County.position, Blocker.id))
    return {
        "month": month, "as_of": as_of,
        "county_stage": briefing_county_stage(user),
        "industries": briefing_by_industry(user),
        "signed": _project_rows(user, Project.sign_date >= month, Project.sign_date <= end,
                                order=[Project.sign_date]),
        "started": _project_rows(user, Project.actual_start >= month, Project.actual_start <= end,
                                 order=[Project.actual_start]),
        "red": _project_rows(user, light == Light.RED.value, order=[Project.total_investment.desc()]),
        "blockers": [dict(row._mapping) for row in db.session.execute(blockers)],
        "completeness": sorted(completeness_by_county(month), key=lambda r: (r["rank"], r["code"])),
    }
