"""A chain world with known nodes: 萤石 strong by an anchor firm, 氢氟酸 strong by a started project, 高端含氟无机盐
weak (a 前期 project in 明溪, plus paused and dropped ones that must not count), 含氟新型制冷剂 a gap (only a
project in talks and a paused one that had started), and parks with known capacity."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select, update

from core import clock
from core.auth.models import Role
from core.db import db
from parks import services as park_services
from parks.models import CapacityMeasure, ChainNode, Enterprise, Industry, Park
from projects.leads.models import Lead, LeadStatus
from projects.models import Project
from projects.stages import Stage
from tests.factories import make_lead, make_project, make_user

OWN, OTHER = "350404", "350421"  # 三元区 (the county official's), 明溪县
FOREIGN_PROJECT = "明溪前期无机盐项目"
FOREIGN_LEAD = "明溪制冷剂线索有限公司"
OWN_PROJECT = "三元开工氢氟酸项目"
OWN_LEAD = "三元无机盐线索有限公司"


def node(name: str) -> ChainNode:
    return db.session.scalar(select(ChainNode).where(ChainNode.name == name))


def park(name: str) -> Park:
    return db.session.scalar(select(Park).where(Park.name == name))


def _at(project: Project, stage: Stage, **values) -> None:
    """Put a project at a stage directly (its gates are tested elsewhere; here only the stage matters)."""
    db.session.execute(update(Project).where(Project.id == project.id).values(stage=stage, **values))
    db.session.commit()


def build() -> dict:
    commerce, admin = make_user(Role.COMMERCE), make_user(Role.ADMIN)
    fluorine = db.session.scalar(select(Industry).where(Industry.code == "fluorine"))
    huangsha, jikou, mingxi, qingliu = (park("黄砂氟新材料循环经济产业园"), park("吉口循环经济产业园"),
                                        park("明溪氟新材料产业园"), park("清流氟化工产业园"))
    firm = db.session.scalar(select(Enterprise).where(Enterprise.name == "福建三农股份公司"))
    firm.chain_node_id = node("萤石").id
    db.session.commit()

    def project(name, node_name, stage, county, where, investment="10000", **values):
        talks = {"stage": stage, "sign_date": None, "sign_type": None} if stage is Stage.NEGOTIATING else {}
        made = make_project(commerce, **{"name": name, "county_code": county, "park_id": where.id,
                                         "industry_id": fluorine.id, "chain_node_id": node(node_name).id,
                                         "total_investment": Decimal(investment), "sign_date": dt.date(2025, 3, 1),
                                         **talks})
        if stage not in (Stage.SIGNED, Stage.NEGOTIATING):
            _at(made, stage, **values)
        return made

    project(OWN_PROJECT, "氢氟酸", Stage.STARTED, OWN, huangsha, "30000")
    project(FOREIGN_PROJECT, "高端含氟无机盐", Stage.APPROVAL, OTHER, mingxi, "8000")
    project("暂缓的无机盐项目", "高端含氟无机盐", Stage.PAUSED, OWN, jikou, "5000", paused_from=Stage.STARTED)
    project("终止的无机盐项目", "高端含氟无机盐", Stage.DROPPED, OWN, jikou, "7000")
    project("在谈制冷剂项目", "含氟新型制冷剂", Stage.NEGOTIATING, OWN, huangsha, "4000")
    project("暂缓的制冷剂项目", "含氟新型制冷剂", Stage.PAUSED, OTHER, mingxi, "6000", paused_from=Stage.STARTED)
    project("终止的制冷剂项目", "含氟新型制冷剂", Stage.DROPPED, OTHER, mingxi, "9000")
    make_lead(commerce, investor_name=FOREIGN_LEAD, county_code=OTHER, industry_id=fluorine.id,
              chain_node_id=node("含氟新型制冷剂").id)
    own_lead = make_lead(commerce, investor_name=OWN_LEAD, county_code=OWN, industry_id=fluorine.id,
                         chain_node_id=node("高端含氟无机盐").id, land_needed=Decimal("100"))
    db.session.execute(update(Lead).where(Lead.id == own_lead.id).values(status=LeadStatus.ASSESSING))
    make_lead(commerce, investor_name="放弃的线索有限公司", county_code=OWN, industry_id=fluorine.id,
              chain_node_id=node("含氟新型制冷剂").id)
    db.session.execute(update(Lead).where(Lead.investor_name == "放弃的线索有限公司")
                       .values(status=LeadStatus.ABANDONED))
    db.session.commit()

    today = clock.today()
    for where, values, days in ((huangsha, {CapacityMeasure.PLANNED_AREA: "3000", CapacityMeasure.FREE_LAND: "50"}, 10),
                                (jikou, {CapacityMeasure.PLANNED_AREA: "2000", CapacityMeasure.FREE_LAND: "300"}, 100),
                                (mingxi, {CapacityMeasure.PLANNED_AREA: "1500", CapacityMeasure.FREE_LAND: "200",
                                          CapacityMeasure.FACTORY_SPACE: "12000"}, 30)):
        park_services.confirm_capacity(where, {m: Decimal(v) for m, v in values.items()},
                                       confirmed_on=today - dt.timedelta(days=days), by=admin)
    db.session.commit()
    return {"lead": own_lead.id, "fluorine": fluorine.id, "commerce": commerce.id, "admin": admin.id}
