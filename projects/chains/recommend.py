"""推荐园区: parks ranked for a lead, reason by reason: the park's industry or zone, the lead's node's upstream and
downstream neighbours already in the park, free land and factory space against the need, and stale capacity."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.db import db
from parks.models import CapacityMeasure, ChainNode, Enterprise, Park
from parks.queries import CAPACITY_STALE_DAYS, Capacity, area_text, capacities
from projects.leads.models import Lead
from projects.models import Project

from .status import BUILT, SIGNED_ONLY

INDUSTRY_POINTS, NEIGHBOUR_POINTS, LAND_POINTS, FACTORY_POINTS, STALE_POINTS = 30, 20, 25, 15, -15
LIMIT = 5
VAGUE_NOTE = "线索尚未填写目标产业链环节或用地、厂房需求，以下仅按产业列出园区；补充这些信息后推荐会更准确。"


@dataclass
class Reason:
    text: str
    points: int


@dataclass
class Recommendation:
    park: Park
    capacity: Capacity
    reasons: list[Reason] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(reason.points for reason in self.reasons)


@dataclass
class Advice:
    parks: list[Recommendation]
    note: str | None


def _neighbours(node: ChainNode) -> list[tuple[str, ChainNode]]:
    """The node's upstream and downstream links in its chain (the nodes in use next to it)."""
    nodes = [n for n in node.chain.nodes if not n.is_retired or n.id == node.id]
    at = nodes.index(node)
    return ([("上游", nodes[at - 1])] if at > 0 else []) + ([("下游", nodes[at + 1])] if at + 1 < len(nodes) else [])


def _presence(node_ids: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """(park id, node id) → (anchor firms, signed projects) for the given nodes: a project in talks is not in the
    park yet, a paused or dropped one no longer counts."""
    found: dict[tuple[int, int], list[int]] = {}
    firms = (select(Enterprise.park_id, Enterprise.chain_node_id, func.count())
             .where(Enterprise.chain_node_id.in_(node_ids), Enterprise.park_id.is_not(None),
                    Enterprise.retired_at.is_(None)).group_by(Enterprise.park_id, Enterprise.chain_node_id))
    for park_id, node_id, count in db.session.execute(firms):
        found.setdefault((park_id, node_id), [0, 0])[0] = count
    projects = (select(Project.park_id, Project.chain_node_id, func.count())
                .where(Project.chain_node_id.in_(node_ids), Project.park_id.is_not(None),
                       Project.stage.in_(SIGNED_ONLY + BUILT))
                .group_by(Project.park_id, Project.chain_node_id))
    for park_id, node_id, count in db.session.execute(projects):
        found.setdefault((park_id, node_id), [0, 0])[1] = count
    return {key: (firms, projects) for key, (firms, projects) in found.items()}


def _need_reason(capacity: Capacity, measure: CapacityMeasure, need: Decimal, points: int) -> Reason:
    what, name, unit = ("用地" if measure is CapacityMeasure.FREE_LAND else "厂房"), measure.label.split("（")[0], measure.unit
    have = capacity.value(measure)
    if have is None:
        return Reason(f"园区未登记{name}，无法判断能否满足{what}需求 {area_text(need)} {unit}", 0)
    if have >= need:
        return Reason(f"{name} {area_text(have)} {unit}，满足{what}需求 {area_text(need)} {unit}", points)
    # Part of the need met earns part of the points: a park short by a little still beats one with nothing.
    return Reason(f"{name} {area_text(have)} {unit}，比{what}需求 {area_text(need)} {unit} 少 "
                  f"{area_text(need - have)} {unit}", int(points * have / need))


def recommend_parks(lead: Lead, today: dt.date) -> Advice:
    """The parks best placed for the lead, best first (at most LIMIT), each with its reasons and their points."""
    node = lead.chain_node
    industry_id = lead.industry_id or (node.chain.industry_id if node else None)
    parks = list(db.session.scalars(select(Park).where(Park.retired_at.is_(None))
                                    .options(selectinload(Park.zone), selectinload(Park.industry),
                                             selectinload(Park.county)).order_by(Park.position, Park.id)))
    held = capacities([park.id for park in parks])
    neighbours = _neighbours(node) if node else []
    presence = _presence([n.id for _, n in neighbours]) if neighbours else {}
    needs = [(CapacityMeasure.FREE_LAND, lead.land_needed, LAND_POINTS),
             (CapacityMeasure.FACTORY_SPACE, lead.factory_space_needed, FACTORY_POINTS)]
    needs = [(measure, need, points) for measure, need, points in needs if need]
    ranked = []
    for park in parks:
        rec = Recommendation(park, held.get(park.id, Capacity({})))
        if industry_id and park.industry_id == industry_id:
            rec.reasons.append(Reason(f"园区定位为{park.industry.name}产业", INDUSTRY_POINTS))
        elif industry_id and park.zone and park.zone.industry_id == industry_id:
            rec.reasons.append(Reason(f"园区属于{park.zone.name}", INDUSTRY_POINTS))
        for side, neighbour in neighbours:
            firms, projects = presence.get((park.id, neighbour.id), (0, 0))
            if firms or projects:
                held_by = "、".join(part for part in (f"{firms} 家龙头企业" if firms else "",
                                                      f"{projects} 个项目" if projects else "") if part)
                rec.reasons.append(Reason(f"{side}环节“{neighbour.name}”在园区已有 {held_by}", NEIGHBOUR_POINTS))
        if not rec.reasons:
            continue  # neither positioned for the industry nor next to the chain: not a candidate
        rec.reasons += [_need_reason(rec.capacity, measure, need, points) for measure, need, points in needs]
        stale = rec.capacity.stale(today)
        if stale:
            oldest = min(figure.confirmed_on for figure in stale)
            rec.reasons.append(Reason(f"容量数据超过 {CAPACITY_STALE_DAYS} 天未核实（{oldest} 核实），排名下调，"
                                      "请先向园区确认", STALE_POINTS))
        ranked.append(rec)
    ranked.sort(key=lambda r: (-r.score, -(r.capacity.value(CapacityMeasure.FREE_LAND) or 0), r.park.position))
    return Advice(ranked[:LIMIT], None if node and needs else VAGUE_NOTE)
