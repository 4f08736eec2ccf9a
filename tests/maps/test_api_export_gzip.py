"""GeoJSON API shape and scoping, the self-contained export, gzip on HTML and JSON, and the MAP_TILES setting."""
from __future__ import annotations

import gzip
import logging
import re

import pytest

from core.app import create_app
from core.auth.models import Role
from core.config import ConfigError
from tests.factories import make_project
from tests.maps.helpers import OWN_COUNTY, client_as, project_ids, two_counties


def test_projects_geojson_shape_and_scoping(app, project_ref):
    own, other = two_counties()
    leader, _user = client_as(app, Role.LEADER)
    response = leader.get("/api/v1/projects.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and "ignored_filters" not in body
    assert {f["properties"]["id"] for f in body["features"]} == {own.id, other.id}
    feature = next(f for f in body["features"] if f["properties"]["id"] == own.id)
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 116.4 <= lon <= 118.7 and 25.5 <= lat <= 27.1  # [lon, lat], WGS-84, inside Sanming
    assert {"name": "三元区项目", "county": "三元区", "investment": 10000.0, "stage": "signed",
            "stage_label": "签约", "light": "green"}.items() <= feature["properties"].items()
    county, _user = client_as(app, Role.COUNTY, county=OWN_COUNTY)
    assert [f["properties"]["id"] for f in county.get("/api/v1/projects.geojson").get_json()["features"]] == [own.id]
    assert leader.get(f"/api/v1/projects.geojson?county={OWN_COUNTY}").get_json()["features"][0]["properties"]["id"] \
        == own.id


def test_parks_geojson_lists_every_placed_park_filtered_by_industry_and_county(app, project_ref):
    county, _user = client_as(app, Role.COUNTY, county=OWN_COUNTY)
    parks = county.get("/api/v1/parks.geojson").get_json()["features"]
    assert len({f["properties"]["id"] for f in parks}) > 10  # a county official sees every park
    assert {"name", "county", "industry", "zone", "color", "position_confidence"} <= set(parks[0]["properties"])
    in_county = county.get(f"/api/v1/parks.geojson?county={OWN_COUNTY}").get_json()["features"]
    assert in_county and {f["properties"]["county"] for f in in_county} == {"三元区"}


def test_export_is_one_self_contained_file(app, project_ref):
    project = make_project(name="导出项目")
    client, _user = client_as(app, Role.LEADER)
    response = client.get("/map/export?major=")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="sanming-map-')
    page = response.get_data(as_text=True)
    assert project_ids(page) == {project.id}
    # Nothing to fetch: no src/href/url() outside the file, no /vendor/ left, Leaflet inlined.
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # inline code is not a request
    referenced = re.findall(r'(?:src|href)="([^"]*)"', markup) + re.findall(r"url\(([^)]*)\)", page)
    assert [url for url in referenced if not url.startswith(("data:", "#"))] == []
    assert "/vendor/" not in page and "<script src=" not in page
    assert '"attributionControl": false' in page  # Leaflet's own outside link is never shown
    assert "Leaflet 1.9" in page and ".leaflet-container" in page  # Leaflet's script and stylesheet, inline
    assert re.search(r"\}, false\)\.addTo\(", page) and not re.search(r"\}, true\)\.addTo\(", page)  # no app links
    assert len(response.get_data()) > 140_000


def test_html_and_json_responses_are_gzipped(app, project_ref):
    for _ in range(3):  # above Flask-Compress's 500-byte floor
        make_project()
    client, _user = client_as(app, Role.LEADER)
    for path, mimetype in [("/map", "text/html"), ("/map/frame", "text/html"),
                           ("/api/v1/projects.geojson", "application/geo+json")]:
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.headers.get("Content-Encoding") == "gzip", path
        assert response.mimetype == mimetype and "Accept-Encoding" in response.headers.get("Vary", "")
        assert gzip.decompress(response.get_data()).decode().lstrip().lower().startswith(("<!doctype", "{"))
        plain = client.get(path)
        assert "Content-Encoding" not in plain.headers


@pytest.mark.parametrize("value", ["google", "NONE2", "tianditu;osm"])
def test_a_bad_map_tiles_value_stops_start_up_naming_the_choices(value, monkeypatch):
    monkeypatch.setenv("MAP_TILES", value)
    with pytest.raises(ConfigError) as error:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "MAP_TILES" in str(error.value) and "none、local、tianditu、gaode、osm" in str(error.value)


def test_map_tiles_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAP_TILES", " Gaode ")
    assert create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["MAP_TILES"] == "gaode"
    monkeypatch.setenv("MAP_TILES", "local")
    with pytest.raises(ConfigError, match="MAP_TILES_URL"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("MAP_TILES_URL", "/tiles/{z}/{x}/{y}.png")
    assert create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["MAP_TILES"] == "local"


def test_tianditu_without_a_token_falls_back_to_no_basemap_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "MAP_TILES": "tianditu"})
    assert app.config["MAP_TILES"] == "none"
    assert any("TIANDITU_TOKEN" in record.getMessage() and record.levelno == logging.WARNING
               for record in caplog.records)
    with_token = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "MAP_TILES": "tianditu",
                             "TIANDITU_TOKEN": "abc"})
    assert with_token.config["MAP_TILES"] == "tianditu"
