"""The map's summaries: each county's figures for the counties layer and choropleth, each park's bubble."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String, func, select, type_coerce

from core.auth.models import County, User
from core.db import db
from parks.models import Park, Zone
from parks.queries import outline_geometry
from projects.models import Project
from projects.queries import ListFilters, filtered_projects, signed_figure_columns
from projects.reports.models import Blocker
from projects.stages import Stage

from .queries import has_position, park_capacity_properties

_FIGURES = ("signed", "contracts", "contracts_started", "producing")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def project_groups(user: User, filters: ListFilters, today: dt.date) -> list:
    """One scan of the user's filtered projects for both the counties' figures and the bubbles: the dashboard's
    figure columns per park, county, stage and whether signed."""
    query, _light = filtered_projects(user, filters, today)
    signed = Project.sign_date.is_not(None)
    return db.session.execute(query.with_only_columns(
        Project.park_id, Project.county_code, type_coerce(Project.stage, String).label("stage"),
        signed.label("is_signed"), *signed_figure_columns())
        .group_by(Project.park_id, Project.county_code, Project.stage, signed)).all()


def county_collection(user: User, filters: ListFilters, today: dt.date, groups: list | None = None) -> dict:
    """One feature per current county with an outline (code, name, WGS-84 geometry) carrying the figures of the
    user's filtered signed projects there: 签约项目数, 总投资 (万元), 开工率, 投产率 (as on the dashboard)."""
    figures: dict[str, dict] = {}
    for row in groups if groups is not None else project_groups(user, filters, today):
        if row.is_signed:
            county = figures.setdefault(row.county_code, dict.fromkeys((*_FIGURES, "total_investment"), 0))
            for key in _FIGURES:
                county[key] += getattr(row, key)
            county["total_investment"] += row.total_investment or 0
    counties = db.session.execute(select(County.code, County.name, County.seat_lat, County.seat_lon,
                                         County.outline_geojson)
                                  .where(County.successor_code.is_(None), County.outline_geojson.is_not(None))
                                  .order_by(County.position, County.code))
    features = []
    for code, name, seat_lat, seat_lon, outline in counties:
        counts = figures.get(code) or dict.fromkeys((*_FIGURES, "total_investment"), 0)
        features.append({"type": "Feature", "geometry": outline_geometry(outline), "properties": {
            "code": code, "name": name, **counts, "total_investment": float(counts["total_investment"]),
            "start_rate": _rate(counts["contracts_started"], counts["contracts"]),
            "production_rate": _rate(counts["producing"], counts["signed"]),
            "label": [seat_lon, seat_lat]}})  # where the name is written: the county seat
    return {"type": "FeatureCollection", "features": features}


def park_bubbles(user: User, filters: ListFilters, today: dt.date, groups: list | None = None) -> list[dict]:
    """One bubble per park holding some of the user's filtered projects, at the park's point; projects outside any
    park (or in a park with no position) summed at their county seat, as the project layers place them. Each
    bubble: id (the park's, or None), name, county, zone, lat, lon, count, investment (万元), by stage, open
    blockers, and a park's capacity (maps.queries.park_capacity_properties; None when never confirmed)."""
    query, _light = filtered_projects(user, filters, today)
    blockers = db.session.execute(
        query.with_only_columns(Project.park_id, Project.county_code, func.count(Blocker.id))
        .join(Blocker, Blocker.project_id == Project.id).where(Blocker.closed_at.is_(None))
        .group_by(Project.park_id, Project.county_code)).all()
    parks = {row.id: row for row in db.session.execute(
        select(Park.id, Park.name, Park.lat, Park.lon, County.name.label("county"), Zone.name.label("zone"))
        .join(County, Park.county_code == County.code).outerjoin(Zone, Park.zone_id == Zone.id))}
    seats = {row.code: row for row in db.session.execute(select(County.code, County.name, County.seat_lat,
                                                                County.seat_lon))}
    bubbles: dict = {}

    def bubble_for(park_id: int | None, county_code: str) -> dict | None:
        """The bubble a project of this park and county is summed in: its park's, else its county seat's."""
        park, seat = parks.get(park_id), seats[county_code]
        if park is not None and has_position(park.lat, park.lon):
            key, new = ("park", park_id), {"id": park_id, "name": park.name, "county": park.county,
                                           "zone": park.zone or "", "lat": park.lat, "lon": park.lon}
        elif has_position(seat.seat_lat, seat.seat_lon):
            key, new = ("county", county_code), {"id": None, "name": f"{seat.name}（园区外）", "county": seat.name,
                                                 "zone": "", "lat": seat.seat_lat, "lon": seat.seat_lon}
        else:
            return None  # no place on the map: counted as unplaced, as the project layers do
        return bubbles.setdefault(key, {**new, "count": 0, "investment": 0.0, "by_stage": {}, "blockers": 0})

    for row in groups if groups is not None else project_groups(user, filters, today):
        bubble = bubble_for(row.park_id, row.county_code)
        if bubble is not None:  # every project, signed or not (the map shows them all): "signed" is the group's count
            bubble["count"] += row.signed
            bubble["investment"] = round(bubble["investment"] + float(row.total_investment or 0), 2)
            bubble["by_stage"][row.stage] = bubble["by_stage"].get(row.stage, 0) + row.signed
    for park_id, county_code, count in blockers:
        bubble = bubble_for(park_id, county_code)
        if bubble is not None:
            bubble["blockers"] += count
    capacity = park_capacity_properties(today)
    for bubble in bubbles.values():  # stages in the pipeline's order
        bubble["by_stage"] = {stage.value: bubble["by_stage"][stage.value] for stage in Stage
                              if stage.value in bubble["by_stage"]}
        if bubble["id"] is not None:
            bubble["capacity"] = capacity.get(bubble["id"])
    return sorted(bubbles.values(), key=lambda b: -b["investment"])
