"""Map page: who sees which projects, filters kept in the URL, unknown filter values, parks without a position."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from parks.models import Industry, Park
from projects.stages import SignType, Stage
from tests.factories import make_event, make_project
from tests.maps.helpers import OTHER_COUNTY, OWN_COUNTY, client_as, features, layer_names, project_ids, two_counties
from tests.projects.web import page_text, path_of

ALL_SEEING = [Role.LEADER, Role.COMMERCE, Role.ADMIN]


def industry_id(code: str) -> int:
    return db.session.scalar(select(Industry.id).where(Industry.code == code))


def park(name: str) -> Park:
    return db.session.scalar(select(Park).where(Park.name == name))


@pytest.mark.parametrize("path", ["/map", "/map/frame", "/map/export"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and path_of(response) == "/login"


@pytest.mark.parametrize("path", ["/api/v1/parks.geojson", "/api/v1/projects.geojson"])
def test_anonymous_geojson_calls_get_401_not_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert "Location" not in response.headers and response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ALL_SEEING, ids=lambda r: r.value)
def test_leaders_commerce_and_admins_see_every_county(app, project_ref, role):
    own, other = two_counties()
    client, _user = client_as(app, role)
    page = client.get("/map")
    assert page.status_code == 200
    assert '<a class="nav-link active" href="/map">地图</a>' in page.get_data(as_text=True)
    assert 'data-count="2"' in page.get_data(as_text=True)
    frame = client.get("/map/frame").get_data(as_text=True)
    assert project_ids(frame) == {own.id, other.id}


def test_county_official_sees_all_parks_but_only_their_county_projects(app, project_ref):
    own, other = two_counties()
    client, _user = client_as(app, Role.COUNTY, county=OWN_COUNTY)
    page = client.get("/map").get_data(as_text=True)
    assert 'data-count="1"' in page and "三元区项目" in page_text(page)
    frame = client.get("/map/frame").get_data(as_text=True)
    assert project_ids(frame) == {own.id}
    all_parks = db.session.scalars(select(Park.id)).all()
    assert {f["properties"]["id"] for f in features(frame, "parks")} == set(all_parks)
    # Asking for another county is ignored (with a notice), and still shows only their own.
    response = client.get(f"/map?county={OTHER_COUNTY}")
    assert "已忽略无法识别的筛选条件：县区" in page_text(response)
    assert project_ids(client.get(f"/map/frame?county={OTHER_COUNTY}").get_data(as_text=True)) == {own.id}
    assert other.id not in {f["properties"]["id"]
                            for f in client.get("/api/v1/projects.geojson").get_json()["features"]}


def test_layers_one_per_industry_and_per_stage_and_projects_sit_at_their_park(app, project_ref):
    fluorine = park("明溪氟新材料产业园")
    signed = make_project(name="签约项目", county_code=fluorine.county_code, park_id=fluorine.id)
    negotiating = make_project(name="在谈项目", stage=Stage.NEGOTIATING, sign_type=None, sign_date=None)
    client, _user = client_as(app, Role.LEADER)
    frame = client.get("/map/frame").get_data(as_text=True)
    names = layer_names(frame)
    assert {"项目 · 签约（1）", "项目 · 在谈（1）"} <= names
    assert {"园区 · 氟新材料（一区四园）", "园区 · 生物医药（一区多园）"} <= names
    by_id = {f["properties"]["id"]: f for f in features(frame, "projects")}
    assert by_id[signed.id]["geometry"]["coordinates"] == pytest.approx([fluorine.lon, fluorine.lat], abs=1e-5)
    assert by_id[negotiating.id]["properties"]["stage"] == "negotiating"
    assert "sanmingLayers.outlines(" in frame and "map.fitBounds(shapes.getBounds()" in frame  # fitted to the city
    assert "L.control.scale()" in frame and "sanming-legend" in frame


def test_filters_from_the_url_narrow_the_map_and_are_kept_in_links(app, project_ref):
    event = make_event(name="6·18 海峡项目成果交易会")
    graphite = industry_id("graphite")
    match = make_project(name="命中项目", industry_id=graphite, county_code=OWN_COUNTY, is_major=True,
                         sign_type=SignType.CONTRACT, sign_date=dt.date(2024, 6, 18), signing_event_id=event.id,
                         planned_start=dt.date(2024, 1, 1))  # past due and not started: red
    make_project(name="别的产业", county_code=OWN_COUNTY, is_major=True, sign_date=dt.date(2024, 6, 18),
                 signing_event_id=event.id, planned_start=dt.date(2024, 1, 1))
    make_project(name="不是重大", industry_id=graphite, county_code=OWN_COUNTY, sign_date=dt.date(2024, 6, 18),
                 signing_event_id=event.id, planned_start=dt.date(2024, 1, 1))
    make_project(name="不是红灯", industry_id=graphite, county_code=OWN_COUNTY, is_major=True,
                 sign_date=dt.date(2024, 6, 18), signing_event_id=event.id, total_investment=Decimal("5"))
    make_project(name="别的活动", industry_id=graphite, county_code=OWN_COUNTY, is_major=True,
                 sign_date=dt.date(2024, 6, 18), planned_start=dt.date(2024, 1, 1))
    make_project(name="别的年份", industry_id=graphite, county_code=OWN_COUNTY, is_major=True,
                 sign_date=dt.date(2023, 6, 18), signing_event_id=event.id, planned_start=dt.date(2024, 1, 1))
    make_project(name="协议项目", industry_id=graphite, county_code=OWN_COUNTY, is_major=True,
                 sign_type=SignType.AGREEMENT, sign_date=dt.date(2024, 6, 18), signing_event_id=event.id,
                 planned_start=dt.date(2024, 1, 1))
    query = (f"industry={graphite}&county={OWN_COUNTY}&stage=signed&sign_type=contract&event={event.id}"
             "&year=2024&major=y&red=y")
    client, _user = client_as(app, Role.LEADER)
    page = client.get(f"/map?{query}").get_data(as_text=True)
    assert 'data-count="1"' in page and "已忽略" not in page
    for endpoint in ("/map/frame", "/map/export", "/api/v1/projects.geojson"):
        assert f"{endpoint}?" in page  # the frame, export and API links keep the filters
    assert project_ids(client.get(f"/map/frame?{query}").get_data(as_text=True)) == {match.id}
    assert 'selected value="signed"' in page or 'value="signed" selected' in page
    unfiltered = client.get("/map/frame").get_data(as_text=True)
    assert len(project_ids(unfiltered)) == 7


@pytest.mark.parametrize("query", ["industry=abc", "stage=launched", "year=²", "event=999999", "county=999999",
                                   "sign_type=<script>", "industry=1e9999", "year=-1"])
def test_unknown_filter_values_are_ignored_with_a_notice(app, project_ref, query):
    project = make_project()
    client, _user = client_as(app, Role.LEADER)
    response = client.get(f"/map?{query}")
    assert response.status_code == 200
    assert "已忽略无法识别的筛选条件" in page_text(response)
    assert "<script>" not in response.get_data(as_text=True).split("<main", 1)[1]
    assert project_ids(client.get(f"/map/frame?{query}").get_data(as_text=True)) == {project.id}
    api = client.get(f"/api/v1/projects.geojson?{query}")
    assert api.status_code == 200 and api.get_json()["ignored_filters"]


def test_parks_without_a_position_are_listed_beside_the_map(app, project_ref):
    lost = park("明溪氟新材料产业园")
    lost.lat, lost.lon = 0.0, 0.0  # a placeholder from a ledger, not a place in Sanming
    db.session.commit()
    client, _user = client_as(app, Role.LEADER)
    page = client.get("/map").get_data(as_text=True)
    unplaced = page.split('id="unplaced-parks"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/parks/{lost.id}"' in unplaced and "明溪氟新材料产业园" in unplaced and "位置待补充" in unplaced
    frame = client.get("/map/frame").get_data(as_text=True)
    assert lost.id not in {f["properties"]["id"] for f in features(frame, "parks")}
    # Its projects still show, at their county seat.
    project = make_project(county_code=lost.county_code, park_id=lost.id)
    frame = client.get("/map/frame").get_data(as_text=True)
    assert project_ids(frame) == {project.id}


def test_a_park_boundary_is_drawn_as_its_polygon(app, project_ref):
    ring = [[117.60, 26.20], [117.62, 26.20], [117.62, 26.22], [117.60, 26.20]]
    bounded = park("明溪氟新材料产业园")
    bounded.boundary_geojson = '{"type": "Polygon", "coordinates": [%s]}' % str(ring)
    db.session.commit()
    client, _user = client_as(app, Role.LEADER)
    frame = client.get("/map/frame").get_data(as_text=True)
    drawn = [f for f in features(frame, "parks") if f["properties"]["id"] == bounded.id]
    assert [f["geometry"] for f in drawn] == [{"type": "Polygon", "coordinates": [ring]}]
