"""推荐园区: the parks ranked for a lead with their reasons, on the chain world's known capacity and neighbours."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from core import clock
from core.auth.models import Role
from core.db import db
from projects.chains.recommend import VAGUE_NOTE, recommend_parks
from projects.leads.models import Lead
from tests.factories import make_lead, make_user
from tests.projects.web import new_client, page_text

from .world import OWN, build, node


@pytest.fixture
def world(project_ref):
    return build()


def ranking(lead):
    return [(rec.park.name, rec.score, [reason.text for reason in rec.reasons])
            for rec in recommend_parks(lead, clock.today()).parks]


def test_parks_ranked_by_industry_neighbours_land_and_staleness(world):
    # The lead targets 高端含氟无机盐 and needs 100 亩. Its upstream 氢氟酸 has a started project in 黄砂.
    lead = db.session.get(Lead, world["lead"])
    ranked = ranking(lead)
    assert [(name, score) for name, score, _ in ranked] == [
        ("黄砂氟新材料循环经济产业园", 30 + 20 + 12),  # short of land: half the need, half the land points (rounded down)
        ("明溪氟新材料产业园", 30 + 25),
        ("吉口循环经济产业园", 30 + 25 - 15),  # enough land, but confirmed 100 days ago
        ("清流氟化工产业园", 30),  # no capacity on record
    ]
    huangsha, mingxi, jikou, qingliu = (reasons for _, _, reasons in ranked)
    assert huangsha == ["园区定位为氟新材料产业", "上游环节“氢氟酸”在园区已有 1 个项目",
                        "可供地 50 亩，比用地需求 100 亩 少 50 亩"]
    assert mingxi[-1] == "可供地 200 亩，满足用地需求 100 亩"
    assert jikou[-1].startswith("容量数据超过 90 天未核实")
    assert qingliu[-1] == "园区未登记可供地，无法判断能否满足用地需求 100 亩"
    # No park outside the industry and away from the chain is offered.
    assert all("氟" in name or "吉口" in name or "黄砂" in name for name, _, _ in ranked)


def test_downstream_anchor_firms_count_as_neighbours(world):
    lead = db.session.get(Lead, world["lead"])
    lead.chain_node_id = node("氢氟酸").id  # upstream 萤石: 福建三农 (anchor firm) in 黄砂
    lead.land_needed = None
    db.session.commit()
    reasons = dict((name, texts) for name, _, texts in ranking(lead))
    assert "上游环节“萤石”在园区已有 1 家龙头企业" in reasons["黄砂氟新材料循环经济产业园"]
    assert "下游环节“高端含氟无机盐”在园区已有 1 个项目" in reasons["明溪氟新材料产业园"]


def test_factory_space_need(world):
    lead = db.session.get(Lead, world["lead"])
    lead.land_needed, lead.factory_space_needed = None, Decimal("10000")
    db.session.commit()
    reasons = dict((name, texts) for name, _, texts in ranking(lead))
    assert "标准厂房 12,000 m²，满足厂房需求 10,000 m²" in reasons["明溪氟新材料产业园"]
    assert "园区未登记标准厂房，无法判断能否满足厂房需求 10,000 m²" in reasons["黄砂氟新材料循环经济产业园"]


def test_a_vague_lead_gets_the_industrys_parks_and_a_note(app, world):
    vague = make_lead(industry_id=world["fluorine"], county_code=OWN)
    advice = recommend_parks(vague, clock.today())
    assert advice.note == VAGUE_NOTE
    assert {rec.park.name for rec in advice.parks} == {"黄砂氟新材料循环经济产业园", "吉口循环经济产业园",
                                                      "明溪氟新材料产业园", "清流氟化工产业园"}


def test_the_lead_page_shows_the_ranking_with_reasons(app, world):
    page = new_client(app, make_user(Role.COMMERCE)).get(f"/leads/{world['lead']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "推荐园区" in html
    order = re.findall(r'data-park="(\d+)"', html)
    assert len(order) == 4
    text = page_text(html)
    assert "上游环节“氢氟酸”在园区已有 1 个项目（+20）" in text
    assert "排名下调" in text and "（-15）" in text
    assert VAGUE_NOTE not in text
