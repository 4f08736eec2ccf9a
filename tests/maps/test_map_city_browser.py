"""Browser: the city view at 1366 px and on a 390 px phone (outlines, names, choropleth, park bubbles and popup,
folded legend and filters) and the offline export opened with every network request blocked."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.harness import ROOT, STEP_MS, Server, chromium, demo_env

pytestmark = pytest.mark.slow

USERNAME = "city_leader"
PASSWORD = "browser-" + secrets.token_hex(8)
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "build" / "screenshots"))

CITY_STATE = """() => {
  const map = window[document.querySelector('.folium-map').id];
  let projects = 0, bubbles = 0, summed = 0;
  map.eachLayer(l => { if (l.feature && l.feature.properties.stage) projects++;
                       if (l.sanmingBubble) { bubbles++; summed += l.sanmingBubble.count; } });
  return {ready: !!map._loaded, labels: document.querySelectorAll('.sanming-county-label').length,
          names: Array.from(document.querySelectorAll('.sanming-county-label')).map(e => e.textContent),
          projects, bubbles, summed};
}"""


@pytest.fixture
def live_server(tmp_path):
    env = demo_env(tmp_path, projects=300, seed=5, leader=(USERNAME, PASSWORD))
    with Server(env, tmp_path / "gunicorn.log") as live:
        yield live.base


def _watch(page, requested: list, errors: list) -> None:
    page.set_default_timeout(STEP_MS)
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico") else None)


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")


def _map_frame(page):
    page.frame_locator("#map-frame").locator(".leaflet-control-layers").wait_for(state="attached")
    frame = next(f for f in page.frames if "/map/frame" in f.url)
    frame.wait_for_function("() => document.querySelectorAll('.sanming-county-label').length > 0")
    return frame


def _choose_choropleth(frame, label: str) -> None:
    frame.hover(".leaflet-control-layers")
    frame.get_by_text(f"县区着色：{label}", exact=True).click()


def test_city_view_on_a_desktop_and_a_phone(live_server, tmp_path):
    base, requested, errors = live_server, [], []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
        _watch(page, requested, errors)
        _log_in(page, base)
        page.goto(f"{base}/map")
        expected = int(page.locator("#map-project-count").get_attribute("data-count"))
        frame = _map_frame(page)
        state = frame.evaluate(CITY_STATE)
        assert state["ready"] and state["labels"] == 11, state
        assert {"三元区", "永安市", "清流县", "宁化县"} <= set(state["names"])
        assert state["projects"] == 0 and state["summed"] == expected == 300, state  # bubbles at city zoom
        assert frame.locator(".sanming-legend-body").is_visible()  # unfolded on a desktop
        page.screenshot(path=str(SHOTS / "map-city.png"))

        _choose_choropleth(frame, "总投资")
        legend = frame.locator(".sanming-choropleth-legend")
        assert "按县着色：总投资" in legend.inner_text()
        _choose_choropleth(frame, "开工率")
        assert "按县着色：开工率" in legend.inner_text() and "%" in legend.inner_text()
        page.mouse.move(10, 10)
        page.screenshot(path=str(SHOTS / "map-choropleth.png"))

        # The biggest park's popup: name, county, stages with bars, total investment, blockers, its page.
        frame.evaluate("""() => { const map = window[document.querySelector('.folium-map').id]; let top = null;
            map.eachLayer(l => { if (l.sanmingBubble && l.sanmingBubble.id && (!top || l.sanmingBubble.investment
              > top.sanmingBubble.investment)) top = l; }); top.openPopup(); }""")
        popup = frame.locator(".sanming-park-popup")
        text = popup.inner_text()
        for word in ("县区", "项目数", "总投资", "未解决问题", "园区页面", "显示各项目"):
            assert word in text, text
        assert popup.locator(".sanming-bar").count() >= 1
        assert popup.locator("a[href^='/parks/']").count() == 1
        popup.get_by_text("显示各项目").click()
        frame.wait_for_function(f"() => ({CITY_STATE})().projects === {expected}")  # the projects replace the bubbles
        assert frame.evaluate(CITY_STATE)["bubbles"] == 0
        page.close()

        phone = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                 has_touch=True, device_scale_factor=2)
        _watch(phone, requested, errors)
        _log_in(phone, base)
        phone.goto(f"{base}/map")
        assert not phone.locator("#map-filters").is_visible()  # folded, as on /projects
        phone.get_by_role("button", name="筛选").click()
        phone.locator("#map-filters").wait_for(state="visible")
        height = phone.locator("#map-frame").bounding_box()["height"]
        assert height >= 0.9 * 844 - 60, height  # the map fills the screen's height
        frame = _map_frame(phone)
        assert frame.evaluate(CITY_STATE)["labels"] == 11
        assert not frame.locator(".sanming-legend-body").is_visible()  # the legend folds behind its button
        frame.locator(".sanming-legend-toggle").click()
        assert frame.locator(".sanming-legend-body").is_visible()
        phone.locator("#map-frame").scroll_into_view_if_needed()
        phone.screenshot(path=str(SHOTS / "map-phone.png"))
        phone.close()

        # The offline export: counties and park bubbles, opened as a file with every request blocked.
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        _log_in(page, base)
        export = tmp_path / "map.html"
        export.write_bytes(page.request.get(f"{base}/map/export").body())
        offline = browser.new_context(locale="zh-CN", offline=True)
        blocked = []
        offline.route("**/*", lambda route: (blocked.append(route.request.url), route.abort())
                      if not route.request.url.startswith("file:") else route.continue_())
        sheet = offline.new_page()
        offline_errors = []
        sheet.on("pageerror", lambda error: offline_errors.append(str(error)))
        sheet.goto(export.as_uri())
        sheet.wait_for_function("() => document.querySelectorAll('.sanming-county-label').length === 11")
        state = sheet.evaluate(CITY_STATE)
        assert state["summed"] == 300 and state["bubbles"] > 0, (state, offline_errors, blocked)
        assert blocked == [] and offline_errors == [], (blocked, offline_errors)
        context.close()
        offline.close()

    assert errors == [], errors
    outside = [url for url in requested
               if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], outside
