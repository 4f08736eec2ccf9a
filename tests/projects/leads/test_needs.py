"""A lead names what its investor needs: the target chain node (of the lead's industry), land (亩) and standard
factory space (m²); a node of another industry or a negative or absurd area is refused and nothing is saved."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.db import db
from parks.models import Chain, ChainNode, Industry
from projects.leads.models import Lead
from tests.factories import make_user
from tests.projects.web import new_client, page_text


def industry(code: str) -> Industry:
    return db.session.scalar(select(Industry).where(Industry.code == code))


def first_node(code: str) -> ChainNode:
    return db.session.scalar(select(ChainNode).join(Chain).where(Chain.industry_id == industry(code).id)
                             .order_by(Chain.position, ChainNode.position))


def form(**values) -> dict:
    return {"version": "0", "investor_name": "需求测试有限公司", "source": "visit", "county_code": "350404",
            "industry_id": str(industry("fluorine").id), **values}


def leads() -> int:
    return db.session.scalar(select(func.count()).select_from(Lead))


def test_a_lead_records_its_node_and_needs(app, project_ref):
    client = new_client(app, make_user(Role.COMMERCE))
    node = first_node("fluorine")
    response = client.post("/leads/new", data=form(chain_node_id=str(node.id), land_needed="120.5",
                                                   factory_space_needed="8000"))
    assert response.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert (lead.chain_node_id, lead.land_needed, lead.factory_space_needed) == (node.id, Decimal("120.50"),
                                                                                 Decimal("8000.00"))
    text = page_text(client.get(f"/leads/{lead.id}"))
    assert "120.5 亩" in text or "120.50 亩" in text
    assert "推荐园区" in text


@pytest.mark.parametrize(("values", "field_message"), [
    ({"chain_node_id": "graphite"}, "产业链环节须属于所选产业。"),
    ({"land_needed": "-1"}, "用地需求不能为负数。"),
    ({"factory_space_needed": "-10"}, "标准厂房需求不能为负数。"),
    ({"land_needed": "5000000"}, "用地需求超过 1,000,000 亩，请核对单位和数值。"),
    ({"land_needed": "1e1000000"}, "用地需求超过"),
    ({"land_needed": "Infinity"}, "请输入数字（单位：亩）。"),
    ({"factory_space_needed": "abc"}, "请输入数字（单位：m²）。"),
])
def test_bad_needs_are_refused_and_nothing_saved(app, project_ref, values, field_message):
    if values.get("chain_node_id") == "graphite":
        values = {"chain_node_id": str(first_node("graphite").id)}
    response = new_client(app, make_user(Role.COMMERCE)).post("/leads/new", data=form(**values))
    assert response.status_code == 400
    assert field_message in page_text(response)
    assert leads() == 0


def test_the_service_refuses_bad_needs_too(project_ref):
    from projects.leads.models import LeadSource
    from projects.leads.services import ProjectInvalid, create_lead
    for need, message in (({"land_needed": Decimal("-1")}, "用地需求不能为负数。"),
                          ({"industry_id": industry("fluorine").id, "chain_node_id": first_node("graphite").id},
                           "产业链环节须属于所选产业。")):
        with pytest.raises(ProjectInvalid, match=message):
            create_lead({"investor_name": "服务层测试有限公司", "source": LeadSource.VISIT, **need},
                        by=make_user(Role.COMMERCE))
        db.session.rollback()
    assert leads() == 0
