"""Reading parks: the park list grouped by industry and zone, a park's page, the rows a form offers (retired ones
only where already chosen), parks found by a current or former name, parks placed outside their county."""
from __future__ import annotations

import functools
import json
from itertools import groupby

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from core.auth.models import County
from core.db import db

from .geojson import point_in_geometry
from .models import Chain, ChainNode, Enterprise, Industry, Park, ParkAlias, Zone


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
