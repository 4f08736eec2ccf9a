"""Reading parks: the park list grouped by industry and zone, a park's page, the rows a form offers (retired ones
only where already chosen), parks found by a current or former name, parks placed outside their county, and the
parks' current capacity."""
from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from core.auth.models import County
from core.db import db

from .geojson import point_in_geometry
from .models import CapacityMeasure, Chain, ChainNode, Enterprise, Industry, Park, ParkAlias, ParkCapacity, Zone

_LatestCapacity = aliased(ParkCapacity)


def in_use(model, keep: int | None = None):
    """Rows a form may offer: those not retired, and the one already chosen (``keep``) even if it is."""
    return or_(model.retired_at.is_(None), model.id == keep) if keep else model.retired_at.is_(None)


def parks_select():
    return (select(Park)
            .outerjoin(Industry, Park.industry_id == Industry.id)
            .outerjoin(Zone, Park.zone_id == Zone.id)
            .options(selectinload(Park.county), selectinload(Park.zone), selectinload(Park.industry))
            .order_by(Industry.position.is_(None), Industry.position, Zone.position.is_(None),
                      Zone.position, Park.position, Park.name))


def enterprise_counts() -> dict[int, int]:
    rows = db.session.execute(select(Enterprise.park_id, func.count()).where(Enterprise.retired_at.is_(None))
                              .group_by(Enterprise.park_id))
    return {park_id: count for park_id, count in rows if park_id is not None}


def parks_by_industry():
    """[(industry or None, [(zone or None, [park, ...]), ...]), ...] in display order, retired parks left out."""
    parks = db.session.scalars(parks_select().where(Park.retired_at.is_(None))).all()
    return [(industry, [(zone, list(in_zone)) for zone, in_zone in groupby(in_industry, key=lambda p: p.zone)])
            for industry, in_industry in groupby(parks, key=lambda p: p.industry)]


def park_list(*, county: str | None = None, industry: int | None = None, retired: bool = False):
    """The parks in display order, narrowed by county and industry; retired ones only when asked (the API's list)."""
    query = parks_select()
    if not retired:
        query = query.where(Park.retired_at.is_(None))
    if county:
        query = query.where(Park.county_code == county)
    if industry:
        query = query.where(Park.industry_id == industry)
    return query


def retired_parks() -> list[Park]:
    return list(db.session.scalars(parks_select().where(Park.retired_at.is_not(None))))


def industries() -> list[Industry]:
    return list(db.session.scalars(select(Industry).order_by(Industry.position)))


def industries_with_chains(keep_node: int | None = None) -> list[Industry]:
    """Industries with their chains and chain nodes in use (and ``keep_node``, the one already chosen), for the
    forms' chain-node picker: three queries, not one per industry and one per chain."""
    node = db.session.get(ChainNode, keep_node) if keep_node else None
    chains = in_use(Chain, node.chain_id if node else None)
    return list(db.session.scalars(
        select(Industry).order_by(Industry.position)
        .options(selectinload(Industry.chains.and_(chains)).selectinload(Chain.nodes.and_(in_use(ChainNode, keep_node))))
        # The collections are loaded with the criteria above, whatever an earlier query left in the session.
        .execution_options(populate_existing=True)))


def parks_by_county(keep: int | None = None) -> list[Park]:
    """Parks in use (and ``keep``), county by county (the forms' park picker shows "县区 · 园区")."""
    return list(db.session.scalars(select(Park).where(in_use(Park, keep)).order_by(Park.county_code, Park.position)
                                   .options(selectinload(Park.county))))


def parks_in_order(keep: int | None = None) -> list[Park]:
    return list(db.session.scalars(select(Park).where(in_use(Park, keep)).order_by(Park.position, Park.id)))


def zones(keep: int | None = None) -> list[Zone]:
    return list(db.session.scalars(select(Zone).where(in_use(Zone, keep)).order_by(Zone.position, Zone.id)))


def chains(keep: int | None = None) -> list[Chain]:
    return list(db.session.scalars(select(Chain).where(in_use(Chain, keep)).join(Industry)
                                   .order_by(Industry.position, Chain.position, Chain.id)
                                   .options(selectinload(Chain.industry))))


def chain_nodes(keep: int | None = None) -> list[ChainNode]:
    """Nodes in use (and ``keep``), chain by chain, with their chain and industry loaded."""
    return list(db.session.scalars(
        select(ChainNode).join(Chain).join(Industry)
        .where(in_use(ChainNode, keep), or_(Chain.retired_at.is_(None), ChainNode.id == (keep or 0)))
        .order_by(Industry.position, Chain.position, Chain.id, ChainNode.position, ChainNode.id)
        .options(selectinload(ChainNode.chain).selectinload(Chain.industry))))


def park_ids_named(pattern: str, escape: str = "\\"):
    """Ids of parks whose name or a former name matches a LIKE ``pattern`` (the project search)."""
    former = select(ParkAlias.park_id).where(ParkAlias.name.ilike(pattern, escape=escape))
    return select(Park.id).where(or_(Park.name.ilike(pattern, escape=escape), Park.id.in_(former)))


def park_detail(park_id: int) -> Park:
    return db.one_or_404(select(Park).where(Park.id == park_id).options(
        selectinload(Park.enterprises), selectinload(Park.county), selectinload(Park.aliases),
        selectinload(Park.industry).selectinload(Industry.chains)))


def row_or_404(model, row_id: int):
    return db.get_or_404(model, row_id)


def reference_lists() -> dict:
    """Everything the reference-data page lists, retired rows included (marked there)."""
    return {
        "zones": list(db.session.scalars(select(Zone).order_by(Zone.position, Zone.id)
                                         .options(selectinload(Zone.industry), selectinload(Zone.parks)))),
        "industries": list(db.session.scalars(select(Industry).order_by(Industry.position).options(
            selectinload(Industry.chains).selectinload(Chain.nodes)))),
        "enterprises": list(db.session.scalars(select(Enterprise).order_by(Enterprise.position, Enterprise.id)
                                               .options(selectinload(Enterprise.park),
                                                        selectinload(Enterprise.industry)))),
    }


# ---- Capacity (可供地、标准厂房) ----

CAPACITY_STALE_DAYS = 90


def area_text(value: Decimal) -> str:
    """An area as people write it: thousands separated, no trailing zeros (1,200 亩; 12.5 亩)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class CapacityFigure:
    """A park's current figure for one measure: the latest confirmation of it."""

    measure: CapacityMeasure
    value: Decimal
    confirmed_on: dt.date
    confirmed_by: str

    def is_stale(self, today: dt.date) -> bool:
        return (today - self.confirmed_on).days > CAPACITY_STALE_DAYS


@dataclass(frozen=True)
class Capacity:
    """A park's current capacity, measure by measure (a measure never confirmed is missing)."""

    figures: dict[CapacityMeasure, CapacityFigure]

    def value(self, measure: CapacityMeasure) -> Decimal | None:
        figure = self.figures.get(measure)
        return figure.value if figure else None

    def stale(self, today: dt.date) -> list[CapacityFigure]:
        return [figure for figure in self.figures.values() if figure.is_stale(today)]

    @property
    def oldest(self) -> dt.date | None:
        return min((figure.confirmed_on for figure in self.figures.values()), default=None)


def capacities(park_ids=None) -> dict[int, Capacity]:
    """Each park's current capacity (parks with no confirmation at all are left out): one query for all."""
    latest = (select(ParkCapacity.id).where(
        ParkCapacity.park_id == _LatestCapacity.park_id, ParkCapacity.measure == _LatestCapacity.measure)
        .order_by(ParkCapacity.confirmed_on.desc(), ParkCapacity.id.desc()).limit(1).correlate(_LatestCapacity)
        .scalar_subquery())
    query = (select(_LatestCapacity).where(_LatestCapacity.id == latest)
             .options(selectinload(_LatestCapacity.confirmed_by)))
    if park_ids is not None:
        query = query.where(_LatestCapacity.park_id.in_(list(park_ids)))
    result: dict[int, dict] = {}
    for row in db.session.scalars(query):
        result.setdefault(row.park_id, {})[row.measure] = CapacityFigure(
            row.measure, row.value, row.confirmed_on,
            row.confirmed_by.name_for_display if row.confirmed_by else "系统")
    return {park_id: Capacity(figures) for park_id, figures in result.items()}


def capacity_of(park_id: int) -> Capacity:
    return capacities([park_id]).get(park_id, Capacity({}))


def capacity_history(park_id: int) -> list[ParkCapacity]:
    """Every confirmation of the park's capacity, newest first."""
    return list(db.session.scalars(select(ParkCapacity).where(ParkCapacity.park_id == park_id)
                                   .options(selectinload(ParkCapacity.confirmed_by))
                                   .order_by(ParkCapacity.confirmed_on.desc(), ParkCapacity.id.desc())))


@functools.lru_cache(maxsize=64)
def outline_geometry(text: str) -> dict:
    """A county outline's GeoJSON text, parsed once per process: the outlines are static reference data.
    The dict is shared: read it, never change it."""
    return json.loads(text)


@functools.lru_cache(maxsize=1024)  # a few hundred point-in-polygon steps each, asked on every map build
def outside_county(lat: float | None, lon: float | None, outline: str | None) -> bool:
    """位置待核实: a park's point lies outside its county's outline (False while either is unknown)."""
    return lat is not None and lon is not None and bool(outline) \
        and not point_in_geometry(lon, lat, outline_geometry(outline))


def parks_outside_county() -> set[int]:
    """The ids of the parks in use whose point lies outside their county's outline."""
    rows = db.session.execute(select(Park.id, Park.lat, Park.lon, County.outline_geojson)
                              .join(County, Park.county_code == County.code).where(Park.retired_at.is_(None)))
    return {park_id for park_id, lat, lon, outline in rows if outside_county(lat, lon, outline)}
