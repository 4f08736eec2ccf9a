"""Browser: a leader opens /map in Chromium: Leaflet starts, one marker per filtered project, hostile names inert."""
from __future__ import annotations

import re
import secrets
import sqlite3
from urllib.parse import urlsplit

import pytest

from tests.harness import STEP_MS, Server, chromium, demo_env

pytestmark = pytest.mark.slow

USERNAME = "map_leader"
PASSWORD = "browser-" + secrets.token_hex(8)
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "`+alert(1)+`", "${alert(1)}",
           "</script><script>alert(2)</script>"]

COUNT_MARKERS = """() => {
  const frame = document.querySelector('.folium-map');
  const map = window[frame.id];
  const count = () => { let projects = 0, bubbles = 0, summed = 0;
    map.eachLayer(layer => { if (layer instanceof L.CircleMarker && layer.feature && layer.feature.properties.stage) projects++;
                             if (layer.sanmingBubble) { bubbles++; summed += layer.sanmingBubble.count; } });
    return {projects, bubbles, summed}; };
  const city = count();
  map.setZoom(sanmingLayers.DETAIL_ZOOM, {animate: false});  // past the detail zoom the projects replace the bubbles
  const detail = count();
  return {ready: !!(map && map._loaded), city, projects: detail.projects, bubblesPastDetail: detail.bubbles};
}"""


@pytest.fixture
def live_server(tmp_path):
    """40 demo projects, five of them renamed to hostile text, and a leader, served by gunicorn."""
    env = demo_env(tmp_path, projects=40, seed=3, leader=(USERNAME, PASSWORD))
    with sqlite3.connect(tmp_path / "live.db") as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM project ORDER BY id LIMIT ?", (len(HOSTILE),))]
        for project_id, text in zip(ids, HOSTILE):
            conn.execute("UPDATE project SET name = ?, investor_name = ? WHERE id = ?", (text, text, project_id))
        conn.execute("UPDATE park SET name = ? WHERE id = (SELECT min(id) FROM park)", ("园区" + HOSTILE[1],))
    with Server(env, tmp_path / "gunicorn.log") as live:
        yield live.base


def test_leader_sees_the_map_with_every_filtered_project(live_server):
    base = live_server
    requested, errors, dialogs = [], [], []
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.set_default_timeout(STEP_MS)
        page.on("request", lambda request: requested.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The app has no favicon yet; the browser's own /favicon.ico 404 is not the map's error.
        page.on("console", lambda message: errors.append(f"{message.text} ({message.location.get('url')})")
                if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")
                else None)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

        page.goto(f"{base}/map")
        assert urlsplit(page.url).path == "/login"
        page.fill("#username", USERNAME)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit], input[type=submit]")
        for query in ("", "?stage=signed", "?red=y"):
            page.goto(f"{base}/map{query}")
            expected = int(page.locator("#map-project-count").get_attribute("data-count"))
            frame = page.frame_locator("#map-frame")
            frame.locator(".leaflet-control-layers").wait_for(state="attached")
            map_frame = next(f for f in page.frames if "/map/frame" in f.url)
            state = map_frame.evaluate(COUNT_MARKERS)
            assert state["ready"], "Leaflet did not initialise"
            assert state["projects"] == expected, (query, state, expected)
            # At city zoom no project is drawn: the park bubbles sum them all.
            assert state["city"]["projects"] == 0 and state["city"]["summed"] == expected, (query, state)
            assert state["bubblesPastDetail"] == 0
            if not query:
                assert expected == 40
        # Open every project's popup in turn: hostile names show as text, nothing runs.
        page.goto(f"{base}/map")
        map_frame = next(f for f in page.frames if "/map/frame" in f.url)
        map_frame.wait_for_selector(".leaflet-control-layers", state="attached")
        shown = "\n".join(map_frame.evaluate("""() => { const map = window[document.querySelector('.folium-map').id];
            map.setZoom(sanmingLayers.DETAIL_ZOOM, {animate: false});
            const texts = []; map.eachLayer(l => { if (l.feature && l.feature.properties.stage) {
              l.openPopup(); texts.push(l.getPopup().getElement().innerText); } }); return texts; }"""))
        assert all(text in shown for text in HOSTILE), f"a hostile name was not shown as plain text: {shown[:600]!r}"
        page.wait_for_timeout(300)

    assert dialogs == [], f"a hostile name ran as script: {dialogs}"
    assert errors == [], f"console or script errors: {errors}"
    outside = [url for url in requested
               if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests left the loopback address: {outside}"
    assert any(re.search(r"/vendor/leaflet/leaflet\.js$", url) for url in requested)
