"""Writing parks: seeding the policy's reference data, correcting a park's position and boundary, confirming its
capacity."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from core import audit, clock
from core.auth.models import County, Role, User
from core.auth.reference_data import EXTENT
from core.db import db
from core.errors import InvalidInput, NotAllowed
from core.inputs import check_area

from . import reference_data as ref
from .geojson import BoundaryError, parse_boundary
from .models import (
    CapacityMeasure,
    Chain,
    ChainNode,
    Enterprise,
    Industry,
    Park,
    ParkCapacity,
    ParkKind,
    PositionConfidence,
    Zone,
)
from .queries import area_text, capacity_of


class PositionError(InvalidInput):
    """A position outside Sanming; the message is for the user."""


def _upsert(model, key: dict, **values):
    row = db.session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    return row


def _seeded(model, seed_key: str, **identity):
    """The seed's row for ``seed_key`` (found by that key even after an administrator renamed it, or else by
    ``identity`` when it predates the keys), and whether the seed may write it: a new row, or one no
    administrator has changed (an edited or retired row is theirs and stays as it is)."""
    row = db.session.scalar(select(model).filter_by(seed_key=seed_key)) \
        or db.session.scalar(select(model).filter_by(seed_key=None, **identity))
    if row is None:
        row = model(**identity)  # added by _write, once complete (a look-up in between would flush it)
    row.seed_key = seed_key
    return row, row.edited_at is None


def _write(row, **values):
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.flush()
    return row


def seed_reference() -> dict[str, int]:
    """Insert or refresh industries, chains, zones, parks and anchor firms; safe to run again.

    Positions an administrator has confirmed are never overwritten, nor any row an administrator has
    edited, renamed or retired (a renamed park is not created again under its old name)."""
    industries = {}
    for position, (code, name, color, is_cluster, chains) in enumerate(ref.INDUSTRIES):
        industry = _upsert(Industry, {"code": code}, name=name, color=color, is_cluster=is_cluster,
                           position=position)
        industries[code] = industry
        for chain_position, (chain_name, nodes) in enumerate(chains.items()):
            chain, fresh = _seeded(Chain, f"{code}/{chain_name}", industry_id=industry.id, name=chain_name)
            _write(chain, **({"position": chain_position} if fresh else {}))
            for node_position, node_name in enumerate(nodes):
                node, fresh = _seeded(ChainNode, f"{code}/{chain_name}/{node_name}", chain_id=chain.id,
                                      name=node_name)
                _write(node, **({"position": node_position} if fresh else {}))
    zones = {}
    for position, (name, layout, industry_code, description) in enumerate(ref.ZONES):
        zone, fresh = _seeded(Zone, name, name=name)
        zones[name] = _write(zone, **(dict(layout=layout, industry_id=industries[industry_code].id,
                                           description=description, position=position) if fresh else {}))
    parks = {}
    for position, row in enumerate(ref.PARKS):
        name, kind, zone, industry_code, county_code, lat, lon, confidence, note, description = row
        park, fresh = _seeded(Park, name, name=name)
        values = dict(kind=ParkKind(kind), zone_id=zones[zone].id if zone else None,
                      industry_id=industries[industry_code].id if industry_code else None,
                      description=description, position=position) if fresh else {}
        if fresh and park.position_confidence is not PositionConfidence.CONFIRMED:
            county = db.session.get(County, county_code)
            values.update(county_code=county_code, lat=lat, lon=lon,
                          position_confidence=PositionConfidence(confidence),
                          position_note=note or ref.COUNTY_SEAT_NOTE.format(county=county.name))
        parks[name] = _write(park, **values)
    for position, (name, role, industry_code, park_name, note) in enumerate(ref.ENTERPRISES):
        firm, fresh = _seeded(Enterprise, name, name=name)
        _write(firm, **(dict(role=role, industry_id=industries[industry_code].id, park_id=parks[park_name].id,
                             note=note, position=position) if fresh else {}))
    return {"industries": len(industries), "zones": len(zones), "parks": len(parks),
            "enterprises": len(ref.ENTERPRISES)}


def set_position(park: Park, lat: float, lon: float, *, note: str = "", by: User) -> None:
    if not (EXTENT["lat_min"] <= lat <= EXTENT["lat_max"] and EXTENT["lon_min"] <= lon <= EXTENT["lon_max"]):
        raise PositionError(
            f"位置不在三明市范围内（北纬 {EXTENT['lat_min']}–{EXTENT['lat_max']}°，"
            f"东经 {EXTENT['lon_min']}–{EXTENT['lon_max']}°）。")
    old = {"lat": park.lat, "lon": park.lon, "confidence": park.position_confidence.value}
    park.lat, park.lon = lat, lon
    park.position_confidence = PositionConfidence.CONFIRMED
    park.position_note = note.strip()
    db.session.flush()
    audit.record("park", park.id, "position_set", by, old=old, new={"lat": lat, "lon": lon})


def set_boundary(park: Park, raw: bytes, *, by: User) -> int:
    """Validate and store an uploaded boundary; returns how many polygons it holds."""
    try:
        collection = parse_boundary(raw, max_bytes=current_app.config["GEOJSON_MAX_BYTES"], extent=EXTENT)
    except BoundaryError as exc:
        raise InvalidInput(f"边界未保存：{exc}") from None
    park.boundary_geojson = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    park.position_confidence = PositionConfidence.CONFIRMED
    db.session.flush()
    count = len(collection["features"])
    audit.record("park", park.id, "boundary_set", by, polygons=count, bytes=len(raw))
    return count



def may_confirm_capacity(user: User, park: Park) -> bool:
    """Administrators, and the officials of the park's own county."""
    return user.role is Role.ADMIN or (user.role is Role.COUNTY and user.county_code == park.county_code)


def confirm_capacity(park: Park, values: dict[CapacityMeasure, Decimal | None], *, confirmed_on: dt.date,
                     by: User, note: str = "") -> list[ParkCapacity]:
    """Record the figures given (a blank measure keeps its current figure and date) as confirmed on
    ``confirmed_on`` by ``by``; earlier confirmations stay as the history. Refuses negative or absurd figures,
    free land or developed area beyond the planned area, and anyone but an administrator or the park's county."""
    if not may_confirm_capacity(by, park):
        raise NotAllowed("只有管理员和园区所在县区的账号可以更新园区容量，本次未保存。")
    given = {measure: value for measure, value in values.items() if value is not None}
    if not given:
        raise InvalidInput("请至少填写一项容量数据。")
    if confirmed_on > clock.today():
        raise InvalidInput(errors={"confirmed_on": "核实日期不能晚于今天。"})
    errors = {}
    for measure, value in given.items():
        try:
            given[measure] = check_area(value, measure.label, measure.unit)
        except ValueError as problem:
            errors[measure.value] = str(problem)
    if errors:
        raise InvalidInput(errors=errors)
    current = capacity_of(park.id)
    merged = {measure: given.get(measure, current.value(measure)) for measure in CapacityMeasure}
    planned = merged[CapacityMeasure.PLANNED_AREA]
    for measure in (CapacityMeasure.FREE_LAND, CapacityMeasure.DEVELOPED_AREA):
        if planned is not None and merged[measure] is not None and merged[measure] > planned:
            field = measure.value if measure in given else CapacityMeasure.PLANNED_AREA.value
            errors[field] = (f"{measure.label.removesuffix('（亩）')}（{area_text(merged[measure])} 亩）不能大于园区规划面积"
                             f"（{area_text(planned)} 亩）。")
    if errors:
        raise InvalidInput(errors=errors)
    rows = [ParkCapacity(park_id=park.id, measure=measure, value=value, confirmed_on=confirmed_on,
                         confirmed_by_id=by.id, note=(note or "").strip()) for measure, value in given.items()]
    db.session.add_all(rows)
    db.session.flush()
    audit.record("park", park.id, "capacity_confirmed", by, confirmed_on=confirmed_on.isoformat(), note=note or "",
                 values={measure.label: area_text(value) for measure, value in given.items()})
    return rows
