"""Demo data for the chain map: nodes filled unevenly (some strong, some weak, some gaps), park capacity, and the
demo leads' target nodes and land and factory needs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from core.auth.models import Role, User
from core.db import db
from parks.models import CapacityMeasure, Chain, ChainNode, ParkCapacity
from projects.demo import DEMO_NOTE
from projects.leads.models import Lead
from projects.stages import Stage

from .status import BUILT, SIGNED_ONLY

# Each industry's nodes take turns, in chain order, at being meant strong, weak or a gap: a project may only land
# on a node its stage keeps in that role (a built project only on a strong node, a signed one not on a gap).
ROLES = ("strong", "weak", "gap")


def _planned_roles() -> dict[int, dict[str, list[int]]]:
    """Industry id → role → node ids."""
    plan: dict[int, dict[str, list[int]]] = {}
    rows = db.session.execute(select(ChainNode.id, Chain.industry_id).join(Chain)
                              .where(ChainNode.retired_at.is_(None), Chain.retired_at.is_(None))
                              .order_by(Chain.industry_id, Chain.position, ChainNode.position, ChainNode.id))
    for index, (node_id, industry_id) in enumerate(rows):
        plan.setdefault(industry_id, {role: [] for role in ROLES})[ROLES[index % len(ROLES)]].append(node_id)
    return plan


def prepare(today: dt.date):
    plan = _planned_roles()

    def hook(rng, row: dict) -> None:
        roles = plan.get(row["industry_id"])
        if not roles:
            return
        stage = Stage(row["stage"])
        if stage in BUILT:
            allowed = roles["strong"]
        elif stage in SIGNED_ONLY:
            allowed = roles["strong"] + roles["weak"]
        else:  # in talks, paused or dropped: they hold no link, so they may sit on a gap too
            allowed = roles["strong"] + roles["weak"] + roles["gap"]
        row["chain_node_id"] = rng.choice(allowed) if allowed else None
    return hook


def finish(rng, first_id: int, end_id: int, today: dt.date, now, parks) -> str:
    """Capacity for most parks (some of it stale) and, for the demo leads, target nodes and needs."""
    admin = db.session.scalar(select(User.id).where(User.role == Role.ADMIN).order_by(User.id))
    made = 0
    for park in parks:
        if rng.random() < 0.2:
            continue  # some parks have never reported
        planned = Decimal(rng.choice([800, 1500, 3000, 6000, 12000]))
        confirmed = today - dt.timedelta(days=rng.choice([5, 20, 45, 80, 120, 200]))
        values = {CapacityMeasure.PLANNED_AREA: planned,
                  CapacityMeasure.DEVELOPED_AREA: (planned * Decimal(rng.randrange(30, 80)) / 100).quantize(Decimal("1")),
                  CapacityMeasure.FREE_LAND: (planned * Decimal(rng.randrange(2, 20)) / 100).quantize(Decimal("1")),
                  CapacityMeasure.FACTORY_SPACE: Decimal(rng.choice([0, 8000, 20000, 50000]))}
        db.session.add_all(ParkCapacity(park_id=park.id, measure=measure, value=value, confirmed_on=confirmed,
                                        confirmed_by_id=admin, note="演示数据") for measure, value in values.items())
        made += 1
    nodes_of: dict[int, list[int]] = {}
    for node_id, industry_id in db.session.execute(select(ChainNode.id, Chain.industry_id).join(Chain)
                                                   .where(ChainNode.retired_at.is_(None), Chain.retired_at.is_(None))):
        nodes_of.setdefault(industry_id, []).append(node_id)
    leads = db.session.scalars(select(Lead).where(Lead.notes == DEMO_NOTE, Lead.chain_node_id.is_(None))).all()
    for lead in leads:
        if lead.industry_id in nodes_of and rng.random() < 0.7:
            lead.chain_node_id = rng.choice(nodes_of[lead.industry_id])
            lead.land_needed = Decimal(rng.choice([30, 80, 150, 400]))
            lead.factory_space_needed = Decimal(rng.choice([0, 5000, 12000])) or None
    db.session.flush()
    return f"{made} 个园区的容量数据"
