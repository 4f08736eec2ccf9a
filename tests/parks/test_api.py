"""The parks and counties API: every role reads them, filters and paging, retired parks, problem+json errors."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.auth.models import County, Role
from core.auth.queries import current_counties
from core.db import db
from core.transaction import transaction
from parks import editing, services
from parks.models import CapacityMeasure, Industry, Park
from tests.core.api_document import document, problems
from tests.factories import bearer, make_token, make_user

from .helpers import ROLES, park_by_name

pytestmark = pytest.mark.usefixtures("seeded")
PROBLEM = "application/problem+json"
SQUARE = {"type": "Polygon", "coordinates": [[[117.60, 26.20], [117.61, 26.20], [117.61, 26.21], [117.60, 26.20]]]}


def key(user, *, read_only: bool = False) -> dict:
    return bearer(make_token(user, read_only=read_only))


def every_park(client, headers, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/parks?per_page=500{query}", headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["total"] == len(response.json["items"])
    return response.json["items"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("read_only", [False, True])
def test_every_role_reads_parks_and_counties(client, role, read_only):
    headers = key(make_user(role), read_only=read_only)
    parks = every_park(client, headers)
    current = db.session.scalars(select(Park).where(Park.retired_at.is_(None))).all()
    assert {p["id"] for p in parks} == {p.id for p in current}  # a county official sees every county's parks too
    detail = client.get(f"/api/v1/parks/{parks[0]['id']}", headers=headers)
    assert detail.status_code == 200 and detail.json["id"] == parks[0]["id"]
    counties = client.get("/api/v1/counties", headers=headers)
    assert counties.status_code == 200 and counties.json["total"] == len(current_counties())
    spec = document(client)
    assert problems(spec, "ParkList", client.get("/api/v1/parks", headers=headers).json) == []
    assert problems(spec, "ParkDetail", detail.json) == [] and problems(spec, "CountyList", counties.json) == []


@pytest.mark.parametrize("path", ["/api/v1/parks", "/api/v1/parks/1", "/api/v1/counties"])
def test_no_token_or_the_login_session_is_401(client, auth, path):
    for headers in ({}, {"Authorization": "Bearer sm_not-a-token"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 401 and response.mimetype == PROBLEM
    auth.login(make_user(Role.ADMIN))  # these are token-only resources: a page's session does not open them
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_parks_are_read_only(client, method):
    headers = key(make_user(Role.ADMIN))
    for path in ("/api/v1/parks", "/api/v1/parks/1", "/api/v1/counties"):
        response = getattr(client, method)(path, headers=headers, json={})
        assert response.status_code == 405 and response.mimetype == PROBLEM


def test_the_list_is_in_the_park_pages_order_and_pages(client):
    headers = key(make_user(Role.COMMERCE))
    order = [p["id"] for p in every_park(client, headers)]
    first = client.get("/api/v1/parks?per_page=5&page=2", headers=headers).json
    assert [p["id"] for p in first["items"]] == order[5:10]
    assert (first["page"], first["per_page"], first["total"]) == (2, 5, len(order))


def test_filters_by_county_and_industry(client):
    headers = key(make_user(Role.COUNTY, county="350481"))
    in_yongan = every_park(client, headers, "&county=350481")
    assert in_yongan and {p["county_code"] for p in in_yongan} == {"350481"}
    industry = db.session.scalars(select(Industry).order_by(Industry.position)).first()
    of_industry = every_park(client, headers, f"&industry={industry.id}")
    assert of_industry and {p["industry_id"] for p in of_industry} == {industry.id}
    both = every_park(client, headers, f"&industry={industry.id}&county=350481")
    assert {p["id"] for p in both} == {p["id"] for p in in_yongan} & {p["id"] for p in of_industry}
    assert every_park(client, headers, "&county=999999") == []


def test_retired_parks_only_when_asked(client):
    admin = make_user(Role.ADMIN)
    park = db.session.scalars(select(Park).order_by(Park.id)).first()
    with transaction():
        editing.retire(park, by=admin)
    headers = key(admin)
    assert park.id not in {p["id"] for p in every_park(client, headers)}
    listed = {p["id"]: p for p in every_park(client, headers, "&retired=true")}
    assert listed[park.id]["retired_at"].endswith("+00:00")
    assert all(p["retired_at"] is None for p in every_park(client, headers, "&retired=0"))
    detail = client.get(f"/api/v1/parks/{park.id}", headers=headers)
    assert detail.status_code == 200 and detail.json["retired_at"] is not None


def test_a_park_carries_its_models_fields_and_its_details(client):
    admin = make_user(Role.ADMIN)
    park = park_by_name(db.session.scalars(select(Park.name).join(Park.enterprises)).first())
    with transaction():
        services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("120.5")},
                                  confirmed_on=dt.date(2026, 3, 1), by=admin)
    with transaction():
        services.set_boundary(park, json.dumps(SQUARE).encode(), by=admin)
    body = client.get(f"/api/v1/parks/{park.id}", headers=key(admin)).json
    assert problems(document(client), "ParkDetail", body) == []
    assert {key: body[key] for key in ("name", "kind", "county_code", "industry_id", "zone_id", "lat", "lon")} == {
        "name": park.name, "kind": park.kind.value, "county_code": park.county_code, "industry_id": park.industry_id,
        "zone_id": park.zone_id, "lat": park.lat, "lon": park.lon}
    assert body["position_confidence"] == park.position_confidence.value
    assert {firm["name"] for firm in body["enterprises"]} == {firm.name for firm in park.enterprises}
    assert body["capacity"] == [{"measure": "free_land", "value": 120.5, "confirmed_on": "2026-03-01"}]
    assert body["boundary"]["features"][0]["geometry"] == SQUARE and body["aliases"] == []


def test_counties_are_the_current_ones_with_their_seats(client):
    body = client.get("/api/v1/counties?per_page=500", headers=key(make_user(Role.LEADER))).json
    codes = [county["code"] for county in body["items"]]
    assert "350404" in codes and "350402" not in codes  # 梅列区 became part of 三元区 in 2021
    sanyuan = db.session.get(County, "350404")
    assert body["items"][codes.index("350404")] == {
        "code": "350404", "name": sanyuan.name, "short_name": sanyuan.short_name,
        "seat_lat": sanyuan.seat_lat, "seat_lon": sanyuan.seat_lon}
    assert "outline" not in str(body)


def test_an_unknown_park_is_a_404_problem(client):
    response = client.get("/api/v1/parks/999999", headers=key(make_user(Role.COMMERCE)))
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert response.json["status"] == 404 and response.json["detail"]


@pytest.mark.parametrize(("query", "field", "message"), [
    ("county=三元区", "county", "县区代码须为 6 位数字。"),
    ("industry=abc", "industry", "须为整数编号。"),
    ("industry=0", "industry", "编号超出范围。"),
    ("retired=maybe", "retired", "须为 true 或 false。"),
    ("per_page=501", "per_page", "每页条数须为 1 到 500。"),
])
def test_bad_filters_are_422_problems_in_chinese(client, query, field, message):
    response = client.get(f"/api/v1/parks?{query}", headers=key(make_user(Role.COMMERCE)))
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.json["errors"] == {field: message}
