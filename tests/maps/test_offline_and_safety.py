"""Offline and safe: no outside URL in the map for MAP_TILES none/local, vendor assets served, hostile names inert."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from parks.models import Industry, Park
from tests.factories import make_project
from tests.maps.helpers import URL_RE, client_as, features

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "`+alert(1)+`", "${alert(1)}",
           "</script><script>alert(2)</script>", "a\\`${alert(3)}", "{{ 7 * 191 }}{% if 1 %}ran{% endif %}"]


@pytest.fixture
def tiles(app):
    """Switch the basemap setting for one test."""
    saved = {key: app.config[key] for key in ("MAP_TILES", "MAP_TILES_URL", "TIANDITU_TOKEN")}

    def use(kind: str, url: str = "", token: str = ""):
        app.config.update(MAP_TILES=kind, MAP_TILES_URL=url, TIANDITU_TOKEN=token)

    yield use
    app.config.update(saved)


@pytest.mark.parametrize(("kind", "url"), [("none", ""), ("local", "/tiles/{z}/{x}/{y}.png")])
def test_no_outside_url_in_the_map_without_an_internet_basemap(app, project_ref, tiles, kind, url):
    tiles(kind, url)
    make_project()
    client, _user = client_as(app, Role.LEADER)
    for path in ("/map", "/map/frame"):
        page = client.get(path).get_data(as_text=True)
        assert URL_RE.findall(page) == [], f"{path} names an outside URL"
    frame = client.get("/map/frame").get_data(as_text=True)
    assert ("/tiles/{z}/{x}/{y}.png" in frame) is (kind == "local")
    assert '<script src="/vendor/leaflet/leaflet.js"></script>' in frame
    assert "jquery" not in frame.lower() and "bootstrap" not in frame.lower()


def test_vendor_assets_answer_200_and_unknown_ones_404(client):
    for path in ("/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css", "/vendor/leaflet/images/layers.png"):
        with client.get(path) as response:
            assert response.status_code == 200, path
            assert len(response.get_data()) > 500
    for path in ("/vendor/jquery/jquery.js", "/vendor/leaflet/../__init__.py", "/vendor/leaflet/nope.js"):
        with client.get(path) as response:
            assert response.status_code == 404, path


@pytest.mark.parametrize(("kind", "url_part"), [("osm", "tile.openstreetmap.org"), ("gaode", "autonavi.com"),
                                                ("tianditu", "tianditu.gov.cn/DataServer?T=vec_w")])
def test_internet_basemaps_add_their_tiles(app, project_ref, tiles, kind, url_part):
    tiles(kind, token="abc123")
    client, _user = client_as(app, Role.LEADER)
    frame = client.get("/map/frame").get_data(as_text=True)
    assert url_part in frame


def test_gaode_shifts_points_and_polygons_at_render_time_only(app, project_ref, tiles):
    park = db.session.scalar(select(Park).where(Park.name == "明溪氟新材料产业园"))
    ring = [[117.60, 26.20], [117.62, 26.20], [117.62, 26.22], [117.60, 26.20]]
    park.boundary_geojson = '{"type": "Polygon", "coordinates": [%s]}' % str(ring)
    db.session.commit()
    project = make_project(county_code=park.county_code, park_id=park.id)
    client, _user = client_as(app, Role.LEADER)
    api = client.get("/api/v1/projects.geojson").get_json()["features"][0]["geometry"]["coordinates"]
    tiles("gaode")
    frame = client.get("/map/frame").get_data(as_text=True)
    shown = next(f for f in features(frame, "projects") if f["properties"]["id"] == project.id)
    d_lon, d_lat = shown["geometry"]["coordinates"][0] - api[0], shown["geometry"]["coordinates"][1] - api[1]
    metres = ((d_lat * 111_320) ** 2 + (d_lon * 111_320 * 0.897) ** 2) ** 0.5
    assert 500 < metres < 750 and d_lon > 0
    polygon = next(f for f in features(frame, "parks") if f["properties"]["id"] == park.id)["geometry"]
    assert polygon["coordinates"][0][0][0] > ring[0][0] + 0.003
    # Stored data and the API stay WGS-84.
    assert client.get("/api/v1/projects.geojson").get_json()["features"][0]["geometry"]["coordinates"] == api
    db.session.rollback()
    stored = db.session.get(Park, park.id).boundary_geojson
    assert stored.startswith('{"type": "Polygon", "coordinates": [[[117.6, 26.2]')


def test_hostile_names_never_reach_the_page_unescaped(app, project_ref):
    park = db.session.scalar(select(Park).where(Park.name == "明溪氟新材料产业园"))
    park.name = "园区" + HOSTILE[1] + HOSTILE[3]
    industry = db.session.get(Industry, park.industry_id)
    industry.name = "产业" + HOSTILE[0][:8] + "{{ 'q' * 7 }}"  # its layer name goes through folium
    industry.color = '#"><svg'  # not a colour: replaced by the fallback grey
    db.session.commit()
    for index, text in enumerate(HOSTILE):
        make_project(name=f"项目{index}{text}", investor_name=f"投资方{index}{text}有限公司", park_id=park.id,
                     county_code=park.county_code)
    client, _user = client_as(app, Role.LEADER)
    pages = {path: client.get(path).get_data(as_text=True)
             for path in ("/map", "/map/frame", "/map/export")}
    for path, page in pages.items():
        for text in HOSTILE + ["<script>aler", '#"><svg']:
            assert text not in page, f"{text!r} unescaped in {path}"
        assert "alert(1)" not in page.replace("&lt;script&gt;alert(1)", "").replace("onerror=alert(1)", "") \
            .replace("&#36;&#123;alert(1)&#125;", "").replace("&#96;+alert(1)+&#96;", ""), path
    frame = pages["/map/frame"]
    assert '"color":"#6c757d"' in frame  # the industry's broken colour was replaced, not passed on
    assert "qqqqqqq" not in frame and "&#123;&#123; &#x27;q&#x27; * 7 &#125;&#125;" in frame  # never run as a Jinja template
    assert frame.count("<script") == frame.count("</script>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in frame and "&#96;+alert(1)+&#96;" in frame
    assert "&#36;&#123;alert(1)&#125;" in frame and "&#92;" in frame
    # Our JS builds no template literals from data: the only backticks left are folium's own.
    assert not re.search(r"`[^`]*&(lt|#96|#36);", frame)
    names = {f["properties"]["name"] for f in features(frame, "projects")}
    assert "项目0&lt;script&gt;alert(1)&lt;/script&gt;" in names
    # The API carries the raw text for GIS tools (JSON, not HTML).
    api = client.get("/api/v1/projects.geojson")
    assert api.mimetype == "application/geo+json"
    assert "项目0<script>alert(1)</script>" in {f["properties"]["name"] for f in api.get_json()["features"]}
