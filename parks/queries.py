"""Reading parks: the park list grouped by industry and zone, a park's page, the parks a form offers."""
from __future__ import annotations

from itertools import groupby

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.db import db

from .models import Chain, Enterprise, Industry, Park, Zone


def parks_select():
    return (select(Park)
            .outerjoin(Industry, Park.industry_id == Industry.id)
            .outerjoin(Zone, Park.zone_id == Zone.id)
            .options(selectinload(Park.county), selectinload(Park.zone), selectinload(Park.industry))
            .order_by(Industry.position.is_(None), Industry.position, Zone.position.is_(None),
                      Zone.position, Park.position, Park.name))


def enterprise_counts() -> dict[int, int]:
    rows = db.session.execute(select(Enterprise.park_id, func.count()).group_by(Enterprise.park_id))
    return {park_id: count for park_id, count in rows if park_id is not None}


def parks_by_industry():
    """[(industry or None, [(zone or None, [park, ...]), ...]), ...] in display order."""
    parks = db.session.scalars(parks_select()).all()
    return [(industry, [(zone, list(in_zone)) for zone, in_zone in groupby(in_industry, key=lambda p: p.zone)])
            for industry, in_industry in groupby(parks, key=lambda p: p.industry)]


def industries() -> list[Industry]:
    return list(db.session.scalars(select(Industry).order_by(Industry.position)))


def industries_with_chains() -> list[Industry]:
    """Industries with their chains and chain nodes, for the forms' chain-node picker: three queries,
    not one per industry and one per chain."""
    return list(db.session.scalars(select(Industry).order_by(Industry.position)
                                   .options(selectinload(Industry.chains).selectinload(Chain.nodes))))


def parks_by_county() -> list[Park]:
    """Every park, county by county (the forms' park picker shows "县区 · 园区")."""
    return list(db.session.scalars(select(Park).order_by(Park.county_code, Park.position)
                                   .options(selectinload(Park.county))))


def parks_in_order() -> list[Park]:
    return list(db.session.scalars(select(Park).order_by(Park.position)))


def park_detail(park_id: int) -> Park:
    return db.one_or_404(select(Park).where(Park.id == park_id).options(
        selectinload(Park.enterprises), selectinload(Park.county),
        selectinload(Park.industry).selectinload(Industry.chains)))
