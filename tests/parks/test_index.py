"""The park list (/parks/): the policy's clusters, zone layouts and parks, for every role."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.parks.helpers import ROLES, park_by_name, section_for, sections, table_rows, text_of

CLUSTERS = {  # industry: zone layout, as the policy's section 四 puts it
    "氟新材料": "一区四园",
    "石墨和石墨烯": "一区三园",
    "生物医药": "一区多园",
    "稀土新能源材料": None,  # the policy names one carrier park and six chains, no 一区N园
}

# park (the policy's own name): (county, industry section it is listed under)
POLICY_PARKS = {
    "黄砂氟新材料循环经济产业园": ("三元区", "氟新材料"),
    "吉口循环经济产业园": ("三元区", "氟新材料"),
    "明溪氟新材料产业园": ("明溪县", "氟新材料"),
    "清流氟化工产业园": ("清流县", "氟新材料"),
    "永安石墨与石墨烯孵化中心": ("永安市", "石墨和石墨烯"),
    "三明稀土产业园": ("三元区", "稀土新能源材料"),
    "金沙园生物医药产业园": ("沙县区", "生物医药"),
    "明溪生物医药专业园": ("明溪县", "生物医药"),
    "三元荆东医药集中区": ("三元区", "生物医药"),
    "将乐轻合金产业孵化园": ("将乐县", "轻合金"),
    "沈阳机床·三明5D智造谷": ("三元区", "智能制造/装备"),
    "机械科学研究总院海西分院": ("沙县区", "智能制造/装备"),
    "三明经济开发区": ("三元区", "综合"),
}


@pytest.fixture(params=ROLES, ids=lambda role: role.value)
def page(request, seeded, client, login_as) -> str:
    login_as(request.param)
    response = client.get("/parks/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def rows_by_park(fragment: str) -> dict[str, list[str]]:
    return {row[0]: row for row in table_rows(fragment)}


def test_lists_the_four_clusters_with_their_zone_layouts(page):
    for industry, layout in CLUSTERS.items():
        section = text_of(section_for(page, industry))
        assert "重点产业集群" in section
        if layout:
            assert layout in section, f"{industry} lacks its layout {layout}"


def test_every_park_the_policy_names_is_listed_with_its_county(page):
    rows = rows_by_park(page)
    for name, (county, _industry) in POLICY_PARKS.items():
        assert name in rows, f"{name} missing from the park list"
        assert rows[name][2] == county, f"{name} listed in {rows[name][2]}, expected {county}"


def test_each_park_sits_under_its_own_cluster_and_no_other(page):
    by_section = {heading.split()[0]: set(rows_by_park(chunk)) for heading, chunk in sections(page).items()}
    for name, (_county, industry) in POLICY_PARKS.items():
        holders = [heading for heading, names in by_section.items() if name in names]
        assert holders == [industry], f"{name} listed under {holders}, expected [{industry}]"


def test_fluorine_zone_holds_the_four_fluorine_parks_in_one_zone(page):
    section = section_for(page, "氟新材料")
    assert "氟新材料产业集聚区" in text_of(section) and "一区四园，4 个园区" in text_of(section)
    assert "清流氟化工产业园" in rows_by_park(section)
    assert "清流氟化工产业园" not in rows_by_park(section_for(page, "生物医药"))


def test_park_names_link_to_their_pages(page):
    park = park_by_name("清流氟化工产业园")
    assert f'<a href="/parks/{park.id}">清流氟化工产业园</a>' in page


def test_says_positions_are_approximate(page):
    assert "县城近似" in text_of(page)
    rows = rows_by_park(page)
    assert "县城位置近似" in rows["清流氟化工产业园"][4]
    assert "地名位置近似" in rows["金沙园生物医药产业园"][4]


def test_anchor_firm_counts_follow_the_policy(page):
    rows = rows_by_park(page)
    assert rows["黄砂氟新材料循环经济产业园"][3] == "2"  # 福建三农股份公司, 金氟化工
    assert rows["明溪氟新材料产业园"][3] == "2"  # 海斯福化工, 海西联合药业
    assert rows["三明稀土产业园"][3] == "1"  # 厦门钨业
    assert rows["明溪生物医药专业园"][3] == "0"


def test_without_reference_data_the_page_says_how_to_load_it(client, login_as):
    login_as("leader")
    response = client.get("/parks/")
    assert response.status_code == 200
    assert "flask seed" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/parks/", "/parks"])
def test_anonymous_visitor_is_sent_to_login(client, seeded, path):
    response = client.get(path, follow_redirects=False)
    if response.status_code == 308:  # /parks → /parks/ first
        response = client.get(urlsplit(response.headers["Location"]).path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/parks/"]  # back to the list after logging in
    assert "黄砂" not in response.get_data(as_text=True)
