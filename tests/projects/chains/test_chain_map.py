"""The chain map on a world with known strong, weak and gap nodes: classification (paused and dropped projects not
counted), figures, filters, the node page as a county official sees it, the JSON API, the gap list, its workbook
and the briefing's 产业链 sheet."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from core.auth.models import Role
from core.db import db
from parks.models import Park
from projects.chains.queries import ChainFilters, chain_map
from projects.stages import Stage
from tests.factories import make_user
from tests.projects.web import new_client, page_text

from .world import FOREIGN_LEAD, FOREIGN_PROJECT, OTHER, OWN, OWN_LEAD, OWN_PROJECT, build, node

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KNOWN = {"萤石": "strong", "氢氟酸": "strong", "高端含氟无机盐": "weak", "含氟新型制冷剂": "gap"}


@pytest.fixture
def world(project_ref):
    return build()


def figures_by_name(filters=ChainFilters()) -> dict:
    return {f.node.name: f for row in chain_map(filters) for chain in row.chains for f in chain.nodes}


def test_known_nodes_are_classified(world):
    figures = figures_by_name()
    assert {name: figures[name].status.value for name in KNOWN} == KNOWN
    assert figures["萤石"].anchor_firms == ["福建三农股份公司"]
    # A node nothing touches is a gap too.
    assert figures["含氟精细化学品"].status.value == "gap"


def test_paused_and_dropped_projects_do_not_count(world):
    figures = figures_by_name()
    weak, gap = figures["高端含氟无机盐"], figures["含氟新型制冷剂"]
    # The weak node's paused project had started: counted, it would make the node strong.
    assert weak.stages == {Stage.APPROVAL: 1}
    assert weak.investment == 8000
    # The gap node holds only a project in talks (counted, but not a link) besides paused and dropped ones.
    assert gap.stages == {Stage.NEGOTIATING: 1}
    assert gap.investment == 4000
    assert figures["氢氟酸"].stages == {Stage.STARTED: 1} and figures["氢氟酸"].investment == 30000


def test_active_leads_count_new_assessing_and_negotiating_only(world):
    figures = figures_by_name()
    assert figures["高端含氟无机盐"].active_leads == 1  # 研判
    assert figures["含氟新型制冷剂"].active_leads == 1  # the abandoned one is not counted


def test_filters_narrow_by_county_and_signing_year(world):
    own = figures_by_name(ChainFilters(county=OWN))
    # In 三元区 the weak node's only counted project (明溪's) is gone; 福建三农 sits in 黄砂 (三元区).
    assert own["高端含氟无机盐"].status.value == "gap"
    assert own["萤石"].status.value == "strong"
    assert own["含氟新型制冷剂"].active_leads == 0
    other = figures_by_name(ChainFilters(county=OTHER))
    assert other["萤石"].status.value == "gap" and other["高端含氟无机盐"].status.value == "weak"
    later = figures_by_name(ChainFilters(year=2024))
    assert later["氢氟酸"].status.value == "gap" and later["萤石"].status.value == "strong"


@pytest.mark.parametrize("role", [Role.COMMERCE, Role.COUNTY, Role.LEADER, Role.ADMIN])
def test_chain_page_shows_every_node_with_status_and_definition(app, world, role):
    html = new_client(app, make_user(role)).get("/chains").get_data(as_text=True)
    for name, status in KNOWN.items():
        card = re.search(rf'data-node="{node(name).id}" data-status="(\w+)"', html)
        assert card and card.group(1) == status, name
    assert 'title="强链：有龙头企业，或至少一个项目已开工' in html  # the definition on hover
    # Upstream to downstream, as the chain is positioned.
    order = [html.index(f'data-node="{node(name).id}"') for name in ("萤石", "氢氟酸", "高端含氟无机盐")]
    assert order == sorted(order)


def test_county_official_sees_city_wide_numbers_but_no_foreign_names(app, world):
    official = new_client(app, make_user(Role.COUNTY, county=OWN))
    chains = page_text(official.get("/chains"))
    assert FOREIGN_PROJECT not in chains and FOREIGN_LEAD not in chains
    weak = official.get(f"/chains/nodes/{node('高端含氟无机盐').id}")
    text = page_text(weak)
    assert weak.status_code == 200
    assert "前期 1" in text  # the city-wide figure, 明溪's project included
    assert FOREIGN_PROJECT not in weak.get_data(as_text=True)
    assert "其他县区另有 1 个项目" in text  # 明溪's, counted but not named
    assert OWN_LEAD in text
    gap = official.get(f"/chains/nodes/{node('含氟新型制冷剂').id}").get_data(as_text=True)
    assert FOREIGN_LEAD not in gap and "另有 1 条线索" in page_text(gap)
    commerce = new_client(app, make_user(Role.COMMERCE)).get(f"/chains/nodes/{node('高端含氟无机盐').id}")
    assert FOREIGN_PROJECT in commerce.get_data(as_text=True) and "其他县区另有" not in page_text(commerce)


def test_node_page_lists_paused_and_dropped_projects_as_not_counted(app, world):
    text = page_text(new_client(app, make_user(Role.COMMERCE)).get(f"/chains/nodes/{node('高端含氟无机盐').id}"))
    assert "暂缓的无机盐项目" in text and "终止的无机盐项目" in text and "不计入" in text


def test_api_gives_industries_chains_and_nodes(app, world):
    for role in (Role.COMMERCE, Role.COUNTY):
        response = new_client(app, make_user(role)).get("/api/v1/chains")
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert FOREIGN_PROJECT not in response.get_data(as_text=True)
        data = response.get_json()
        nodes = {n["name"]: n for industry in data["industries"] for chain in industry["chains"]
                 for n in chain["nodes"]}
        assert {name: nodes[name]["status"] for name in KNOWN} == KNOWN
        weak = nodes["高端含氟无机盐"]
        assert weak["id"] == node("高端含氟无机盐").id
        assert weak["projects"] == {"negotiating": 0, "signed": 0, "approval": 1, "started": 0, "completed": 0,
                                    "producing": 0}
        assert weak["investment"] == 8000 and weak["active_leads"] == 1 and weak["anchor_firms"] == []
        assert nodes["萤石"]["anchor_firms"] == ["福建三农股份公司"]
    narrowed = new_client(app, make_user(Role.LEADER)).get(f"/api/v1/chains?county={OWN}").get_json()
    nodes = {n["name"]: n for i in narrowed["industries"] for c in i["chains"] for n in c["nodes"]}
    assert narrowed["filters"]["county"] == OWN and nodes["高端含氟无机盐"]["status"] == "gap"


def test_bad_filters_are_ignored_not_errors(app, world):
    client = new_client(app, make_user(Role.COMMERCE))
    for query in ("county=999999", "year=abc", "year=99999999999999999999", "county=%00"):
        assert client.get(f"/chains?{query}").status_code == 200, query
        assert client.get(f"/api/v1/chains?{query}").status_code == 200, query


def _gap_sheet(book, name):
    rows = list(book[name].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row)) for row in rows[1:]]


def test_gap_list_and_its_export(app, world):
    client = new_client(app, make_user(Role.COUNTY, county=OWN))
    page = client.get("/chains/gaps").get_data(as_text=True)
    assert f'data-node="{node("高端含氟无机盐").id}"' in page and f'data-node="{node("含氟新型制冷剂").id}"' in page
    assert f'data-node="{node("氢氟酸").id}"' not in page  # strong nodes are not on the list
    response = client.get("/chains/gaps.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    rows = {row["环节"]: row for row in _gap_sheet(load_workbook(io.BytesIO(response.data)), "产业链")}
    assert "氢氟酸" not in rows and "萤石" not in rows
    weak, gap = rows["高端含氟无机盐"], rows["含氟新型制冷剂"]
    assert (weak["产业"], weak["产业链"], weak["状态"], weak["前期项目"], weak["总投资（万元）"]) == \
        ("氟新材料", "氟化工产业链", "弱", 1, 8000)
    assert (gap["状态"], gap["在谈项目"], gap["在跟线索"]) == ("缺", 1, 1)
    # The fluorine parks with their free land; 吉口's figures are stale; 清流 never reported.
    assert weak["可承接园区可供地合计（亩）"] == 550
    assert "黄砂氟新材料循环经济产业园（三元区）：可供地 50 亩" in weak["可承接园区及容量"]
    assert "吉口循环经济产业园（三元区）：可供地 300 亩、标准厂房未登记（超过 90 天未核实）" in weak["可承接园区及容量"]
    assert "清流氟化工产业园（清流县）：容量未登记" in weak["可承接园区及容量"]
    assert FOREIGN_PROJECT not in str(rows)


def test_briefing_has_the_chain_sheet_with_the_same_figures(app, world):
    client = new_client(app, make_user(Role.LEADER))
    briefing = load_workbook(io.BytesIO(client.get("/reports/briefing").data))
    export = load_workbook(io.BytesIO(client.get("/chains/gaps.xlsx").data))
    assert "产业链" in briefing.sheetnames
    assert _gap_sheet(briefing, "产业链") == _gap_sheet(export, "产业链")
    assert any(row["环节"] == "含氟新型制冷剂" for row in _gap_sheet(briefing, "产业链"))


def test_hostile_names_stay_text_in_the_export(app, world):
    park = db.session.get(Park, node("萤石").chain.industry.zones[0].parks[0].id)
    park.name = "=HYPERLINK(\"x\")园"
    db.session.commit()
    book = load_workbook(io.BytesIO(new_client(app, make_user(Role.COMMERCE)).get("/chains/gaps.xlsx").data))
    cells = [cell for row in book["产业链"].iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_own_names_are_shown_to_the_county_official(app, world):
    text = page_text(new_client(app, make_user(Role.COUNTY, county=OWN)).get(f"/chains/nodes/{node('氢氟酸').id}"))
    assert OWN_PROJECT in text
