"""A park's page (/parks/<id>): county, industry, chains, anchor firms, position confidence, admin forms."""
from __future__ import annotations

import pytest

from core.auth.models import Role
from tests.parks.helpers import NON_ADMIN_ROLES, ROLES, park_by_name, text_of


@pytest.fixture
def show(seeded, client, login_as):
    """Log in (as a leader unless told) and return a function giving a park page's visible text."""
    state = {}

    def show(name: str, role: Role = Role.LEADER, *, raw: bool = False) -> str:
        if state.setdefault("role", role) is not role:
            raise AssertionError("one role per test")
        if "user" not in state:
            state["user"] = login_as(role)
        response = client.get(f"/parks/{park_by_name(name).id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return page if raw else text_of(page)

    return show


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_huangsha_page_shows_county_industry_chain_and_anchor_firms(show, role):
    page = show("黄砂氟新材料循环经济产业园", role)
    assert "所在县区 三元区（350404）" in page
    assert "产业 氟新材料" in page
    assert "氟新材料产业集聚区（一区四园）" in page
    assert "氟化工产业链：萤石 → 氢氟酸 → 高端含氟无机盐 → 含氟新型制冷剂 → 含氟聚合物及材料 → 含氟精细化学品" in page
    assert "福建三农股份公司" in page and "金氟化工" in page


def test_mingxi_fluorine_park_shows_its_firms_and_township(show):
    page = show("明溪氟新材料产业园")
    assert "所在县区 明溪县（350421）" in page
    assert "海斯福化工" in page and "海西联合药业" in page
    assert "瀚仙镇" in page
    # Firms belong to their own park only.
    assert "金氟化工" not in page and "东莹化工" not in page


def test_yongan_graphite_park_shows_xiangfenghua_and_both_chains(show):
    page = show("永安石墨和石墨烯产业园")
    assert "所在县区 永安市（350481）" in page
    assert "翔丰华新能源材料公司 龙头企业" in page
    assert "石墨产业链：采矿 → 高纯石墨 → 石墨产品 → 石墨烯产品" in page
    assert "碳材料研发与应用" in page
    assert "石墨和石墨烯产业集聚区（一区三园）" in page


def test_rare_earth_park_shows_xiamen_tungsten_and_the_six_chains(show):
    page = show("三明稀土产业园")
    assert "厦门钨业 合作企业" in page
    for chain in ["稀土磁性材料", "稀土催化材料", "稀土储氢材料", "稀土金属调质剂", "稀土陶瓷", "新能源电池材料"]:
        assert chain in page
    assert "稀土分离冶炼 → 稀土永磁电机" in page


def test_biomedicine_park_shows_the_policy_herbs(show):
    page = show("金沙园生物医药产业园")
    assert "所在县区 沙县区（350405）" in page
    assert "特色中药材：多花黄精 → 华重楼 → 虎杖 → 罗汉果" in page
    assert "政策文本未列出此园区的龙头企业" in page


def test_county_seat_position_is_explained_as_approximate(show):
    page = show("清流氟化工产业园")
    assert "位置 县城位置近似" in page
    assert "北纬 26.1811°，东经 116.8122°（WGS-84）" in page
    assert "政策文本没有坐标，此处暂用所在县（市、区）城区的位置，误差可达数公里。" in page
    assert "请管理员核准或上传园区边界" in page
    assert "园区边界：未上传" in page


def test_place_position_is_explained_as_approximate(show):
    page = show("金沙园生物医药产业园")
    assert "位置 地名位置近似" in page
    assert "按公开资料中的乡镇或地名近似定位" in page
    assert "沙县城区以北" in page


def test_park_without_industry_or_zone_still_renders(show):
    page = show("三明经济开发区")
    assert "产业 综合" in page and "集聚区 —" in page


def test_unknown_park_is_a_chinese_404_page(seeded, client, login_as):
    login_as("leader")
    response = client.get("/parks/999999")
    assert response.status_code == 404
    page = text_of(response.get_data(as_text=True))
    assert "页面不存在" in page and "错误代码 404" in page
    assert "Traceback" not in page and "Not Found" not in page


def test_anonymous_visitor_is_sent_to_login(seeded, client):
    response = client.get(f"/parks/{park_by_name('三明稀土产业园').id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_admin_sees_the_position_and_boundary_forms(show):
    park = park_by_name("清流氟化工产业园")
    page = show("清流氟化工产业园", Role.ADMIN, raw=True)
    assert f'action="/parks/{park.id}/position"' in page
    assert f'action="/parks/{park.id}/boundary"' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'name="lat"' in page and 'value="26.181100"' in page
    assert 'name="file"' in page and 'type="file"' in page
    assert "核准位置（管理员）" in page and "上传园区边界（管理员）" in page


@pytest.mark.parametrize("role", NON_ADMIN_ROLES, ids=lambda r: r.value)
def test_other_roles_do_not_see_the_forms(show, role):
    park = park_by_name("清流氟化工产业园")
    page = show("清流氟化工产业园", role, raw=True)
    assert "<form" in page  # the logout form: the page did render a form, just not these
    assert f"/parks/{park.id}/position" not in page and f"/parks/{park.id}/boundary" not in page
    assert 'type="file"' not in page and "核准位置" not in page
