"""An anchor firm names the chain node it holds (which makes the node strong); a node of another industry is
refused and nothing is saved."""
from __future__ import annotations

from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from parks.models import Chain, ChainNode, Enterprise
from tests.factories import make_user
from tests.projects.web import new_client, page_text


def node(name: str) -> ChainNode:
    return db.session.scalar(select(ChainNode).where(ChainNode.name == name))


def firm_form(firm: Enterprise, **values) -> dict:
    return {"name": firm.name, "role": firm.role, "industry_id": str(firm.industry_id), "park_id": str(firm.park_id),
            "note": firm.note, **values}


def test_admin_sets_the_firms_node_and_the_chain_map_shows_it(app, seeded):
    firm = db.session.scalar(select(Enterprise).where(Enterprise.name == "东莹化工"))
    client = new_client(app, make_user(Role.ADMIN))
    response = client.post(f"/parks/enterprises/{firm.id}/edit",
                           data=firm_form(firm, chain_node_id=str(node("含氟聚合物及材料").id)))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Enterprise, firm.id).chain_node_id == node("含氟聚合物及材料").id
    assert "产业链环节：（空） → 含氟聚合物及材料" in page_text(client.get(f"/parks/enterprises/{firm.id}/edit"))
    data = client.get("/api/v1/chains").get_json()
    nodes = {n["name"]: n for i in data["industries"] for c in i["chains"] for n in c["nodes"]}
    assert nodes["含氟聚合物及材料"]["status"] == "strong" and nodes["含氟聚合物及材料"]["anchor_firms"] == ["东莹化工"]


def test_a_node_of_another_industry_is_refused(app, seeded):
    firm = db.session.scalar(select(Enterprise).where(Enterprise.name == "东莹化工"))
    graphite = db.session.scalar(select(ChainNode).join(Chain).where(Chain.name == "石墨产业链"))
    response = new_client(app, make_user(Role.ADMIN)).post(
        f"/parks/enterprises/{firm.id}/edit", data=firm_form(firm, chain_node_id=str(graphite.id)))
    assert response.status_code == 400
    assert f"产业链环节“{graphite.name}”不属于所选产业，未保存。" in page_text(response)
    db.session.expire_all()
    assert db.session.get(Enterprise, firm.id).chain_node_id is None
