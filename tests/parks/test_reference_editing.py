"""Administrators keep the zones, chains, chain nodes and anchor firms on the same create, edit and retire pages,
each change audited and shown; a name in use is refused with nothing written."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db
from parks.models import Chain, ChainNode, Enterprise, Industry, Zone
from parks.services import seed_reference
from tests.parks.helpers import audit_count, park_by_name, text_of
from tests.projects.web import snapshot


def industry_id(code: str) -> int:
    return db.session.scalar(select(Industry.id).filter_by(code=code))


def chain_id(name: str) -> int:
    return db.session.scalar(select(Chain.id).filter_by(name=name))


def new_forms():
    """kind → (model, a valid new row's form, an edit of it, what the edit's history says)."""
    return {
        "zones": (Zone, {"name": "轻合金产业集聚区", "layout": "一区两园", "industry_id": industry_id("light_alloy"),
                         "description": "将乐、沙县"},
                  {"layout": "一区三园"}, "布局：一区两园 → 一区三园"),
        "chains": (Chain, {"name": "氟化工循环利用", "industry_id": industry_id("fluorine")},
                   {"name": "含氟废料循环利用"}, "名称：氟化工循环利用 → 含氟废料循环利用"),
        "nodes": (ChainNode, {"name": "电子级氢氟酸", "chain_id": chain_id("氟化工产业链")},
                  {"chain_id": chain_id("稀土磁性材料")}, "产业链：氟化工产业链 → 稀土磁性材料"),
        "enterprises": (Enterprise, {"name": "永安石墨烯科技", "role": "骨干企业", "industry_id": industry_id("graphite"),
                                     "park_id": park_by_name("永安石墨和石墨烯产业园").id, "note": ""},
                        {"role": "龙头企业"}, "角色：骨干企业 → 龙头企业"),
    }


@pytest.mark.parametrize("kind", ["zones", "chains", "nodes", "enterprises"])
def test_create_edit_retire_restore_each_audited_and_shown(seeded, client, login_as, kind):
    admin = login_as("admin", display_name="王管理")
    model, data, edit, edit_line = new_forms()[kind]
    response = client.post(f"/parks/{kind}/new", data=data)
    row = db.session.scalar(select(model).filter_by(name=data["name"]))
    assert response.status_code == 302 and response.headers["Location"] == f"/parks/{kind}/{row.id}/edit"
    entity = model.__tablename__
    assert audit_count(entity=entity, entity_id=str(row.id), action="created", user_id=admin.id) == 1

    assert client.post(f"/parks/{kind}/{row.id}/edit", data={**data, **edit}).status_code == 302
    db.session.rollback()
    assert all(getattr(db.session.get(model, row.id), field) == value for field, value in edit.items())
    page = text_of(client.get(f"/parks/{kind}/{row.id}/edit").get_data(as_text=True))
    assert "王管理 · 新建" in page and "王管理 · 修改" in page and edit_line in page

    assert client.post(f"/parks/{kind}/{row.id}/retire").status_code == 302
    db.session.rollback()
    assert db.session.get(model, row.id).is_retired
    listing = client.get("/parks/reference").get_data(as_text=True)
    assert "已撤销" in text_of(listing)
    assert client.post(f"/parks/{kind}/{row.id}/restore").status_code == 302
    db.session.rollback()
    assert not db.session.get(model, row.id).is_retired
    page = text_of(client.get(f"/parks/{kind}/{row.id}/edit").get_data(as_text=True))
    assert "王管理 · 撤销" in page and "王管理 · 恢复" in page


@pytest.mark.parametrize("kind, data, message", [
    ("zones", {"name": "氟新材料产业集聚区", "layout": "一区", "industry_id": "fluorine"}, "已有同名的集聚区“氟新材料产业集聚区”。"),
    ("chains", {"name": "化学药", "industry_id": "biomedicine"}, "已有同名的产业链“化学药”。"),
    ("nodes", {"name": "萤石", "chain_id": "氟化工产业链"}, "已有同名的产业链环节“萤石”。"),
    ("enterprises", {"name": "厦门钨业", "role": ""}, "已有同名的龙头企业“厦门钨业”。"),
])
def test_a_name_in_use_is_refused_and_nothing_is_written(seeded, client, login_as, kind, data, message):
    login_as("admin")
    data = dict(data)
    if "industry_id" in data:
        data["industry_id"] = industry_id(data["industry_id"])
    if "chain_id" in data:
        data["chain_id"] = chain_id(data["chain_id"])
    before = snapshot()
    response = client.post(f"/parks/{kind}/new", data=data)
    assert response.status_code == 400 and message in text_of(response.get_data(as_text=True))
    assert snapshot() == before


def test_the_same_node_name_may_sit_in_another_chain(seeded, client, login_as):
    login_as("admin")
    response = client.post("/parks/nodes/new", data={"name": "萤石", "chain_id": chain_id("稀土磁性材料")})
    assert response.status_code == 302


def test_a_retired_chain_is_offered_only_to_its_own_nodes(seeded, client, login_as):
    from parks.editing import retire

    admin = login_as("admin")
    retire(db.session.get(Chain, chain_id("稀土陶瓷")), by=admin)
    db.session.commit()
    assert "稀土陶瓷" not in text_of(client.get("/parks/nodes/new").get_data(as_text=True))
    node = db.session.scalar(select(ChainNode).filter_by(name="稀土分离冶炼"))
    node.chain_id = chain_id("稀土陶瓷")  # a node of the retired chain
    db.session.commit()
    assert "稀土陶瓷（已撤销）" in text_of(client.get(f"/parks/nodes/{node.id}/edit").get_data(as_text=True))
    response = client.post("/parks/nodes/new", data={"name": "稀土陶瓷粉体", "chain_id": chain_id("稀土陶瓷")})
    assert response.status_code == 400


def test_the_new_node_page_starts_on_the_chain_it_was_opened_from(seeded, client, login_as):
    login_as("admin")
    page = client.get(f"/parks/nodes/new?chain_id={chain_id('医疗器械')}").get_data(as_text=True)
    assert f'<option selected value="{chain_id("医疗器械")}">' in page


def test_a_retired_firm_leaves_its_parks_page_and_a_re_seed_keeps_it_retired(seeded, client, login_as):
    from parks.editing import retire

    admin = login_as("admin")
    park = park_by_name("清流氟化工产业园")
    assert "东莹化工 骨干企业" in text_of(client.get(f"/parks/{park.id}").get_data(as_text=True))
    firm = db.session.scalar(select(Enterprise).filter_by(name="东莹化工"))
    retire(firm, by=admin)
    db.session.commit()
    page = text_of(client.get(f"/parks/{park.id}").get_data(as_text=True))
    assert "龙头企业 政策文本未列出此园区的龙头企业。" in page and "东莹化工 骨干企业" not in page
    seed_reference()
    db.session.commit()
    db.session.rollback()
    assert db.session.get(Enterprise, firm.id).is_retired


def test_a_renamed_zone_chain_or_node_is_not_seeded_again_under_its_old_name(seeded):
    from parks.editing import save_entry
    from tests.factories import make_user

    admin = make_user("admin")
    zone = db.session.scalar(select(Zone).filter_by(name="生物医药产业集聚区"))
    save_entry(Zone, zone, {"name": "生物医药与大健康产业集聚区", "layout": zone.layout,
                            "industry_id": zone.industry_id, "description": zone.description}, by=admin)
    node = db.session.scalar(select(ChainNode).filter_by(name="萤石"))
    save_entry(ChainNode, node, {"name": "萤石（氟化钙）", "chain_id": node.chain_id}, by=admin)
    db.session.commit()
    seed_reference()
    db.session.commit()
    assert db.session.scalar(select(Zone).filter_by(name="生物医药产业集聚区")) is None
    assert db.session.scalar(select(ChainNode).filter_by(name="萤石")) is None
