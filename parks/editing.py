"""Administrators' edits of the reference data: create, edit, retire and restore parks, zones, chains, chain nodes
and anchor firms, each change audited field by field; a renamed park keeps its former name, and a park moved to
another county first lists the projects that would be left outside it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from core import audit, clock
from core.auth.models import County, User
from core.auth.reference_data import CITY_CENTRE
from core.db import db
from core.enums import LabeledEnum
from core.errors import InvalidInput

from .models import Chain, ChainNode, Industry, Park, ParkAlias, PositionConfidence, Zone
from .reference_data import COUNTY_SEAT_NOTE

# What an administrator edits on each kind of row (audit entity = table name), with the label its history shows.
FIELD_LABELS = {
    "park": {"name": "名称", "county_code": "所在县区", "zone_id": "集聚区", "industry_id": "产业", "kind": "类型",
             "description": "简介"},
    "zone": {"name": "名称", "layout": "布局", "industry_id": "产业", "description": "说明"},
    "chain": {"name": "名称", "industry_id": "产业"},
    "chain_node": {"name": "名称", "chain_id": "产业链"},
    "enterprise": {"name": "名称", "role": "角色", "industry_id": "产业", "park_id": "所在园区",
                   "chain_node_id": "产业链环节", "note": "说明"},
}
KIND_LABELS = {"park": "园区", "zone": "集聚区", "chain": "产业链", "chain_node": "产业链环节", "enterprise": "龙头企业"}
# Fields a row cannot be without, besides its name.
REQUIRED = {"park": ("county_code", "kind"), "zone": ("layout", "industry_id"), "chain": ("industry_id",),
            "chain_node": ("chain_id",), "enterprise": ()}
# A name is unique among the rows sharing these fields (a chain within its industry, a node within its chain).
NAME_SCOPE = {"zone": (), "chain": ("industry_id",), "chain_node": ("chain_id",), "enterprise": ()}
_REFERENCES = {"county_code": County, "zone_id": Zone, "industry_id": Industry, "chain_id": Chain, "park_id": Park,
               "chain_node_id": ChainNode}


@dataclass(frozen=True)
class Dependant:
    """A row of a package built on parks that a park's move would leave outside its county."""

    key: str  # e.g. "project:12": what the administrator confirmed
    kind: str  # 项目
    name: str
    county: str  # the county it keeps
    url: str = ""


# name → check(park, county_code) returning the Dependants; registered by packages built on parks at start-up.
_COUNTY_CHECKS: dict[str, Callable[[Park, str], list[Dependant]]] = {}


def register_county_check(name: str, check: Callable[[Park, str], list[Dependant]]) -> None:
    """Let a package parks cannot import (projects) list what a park's move to another county leaves behind."""
    _COUNTY_CHECKS[name] = check


class CountyMoveUnconfirmed(InvalidInput):
    """The park's move leaves rows outside its new county: nothing was saved until the administrator confirms
    exactly this list (``token``)."""

    def __init__(self, county: County, dependants: list[Dependant], token: str):
        super().__init__(errors={"county_code": f"园区调整到{county.name}后，下列 {len(dependants)} 个项目将不在园区所在"
                                                "县区。项目的县区不会自动改变，确认后它们将列为待复核。"})
        self.county, self.dependants, self.token = county, dependants, token


def dependants_of_move(park: Park, county_code: str) -> list[Dependant]:
    return [d for check in _COUNTY_CHECKS.values() for d in check(park, county_code)]


def move_token(county_code: str, dependants: list[Dependant]) -> str:
    return county_code + ":" + ",".join(sorted(d.key for d in dependants))


def display(field: str, value) -> str | None:
    """A stored value as the history shows it (a row's name for an id)."""
    if value is None or value == "":
        return None
    if isinstance(value, LabeledEnum):
        return value.label
    if field in _REFERENCES:
        row = db.session.get(_REFERENCES[field], value)
        return row.name if row is not None else str(value)
    return str(value)


def _check_references(row, data: dict) -> None:
    """Every id names a row; a retired one only when the row already had it."""
    for field, model in _REFERENCES.items():
        value = data.get(field)
        if value is None or value == getattr(row, field, None):
            continue
        target = db.session.get(model, value)
        if target is None:
            raise InvalidInput(errors={field: f"所选{FIELD_LABELS[row.__tablename__][field]}不存在。"})
        if field == "county_code" and not target.is_current:
            raise InvalidInput(errors={field: "请选择现行的县（市、区）。"})
        if getattr(target, "is_retired", False):
            raise InvalidInput(errors={field: f"“{target.name}”已撤销，不能再选择。"})


def _apply(row, data: dict, *, by: User, new: bool, **detail) -> None:
    """Write ``data`` onto ``row``, flush, and audit what changed (field → [old, new] as shown)."""
    entity = row.__tablename__
    changes = {}
    for field in FIELD_LABELS[entity]:
        if field not in data:
            continue
        old = None if new else getattr(row, field)
        if old != data[field] and not (new and data[field] in (None, "")):
            changes[field] = [display(field, old), display(field, data[field])]
        setattr(row, field, data[field])
    if not changes:
        return
    row.edited_at = clock.now()
    if new:
        db.session.add(row)
    db.session.flush()
    audit.record(entity, row.id, "created" if new else "updated", by, changes=changes, **detail)


def _cleaned(entity: str, data: dict) -> dict:
    cleaned = {field: data.get(field) for field in FIELD_LABELS[entity]}
    for field, value in cleaned.items():
        if isinstance(value, str) and not isinstance(value, LabeledEnum):  # strip() would make an enum a plain str
            cleaned[field] = value.strip()
    for field in ("name", *REQUIRED[entity]):
        if cleaned[field] is None or cleaned[field] == "":
            raise InvalidInput(errors={field: f"请填写{FIELD_LABELS[entity][field]}。"})
    for field in ("description", "note", "role"):
        if field in cleaned:
            cleaned[field] = cleaned[field] or ""
    return cleaned


def _next_position(model, **scope) -> int:
    return (db.session.scalar(select(func.max(model.position)).filter_by(**scope)) or 0) + 1


# ---- Parks ----

def _check_park_name(park: Park | None, name: str) -> None:
    own = park.id if park is not None else 0
    other = db.session.scalar(select(Park).where(Park.name == name, Park.id != own))
    if other is not None:
        raise InvalidInput(errors={"name": f"已有同名园区“{name}”。"})
    former = db.session.scalar(select(ParkAlias).where(ParkAlias.name == name, ParkAlias.park_id != own))
    if former is not None:
        raise InvalidInput(errors={"name": f"“{name}”是园区“{former.park.name}”的曾用名，台账仍按它识别那个园区，"
                                           "不能用作其他园区的名称。"})


def _keep_former_name(park: Park, new_name: str) -> None:
    former = {alias.name: alias for alias in park.aliases}
    if new_name in former:  # back to a former name: it is the name again, not an alias
        park.aliases.remove(former[new_name])
    if park.name not in former:
        park.aliases.append(ParkAlias(name=park.name))


def _seat(county: County) -> tuple[float, float]:
    return (county.seat_lat, county.seat_lon) if county.seat_lat is not None else CITY_CENTRE


def save_park(park: Park | None, data: dict, *, by: User, confirmed: str = "") -> Park:
    """Create a park (``park`` None) or edit one: name, county, zone, industry, kind, description.

    A rename keeps the old name as a former name. A move to another county that would leave projects outside
    it raises CountyMoveUnconfirmed unless ``confirmed`` is the token of exactly that list; the projects keep
    their county (they are listed for review). A park still at its county seat's position follows the seat."""
    data = _cleaned("park", data)
    _check_references(park, data)
    _check_park_name(park, data["name"])
    county = db.session.get(County, data["county_code"])
    detail = {}
    if park is None:
        lat, lon = _seat(county)
        park = Park(lat=lat, lon=lon, position_confidence=PositionConfidence.COUNTY_SEAT,
                    position_note=COUNTY_SEAT_NOTE.format(county=county.name), position=_next_position(Park))
        new = True
    else:
        new = False
        if data["county_code"] != park.county_code:
            dependants = dependants_of_move(park, county.code)
            token = move_token(county.code, dependants)
            if dependants and confirmed != token:
                raise CountyMoveUnconfirmed(county, dependants, token)
            if dependants:
                detail["review"] = [f"{d.kind}“{d.name}”（{d.county}）" for d in dependants]
            if park.position_confidence is PositionConfidence.COUNTY_SEAT:
                park.lat, park.lon = _seat(county)
                park.position_note = COUNTY_SEAT_NOTE.format(county=county.name)
        if data["name"] != park.name:
            _keep_former_name(park, data["name"])
    _apply(park, data, by=by, new=new, **detail)
    return park


# ---- Zones, chains, chain nodes, anchor firms ----

def save_entry(model, row, data: dict, *, by: User):
    """Create (``row`` None) or edit a zone, chain, chain node or anchor firm; the name is unique in its scope."""
    entity = model.__tablename__
    data = _cleaned(entity, data)
    _check_references(row, data)
    node = db.session.get(ChainNode, data["chain_node_id"]) if data.get("chain_node_id") else None
    if node is not None and data.get("industry_id") != node.chain.industry_id:
        raise InvalidInput(errors={"chain_node_id": f"产业链环节“{node.name}”不属于所选产业，未保存。"})
    scope = {field: data[field] for field in NAME_SCOPE[entity]}
    clash = db.session.scalar(select(model.id).filter_by(name=data["name"], **scope)
                              .where(model.id != (row.id if row is not None else 0)))
    if clash is not None:
        raise InvalidInput(errors={"name": f"已有同名的{KIND_LABELS[entity]}“{data['name']}”。"})
    new = row is None
    if new:
        row = model(position=_next_position(model, **scope))
    _apply(row, data, by=by, new=new)
    return row


# ---- Retiring ----

def retire(row, *, by: User) -> None:
    """Hide a row from every choice list; it stays wherever it is used, and ledgers still resolve a park."""
    if row.is_retired:
        raise InvalidInput(f"“{row.name}”已经撤销。")
    row.retired_at = row.edited_at = clock.now()
    db.session.flush()
    audit.record(row.__tablename__, row.id, "retired", by, name=row.name)


def restore(row, *, by: User) -> None:
    if not row.is_retired:
        raise InvalidInput(f"“{row.name}”没有撤销。")
    row.retired_at = None
    row.edited_at = clock.now()
    db.session.flush()
    audit.record(row.__tablename__, row.id, "restored", by, name=row.name)

