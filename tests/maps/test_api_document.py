"""The map's GeoJSON in the API document: listed with a token or the login session, and every answer — with a token
or the session, filters valid or ignored, a 304 — is what the document says."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from core.forms import field_names
from core.transaction import transaction
from maps.forms import MapFilterForm
from parks import services as park_services
from parks.models import CapacityMeasure, Park
from tests.core.api_document import document, problems
from tests.factories import bearer, make_project, make_token, make_user
from tests.projects.web import new_client

pytestmark = pytest.mark.usefixtures("project_ref")
GEOJSON = {"/api/v1/parks.geojson": "ParkCollection", "/api/v1/projects.geojson": "ProjectCollection",
           "/api/v1/counties.geojson": "CountyCollection"}
SQUARE = {"type": "Polygon", "coordinates": [[[117.60, 26.20], [117.61, 26.20], [117.61, 26.21], [117.60, 26.20]]]}


@pytest.fixture
def map_data():
    """Something in every property: a park with a boundary and capacity, projects at a park and at a county seat."""
    admin = make_user(Role.ADMIN)
    park = db.session.scalars(select(Park).where(Park.county_code == "350404").order_by(Park.id)).first()
    with transaction():
        park_services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("50")},
                                       confirmed_on=dt.date(2026, 1, 5), by=admin)
    with transaction():
        park_services.set_boundary(park, json.dumps(SQUARE).encode(), by=admin)
    make_project(admin, park_id=park.id, is_major=True)
    make_project(admin, county_code="350481", planned_start=dt.date(2020, 1, 1))
    return park


def test_the_geojson_is_in_the_document_for_a_token_or_the_login_session(client):
    paths = document(client)["paths"]
    for path, name in GEOJSON.items():
        operation = paths[path]["get"]
        assert operation["tags"] == ["地图"] and operation["summary"]
        assert operation["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
        ok = operation["responses"]["200"]
        assert ok["content"] == {"application/geo+json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
        assert "ETag" in ok["headers"] and "304" in operation["responses"]
        assert "If-None-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}


def test_the_documented_filters_are_the_map_pages(client):
    paths = document(client)["paths"]
    form = field_names(MapFilterForm)
    for path in GEOJSON:
        named = {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert named <= form, named - form
    assert {p["name"] for p in paths["/api/v1/parks.geojson"]["get"]["parameters"] if p["in"] == "query"} == {
        "county", "industry"}  # all a park's layer heeds (maps.queries.park_map_data)
    assert {p["name"] for p in paths["/api/v1/projects.geojson"]["get"]["parameters"] if p["in"] == "query"} == {
        "county", "industry", "year", "event", "stage", "sign_type", "major", "red"}


@pytest.mark.parametrize("signed_in_by", ["token", "session"])
@pytest.mark.parametrize("role", [Role.COMMERCE, Role.COUNTY])
def test_every_answer_is_what_the_document_says(app, client, map_data, signed_in_by, role):
    spec = document(client)
    user = make_user(role, county="350404" if role is Role.COUNTY else None)
    caller = new_client(app, user) if signed_in_by == "session" else client
    headers = bearer(make_token(user)) if signed_in_by == "token" else {}
    for path, name in GEOJSON.items():
        for query in ("", "?county=350404&stage=signed&major=true", "?county=nowhere&year=abc&stage=x&industry=-1"):
            response = caller.get(path + query, headers=headers)
            assert response.status_code == 200 and response.mimetype == "application/geo+json", (path, query)
            body = response.get_json()
            assert body["features"] or path == "/api/v1/projects.geojson", (path, query)
            assert problems(spec, name, body) == [], (path, query)
            assert ("ignored_filters" in body) == ("nowhere" in query), (path, query)
    parks = caller.get("/api/v1/parks.geojson", headers=headers).get_json()["features"]
    mine = [feature for feature in parks if feature["properties"]["id"] == map_data.id]
    assert [feature["geometry"]["type"] for feature in mine] == ["Polygon"]
    assert mine[0]["properties"]["capacity"]["free_land"] == "50 亩"


@pytest.mark.parametrize("path", sorted(GEOJSON))
def test_a_current_copy_gets_the_documented_304(client, map_data, path):
    headers = bearer(make_token(make_user(Role.LEADER)))
    first = client.get(path, headers=headers)
    again = client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"] and not again.data


@pytest.mark.parametrize("path", sorted(GEOJSON))
def test_without_a_token_or_a_session_it_is_401_as_documented(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert problems(document(client), "Problem", response.get_json()) == []
