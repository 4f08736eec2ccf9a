"""The counties layer: the committed outlines, /api/v1/counties.geojson against SQL, the park bubbles, 位置待核实."""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import select, text

from core.auth.models import County, Role
from core.auth.reference_data import CITY_CODE, CURRENT_COUNTIES, EXTENT
from core.db import db
from parks.models import Industry, Park
from projects.stages import SignType, Stage
from tests.factories import make_project
from tests.maps.helpers import OTHER_COUNTY, OWN_COUNTY, client_as
from tests.projects.web import page_text

OUTLINES = Path(__file__).resolve().parents[2] / "core" / "auth" / "data" / "county_outlines.geojson"
CITY_AREA_KM2 = 22965  # the city's official area
AUTHALIC_RADIUS_KM = 6371.0072


def _area_km2(geometry) -> float:
    """Area on the authalic sphere (Lambert's cylindrical equal-area projection): within 0.5 % of the ellipsoid's."""
    projected = shapely.transform(geometry, lambda xy: [[AUTHALIC_RADIUS_KM * math.radians(x),
                                                         AUTHALIC_RADIUS_KM * math.sin(math.radians(y))]
                                                        for x, y in xy])
    return projected.area


def _bubbles(page: str) -> list[dict]:
    match = re.search(r"sanmingLayers\.bubbles\(", page)
    return json.JSONDecoder().raw_decode(page, match.end())[0]


def test_the_committed_outlines_are_the_eleven_current_counties_inside_the_city():
    collection = json.loads(OUTLINES.read_text(encoding="utf-8"))
    assert len(OUTLINES.read_bytes()) <= 300 * 1024
    counties = [f for f in collection["features"] if f["properties"]["level"] == "county"]
    city = shape(next(f for f in collection["features"] if f["properties"]["code"] == CITY_CODE)["geometry"])
    assert len(counties) == 11
    assert [f["properties"]["code"] for f in counties] == [row[0] for row in CURRENT_COUNTIES]
    assert [f["properties"]["name"] for f in counties] == [row[1] for row in CURRENT_COUNTIES]
    total = 0.0
    for feature in counties:
        geometry = shape(feature["geometry"])
        assert geometry.geom_type in ("Polygon", "MultiPolygon") and geometry.is_valid, feature["properties"]
        lon_min, lat_min, lon_max, lat_max = geometry.bounds
        assert EXTENT["lon_min"] <= lon_min and lon_max <= EXTENT["lon_max"], feature["properties"]
        assert EXTENT["lat_min"] <= lat_min and lat_max <= EXTENT["lat_max"], feature["properties"]
        assert city.buffer(0.005).contains(geometry), feature["properties"]  # ~500 m: the two were simplified apart
        # Its county seat lies inside it: WGS-84 outline and WGS-84 seat agree (a GCJ-02 outline sits ~600 m off,
        # which would not show here, but a swapped or foreign outline would).
        seat = next(row for row in CURRENT_COUNTIES if row[0] == feature["properties"]["code"])
        assert geometry.contains(shapely.Point(seat[5], seat[4])), feature["properties"]
        total += _area_km2(geometry)
    assert abs(total - CITY_AREA_KM2) / CITY_AREA_KM2 < 0.03, total
    # Neighbours share their borders: no overlaps beyond a sliver.
    union = shapely.union_all([shape(f["geometry"]) for f in counties])
    assert abs(_area_km2(union) - total) / total < 0.001


def test_the_seed_loads_the_outlines_into_the_current_counties(seeded):
    outlines = dict(db.session.execute(select(County.code, County.outline_geojson)).all())
    assert {code for code, outline in outlines.items() if outline} == {row[0] for row in CURRENT_COUNTIES}
    assert outlines["350402"] is None  # 梅列区, merged in 2021: no outline of its own


def _sql_figures(county: str, industry: int) -> tuple:
    """The choropleth's figures for one county and industry, counted by hand in SQL."""
    return db.session.execute(text(
        "SELECT count(*), coalesce(sum(total_investment), 0),"
        " sum(CASE WHEN signed_as = 'contract' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN signed_as = 'contract' AND actual_start IS NOT NULL THEN 1 ELSE 0 END),"
        " sum(CASE WHEN stage = 'producing' THEN 1 ELSE 0 END)"
        " FROM project WHERE sign_date IS NOT NULL AND county_code = :county AND industry_id = :industry"),
        {"county": county, "industry": industry}).one()


@pytest.fixture
def spread_projects(project_ref):
    """Projects in two counties and two industries: contracts and agreements, started, producing, unsigned."""
    fluorine = db.session.scalar(select(Industry.id).where(Industry.code == "fluorine"))
    graphite = db.session.scalar(select(Industry.id).where(Industry.code == "graphite"))
    made = []
    for county in (OWN_COUNTY, OTHER_COUNTY):
        for index in range(6):
            made.append(make_project(county_code=county, industry_id=fluorine if index % 3 else graphite,
                                     total_investment=Decimal(1000 * (index + 1)) + Decimal("0.5"),
                                     sign_type=SignType.AGREEMENT if index == 4 else SignType.CONTRACT))
        made.append(make_project(county_code=county, industry_id=fluorine, stage=Stage.NEGOTIATING,
                                 sign_type=None, sign_date=None))
    # Some started, one in production (set directly: the gates are tested elsewhere).
    for project in made[1:3] + made[8:9]:
        project.actual_start = dt.date(2025, 5, 1)
        project.stage = Stage.STARTED
    made[2].stage = Stage.PRODUCING
    db.session.commit()
    return fluorine, graphite


@pytest.mark.parametrize("role", [Role.LEADER, Role.COMMERCE])
def test_county_figures_match_sql_for_a_filtered_scope(app, spread_projects, role):
    fluorine, _graphite = spread_projects
    client, _user = client_as(app, role)
    response = client.get(f"/api/v1/counties.geojson?industry={fluorine}")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    features = response.get_json()["features"]
    assert [f["properties"]["code"] for f in features] == [row[0] for row in CURRENT_COUNTIES]
    for feature in features:
        props = feature["properties"]
        signed, total, contracts, started, producing = _sql_figures(props["code"], fluorine)
        assert props["signed"] == signed
        assert props["total_investment"] == pytest.approx(float(total or 0))
        assert props["start_rate"] == (pytest.approx(started / contracts, abs=1e-4) if contracts else None)
        assert props["production_rate"] == (pytest.approx((producing or 0) / signed, abs=1e-4) if signed else None)
        assert shape(feature["geometry"]).is_valid
    own = next(f["properties"] for f in features if f["properties"]["code"] == OWN_COUNTY)
    assert own["signed"] == 4 and own["start_rate"] is not None  # the filter narrowed it (6 signed in all)


def test_county_official_sees_every_outline_but_only_their_county_figures(app, spread_projects):
    client, _user = client_as(app, Role.COUNTY, county=OWN_COUNTY)
    features = client.get("/api/v1/counties.geojson").get_json()["features"]
    assert len(features) == 11
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    assert by_code[OWN_COUNTY]["signed"] == 6
    assert all(props["signed"] == 0 and props["total_investment"] == 0 for code, props in by_code.items()
               if code != OWN_COUNTY)
    frame = client.get("/map/frame").get_data(as_text=True)
    assert {b["county"] for b in _bubbles(frame)} == {"三元区"}


def test_park_bubbles_sum_to_the_filtered_projects(app, spread_projects):
    fluorine, _graphite = spread_projects
    park = db.session.scalar(select(Park).where(Park.county_code == OWN_COUNTY, Park.lat.is_not(None)))
    make_project(county_code=OWN_COUNTY, park_id=park.id, industry_id=fluorine, total_investment=Decimal("2500"))
    client, _user = client_as(app, Role.LEADER)
    for query in ("", f"?industry={fluorine}", f"?county={OWN_COUNTY}", "?stage=signed"):
        page = client.get(f"/map{query}").get_data(as_text=True)
        expected = int(re.search(r'data-count="(\d+)"', page).group(1))
        bubbles = _bubbles(client.get(f"/map/frame{query}").get_data(as_text=True))
        assert sum(b["count"] for b in bubbles) == expected, query
        assert all(sum(b["by_stage"].values()) == b["count"] for b in bubbles)
    bubbles = _bubbles(client.get("/map/frame").get_data(as_text=True))
    in_park = next(b for b in bubbles if b["id"] == park.id)
    assert in_park["count"] == 1 and in_park["investment"] == 2500 and in_park["name"] == park.name
    outside = next(b for b in bubbles if b["name"] == "三元区（园区外）")
    assert outside["count"] == 7  # the fixture's 三元区 projects (one still negotiating), none of them in a park
    export = client.get("/map/export").get_data(as_text=True)
    assert "sanmingLayers.outlines(" in export and "sanmingLayers.bubbles(" in export


def test_a_park_placed_outside_its_county_is_listed_as_to_be_checked(app, project_ref):
    park = db.session.scalar(select(Park).where(Park.county_code == OWN_COUNTY, Park.retired_at.is_(None)))
    client, _user = client_as(app, Role.LEADER)
    assert "位置待核实" not in page_text(client.get(f"/parks/{park.id}"))
    assert 'id="misplaced-parks"' not in client.get("/map").get_data(as_text=True)
    park.lat, park.lon = 25.9449, 117.3599  # 永安's seat: inside the city, outside 三元区
    db.session.commit()
    map_page = client.get("/map").get_data(as_text=True)
    assert re.search(rf'id="misplaced-parks">\s*<li><a href="/parks/{park.id}">', map_page)
    assert "位置待核实" in page_text(client.get(f"/parks/{park.id}"))
    make_project(county_code=OWN_COUNTY, park_id=park.id)
    bubble = next(b for b in _bubbles(client.get("/map/frame").get_data(as_text=True)) if b["id"] == park.id)
    assert bubble["misplaced"] is True  # the popup says 位置待核实 and the bubble is outlined red
