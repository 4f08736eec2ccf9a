"""Browser journeys: what each role really does, in Chromium against gunicorn, with no console error, no script
error, no CSP violation and no request off the machine; screenshots of the main pages are saved on the way."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.harness import STEP_MS

pytestmark = pytest.mark.slow
expect.set_options(timeout=STEP_MS)

INVESTOR = "闽光氟硅新材料（浏览器测试）有限公司"
SIGNED_NAME = "闽光氟硅新材料生产基地项目"
# How many project circles Leaflet has drawn on the map's canvas (0 until the map has loaded). At city zoom the park
# bubbles stand for them: it zooms in past the detail zoom first, as a user would.
PROJECT_MARKERS = """() => {
  const element = document.querySelector('.folium-map');
  const map = element && window[element.id];
  if (!map || !map._loaded) return 0;
  if (map.getZoom() < sanmingLayers.DETAIL_ZOOM) map.setZoom(sanmingLayers.DETAIL_ZOOM, {animate: false});
  let count = 0;
  map.eachLayer(layer => { if (layer.feature && layer.feature.properties.stage) count++; });
  return count;
}"""
# Zooms to a red project's circle and brings it on top, as a user would before clicking it; returns where it is.
RED_MARKER = """() => {
  const map = window[document.querySelector('.folium-map').id];
  let target = null;
  map.eachLayer(layer => { if (!target && layer.feature && layer.feature.properties.light === 'red') target = layer; });
  if (!target) return null;
  map.setView(target.getLatLng(), 15, {animate: false});
  target.bringToFront();
  const point = map.latLngToContainerPoint(target.getLatLng());
  return {id: target.feature.properties.id, x: point.x, y: point.y};
}"""


def flash(page):
    return page.locator("main > .alert")


def path_of(page) -> str:
    return urlsplit(page.url).path


def map_frame(page):
    """The map page's Leaflet frame, once it is there."""
    return page.locator("#map-frame").element_handle().content_frame()


def test_commerce_logs_a_lead_follows_it_up_and_signs_it(journey):
    page = journey.open()
    journey.log_in(page, "commerce_li", screenshot="login")
    expect(page.locator("h1")).to_contain_text("待办")
    journey.shot(page, "home-commerce")

    page.locator("#mainnav").get_by_role("link", name="招商线索").click()
    expect(page.locator("h1")).to_have_text("招商线索")
    page.get_by_role("link", name="登记线索").click()
    page.get_by_label("投资方（企业名称）").fill(INVESTOR)
    page.get_by_label("联系人", exact=True).fill("陈经理")
    page.get_by_label("意向县区").select_option(label="三元区")
    page.get_by_label("预计投资（万元）").fill("32000")
    page.get_by_label("线索来源").select_option(label="展会")
    page.get_by_role("button", name="保存").click()
    expect(flash(page)).to_have_text(f"已登记线索“{INVESTOR}”。")
    expect(page.locator("h1")).to_have_text(INVESTOR)
    expect(page.locator("h1 + .badge")).to_have_text("新线索")
    lead_path = path_of(page)
    assert re.fullmatch(r"/leads/\d+", lead_path), lead_path

    summary = "电话沟通，企业确认下月来三明考察黄砂氟新材料园。"
    page.get_by_text("记录一次跟进").click()
    page.get_by_label("跟进情况").fill(summary)
    page.get_by_label("下一步", exact=True).fill("安排园区实地考察")
    page.get_by_role("button", name="记录跟进").click()
    expect(flash(page)).to_have_text("已记录跟进。")
    expect(page.locator("ul.timeline").first).to_contain_text(summary)

    for status in ("研判", "在谈"):
        page.get_by_label("变更为").select_option(label=status)
        page.get_by_role("button", name="变更状态").click()
        expect(flash(page)).to_have_text("已变更线索状态。")
        expect(page.locator("h1 + .badge")).to_have_text(status)
    journey.shot(page, "lead-detail")

    page.get_by_label("项目名称").fill(SIGNED_NAME)
    page.get_by_label("签约类型").select_option(label="合同")
    page.get_by_role("button", name="转为签约项目").click()
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    project_path = path_of(page)
    expect(flash(page)).to_have_text("线索已转为签约项目。")
    expect(page.locator("h1")).to_have_text(SIGNED_NAME)
    expect(page.locator(".badge.stage-signed").first).to_have_text("签约")
    facts = page.locator("main dl").first
    expect(facts).to_contain_text(INVESTOR)
    expect(facts).to_contain_text("三元区")
    expect(facts).to_contain_text("32,000.00 万元")
    journey.shot(page, "project-detail")

    # The lead now points at its project, and the project list finds it.
    page.goto(journey.url(lead_path))
    expect(page.locator("h1 + .badge")).to_have_text("已签约")
    page.locator(".alert-success").get_by_role("link", name=SIGNED_NAME).click()
    expect(page).to_have_url(journey.url(project_path))
    page.locator("#mainnav").get_by_role("link", name="项目", exact=True).click()
    page.get_by_label("搜索项目名称、投资方或园区").fill("闽光氟硅")
    page.get_by_role("button", name="筛选", exact=True).click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody").get_by_role("link", name=SIGNED_NAME)).to_have_attribute("href", project_path)
    journey.shot(page, "projects")

    journey.assert_clean()


def test_county_official_keeps_a_project_current_on_a_phone(journey, site):
    page = journey.open(phone=True)
    journey.log_in(page, "sanyuan_wang")
    expect(page.locator("h1")).to_contain_text("三元区王五")
    journey.shot(page, "home-county-phone")

    # The navbar is folded on a phone; Bootstrap's own script (served by the app) unfolds it.
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(page.locator("#mainnav")).to_be_hidden()
    toggler.click()
    expect(page.locator("#mainnav.show")).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    page.locator("#mainnav").get_by_role("link", name="项目", exact=True).click()
    expect(page.locator("h1")).to_have_text("项目 · 三元区")
    counties = page.locator("table tbody tr td:nth-child(4)").all_text_contents()
    assert counties and set(counties) == {"三元区"}, f"another county's projects listed: {set(counties)}"
    expect(page.locator("main")).to_contain_text(re.compile(r"共 \d+ 个项目"))
    journey.shot(page, "projects-phone")

    # Find the project through the folded filters, then keep it current.
    page.get_by_role("button", name="筛选与排序").click()
    page.get_by_label("搜索项目名称、投资方或园区").fill(site.county_project_name)
    page.get_by_role("button", name="筛选", exact=True).click()
    page.locator("table tbody").get_by_role("link", name=site.county_project_name, exact=True).click()
    project_url = journey.url(f"/projects/{site.county_project}")
    expect(page).to_have_url(project_url)

    done = (site.today - dt.timedelta(days=1)).isoformat()
    milestone = page.locator("h2:text-is('节点') + ul > li", has_text="浏览器测试节点")
    milestone.locator("summary", has_text="更新").click()
    milestone.locator("input[id^='m-actual-']").fill(done)
    milestone.get_by_role("button", name="保存").click()
    expect(flash(page)).to_have_text("已保存节点。")

    approval = page.locator("h2:text-is('前期手续') + ul > li", has_text="环评")
    expect(approval.locator(".badge")).to_have_text("未办")
    approval.locator("summary", has_text="更新").click()
    approval.locator("select[id^='status-']").select_option(label="已办结")
    approval.locator("input[id^='done-']").fill(done)
    approval.locator("input[id^='docno-']").fill("明环审〔浏览器〕18号")
    approval.get_by_role("button", name="保存").click()
    expect(flash(page)).to_have_text("已保存前期手续。")

    page.reload()
    expect(milestone).to_contain_text(f"完成 {done}")
    expect(approval.locator(".badge")).to_have_text("已办结")
    expect(approval).to_contain_text(f"办结 {done} · 明环审〔浏览器〕18号")
    journey.shot(page, "project-detail-phone")

    # The monthly report, from the to-do page's reminder.
    page.goto(journey.url("/"))
    missing = page.locator(".card", has_text="尚未填报进展")
    expect(missing.get_by_role("link", name=site.county_project_name, exact=True)).to_be_visible()
    missing.get_by_role("link", name="去填报").click()
    month = site.today.replace(day=1)
    expect(page.locator("h1")).to_have_text(f"月度进展 · {month.year}年{month.month}月")
    row = f"#p{site.county_project}-"
    page.locator(row + "investment").fill("12.5")
    page.locator(row + "funds_arrived").fill("8")
    page.locator(row + "note").fill("主体厂房封顶，设备招标中")
    page.get_by_role("button", name="提交本月进展").click()
    expect(flash(page)).to_have_text(re.compile(rf"^已保存 \d+ 个项目的 {month:%Y年%m月} 进展。$"))
    page.reload()
    expect(page.locator(row + "investment")).to_have_value("12.50")
    expect(page.locator(row + "funds_arrived")).to_have_value("8.00")
    expect(page.locator(row + "note")).to_have_value("主体厂房封顶，设备招标中")
    report_row = page.locator(".list-group-item", has=page.locator(row + "investment"))
    expect(report_row.locator(".badge")).to_have_text("已报")
    journey.shot(page, "monthly-report-phone")
    page.goto(project_url)
    expect(page.locator("h2:text-is('月度进展') + ul > li").first).to_have_text(
        f"{month.year}年{month.month}月：完成投资 12.50 万元，到位资金 8.00 万元 · 主体厂房封顶，设备招标中")

    # Another county's project is not there for them: a 404 page, in Chinese.
    foreign_url = journey.url(f"/projects/{site.foreign_project}")
    journey.expect_status(404, foreign_url)
    response = page.goto(foreign_url)
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("页面不存在")
    expect(page.locator("main")).to_contain_text("您要找的页面不存在，或您无权查看。")
    journey.shot(page, "not-found-phone")

    journey.assert_clean()


def test_leader_follows_a_red_project_from_the_dashboard_and_the_map(journey, site):
    page = journey.open()
    journey.log_in(page, "leader_zhao")
    expect(page.locator(".card", has_text="我挂钩的项目")).to_be_visible()
    journey.shot(page, "home-leader")

    page.locator("#mainnav").get_by_role("link", name="看板").click()
    expect(page.locator("h1")).to_have_text("招商引资看板")
    page.get_by_role("link", name="全部时间").click()
    expect(page.locator("#figure-signed")).to_have_text(re.compile(r"^[1-9]\d* 个$"))
    expect(page.locator("#figure-total")).to_have_text(re.compile(r"^[\d,]+\.\d\d 万元$"))
    expect(page.locator("#figure-red")).to_have_text(re.compile(r"^[1-9]\d* 个$"))
    expect(page.locator("#funnel tr")).to_have_count(5)
    expect(page.locator("#by-county tbody tr").first).to_be_visible()
    journey.shot(page, "dashboard")

    first_red = page.locator("#red-list tbody a").first
    name = first_red.inner_text()
    first_red.click()
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("main .d-flex:has(h1) .badge.light-red")).to_have_text("逾期")
    journey.shot(page, "project-red")

    page.locator("#mainnav").get_by_role("link", name="地图").click()
    expect(page.locator("h1")).to_have_text("园区与项目地图")
    expected = int(page.locator("#map-project-count").get_attribute("data-count"))
    assert expected > 0
    assert map_frame(page).wait_for_function(PROJECT_MARKERS).json_value() == expected
    journey.shot(page, "map")

    page.get_by_label("只看逾期（红灯）").check()
    page.get_by_role("button", name="筛选", exact=True).click()
    expect(page).to_have_url(re.compile(r"/map\?.*red=y"))
    frame = map_frame(page)
    assert frame.wait_for_function(PROJECT_MARKERS).json_value() == int(
        page.locator("#map-project-count").get_attribute("data-count"))
    red = frame.evaluate(RED_MARKER)
    assert red is not None, "the red-only map shows no red project"
    frame.locator(".folium-map").click(position={"x": red["x"], "y": red["y"]})
    frame.locator(".leaflet-popup").get_by_role("link", name="查看详情").click()
    expect(page).to_have_url(journey.url(f"/projects/{red['id']}"))
    expect(page.locator("main .d-flex:has(h1) .badge.light-red")).to_have_text("逾期")

    journey.assert_clean()


def test_two_browsers_edit_the_same_project_and_the_second_gets_the_conflict_page(journey, site):
    edit_path = f"/projects/{site.conflict_project}/edit"
    first, second = journey.open(), journey.open()
    journey.log_in(first, "sanyuan_wang", edit_path)
    journey.log_in(second, "commerce_li", edit_path)

    first.get_by_label("备注", exact=True).fill("三元区：施工许可已受理")
    with first.expect_response(lambda r: r.request.method == "POST") as saved:
        first.get_by_role("button", name="保存").click()
    assert saved.value.status == 302
    expect(flash(first)).to_have_text("已保存：备注。")
    expect(first.locator(".timeline")).to_contain_text("三元区：施工许可已受理")

    journey.expect_status(409, journey.url(edit_path))
    second.get_by_label("备注", exact=True).fill("商务局：投资方要求提前供地")
    with second.expect_response(lambda r: r.request.method == "POST") as refused:
        second.get_by_role("button", name="保存").click()
    assert refused.value.status == 409
    expect(second.locator("h1")).to_have_text("内容已被他人修改，您的修改尚未保存")
    change = second.locator("table").first.locator("tbody tr", has_text="三元区王五")
    expect(change).to_contain_text("备注")
    expect(change).to_contain_text("三元区：施工许可已受理")
    mine = second.locator("table").nth(1).locator("tbody tr.table-warning", has_text="备注")
    expect(mine).to_contain_text("商务局：投资方要求提前供地")
    journey.shot(second, "conflict")

    second.get_by_role("link", name="重新编辑（载入最新内容）").click()
    expect(second.get_by_label("备注", exact=True)).to_have_value("三元区：施工许可已受理")
    second.goto(journey.url(f"/projects/{site.conflict_project}"))
    facts = second.locator("main dl").first
    expect(facts).to_contain_text("三元区：施工许可已受理")
    expect(facts).not_to_contain_text("商务局：投资方要求提前供地")

    journey.assert_clean()
