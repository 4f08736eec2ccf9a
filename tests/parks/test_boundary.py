"""Uploading a park boundary (POST /parks/<id>/boundary): judged by content, refused in Chinese, audited."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.db import db
from parks.models import PositionConfidence
from tests.conftest import csrf_token_from
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.parks.helpers import NON_ADMIN_ROLES, audit_count, park_by_name, table_rows, text_of, upload

DATA = Path(__file__).resolve().parent.parent / "data"
NAME = "黄砂氟新材料循环经济产业园"
MIB = 1024 * 1024
POLYGON = json.dumps({"type": "Polygon", "coordinates": [
    [[117.60, 26.30], [117.62, 26.30], [117.62, 26.32], [117.60, 26.32], [117.60, 26.30]]]}).encode()
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def data_file(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def admin(seeded, login_as):
    return login_as("admin")


def test_valid_boundary_is_saved_confirmed_and_audited(admin, client):
    park = park_by_name(NAME)
    raw = data_file("park_boundary.geojson")

    response = upload(client, park.id, raw)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/parks/{park.id}"

    park = park_by_name(NAME)
    stored = json.loads(park.boundary_geojson)
    assert stored["type"] == "FeatureCollection"
    assert [f["geometry"]["type"] for f in stored["features"]] == ["Polygon", "MultiPolygon"]
    assert stored["features"][0]["geometry"]["coordinates"][0][1] == [117.62, 26.30]
    assert park.position_confidence is PositionConfidence.CONFIRMED

    entries = db.session.scalars(select(AuditEntry).filter_by(entity="park", entity_id=str(park.id))).all()
    assert [e.action for e in entries] == ["boundary_set"]
    assert entries[0].user_id == admin.id
    assert json.loads(entries[0].detail) == {"polygons": 2, "bytes": len(raw)}


def test_pages_show_the_uploaded_boundary(admin, client):
    park = park_by_name(NAME)
    response = client.post(f"/parks/{park.id}/boundary", follow_redirects=True, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data_file("park_boundary.geojson")), "huangsha.geojson")})
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "已保存园区边界（2 个多边形）。" in page
    assert "园区边界：已上传（2 个多边形）" in page
    assert "位置 已核准" in page
    row = {r[0]: r for r in table_rows(client.get("/parks/").get_data(as_text=True))}[NAME]
    assert "已核准" in row[4] and "有边界" in row[4]


def test_a_new_upload_replaces_the_old_boundary(admin, client):
    park = park_by_name(NAME)
    assert upload(client, park.id, data_file("park_boundary.geojson")).status_code == 302
    assert upload(client, park.id, POLYGON).status_code == 302
    assert len(park_by_name(NAME).boundary["features"]) == 1
    assert audit_count(entity="park", action="boundary_set") == 2


def test_file_is_judged_by_content_not_by_its_name(admin, client):
    park = park_by_name(NAME)
    response = upload(client, park.id, POLYGON, filename="boundary.png")
    assert response.status_code == 302
    assert park_by_name(NAME).boundary["features"][0]["geometry"]["type"] == "Polygon"


def test_file_of_exactly_two_mib_is_accepted(admin, client):
    park = park_by_name(NAME)
    assert upload(client, park.id, POLYGON.ljust(2 * MIB)).status_code == 302
    assert park_by_name(NAME).boundary_geojson is not None


BAD_UPLOADS = {
    "invalid-json": (b'{"type": "Polygon", "coordinates": [[[117.6, 26.3]', "x.geojson", "不是有效的 JSON"),
    "point": (data_file("point.geojson"), "point.geojson", "收到的是 Point"),
    "outside-sanming": (data_file("outside_sanming.geojson"), "fuzhou.geojson", "不在三明市范围内"),
    "swapped": (POLYGON.replace(b"117.6", b"XX").replace(b"26.3", b"117.6").replace(b"XX", b"26.3"),
                "swapped.geojson", "经纬度顺序是否颠倒"),
    "over-2-mib": (POLYGON.ljust(2 * MIB + 1), "big.geojson", "文件过大"),
    "png-bytes": (PNG, "boundary.geojson", "不是有效的 JSON"),
    "empty-file": (b"", "empty.geojson", "文件是空的"),
    "deeply-nested": (b"[" * 50_000, "deep.json", "不是有效的 JSON"),
}


@pytest.mark.parametrize("content, filename, message", BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_bad_upload_is_refused_in_chinese_and_changes_nothing(admin, client, content, filename, message):
    park = park_by_name(NAME)
    response = upload(client, park.id, content, filename)
    assert response.status_code == 400
    page = text_of(response.get_data(as_text=True))
    assert "边界未保存：" in page and message in page
    assert "上传园区边界（管理员）" in page  # the form is there to try again
    park = park_by_name(NAME)
    assert park.boundary_geojson is None
    assert park.position_confidence is PositionConfidence.COUNTY_SEAT
    assert audit_count(entity="park") == 0


@pytest.mark.parametrize("data", [{}, {"file": (io.BytesIO(b""), "")}], ids=["no-field", "no-file-chosen"])
def test_missing_file_is_refused(admin, client, data):
    park = park_by_name(NAME)
    response = client.post(f"/parks/{park.id}/boundary", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "请选择要上传的 GeoJSON 文件。" in response.get_data(as_text=True)
    assert park_by_name(NAME).boundary_geojson is None
    assert audit_count(entity="park") == 0


def test_bad_upload_keeps_the_boundary_already_saved(admin, client):
    park = park_by_name(NAME)
    assert upload(client, park.id, POLYGON).status_code == 302
    saved = park_by_name(NAME).boundary_geojson
    assert upload(client, park.id, data_file("point.geojson")).status_code == 400
    assert park_by_name(NAME).boundary_geojson == saved
    assert audit_count(entity="park") == 1


@pytest.mark.parametrize("role", NON_ADMIN_ROLES, ids=lambda r: r.value)
def test_other_roles_are_forbidden_and_change_nothing(seeded, client, login_as, role):
    login_as(role)
    park = park_by_name(NAME)
    response = upload(client, park.id, POLYGON)
    assert response.status_code == 403
    assert "无权访问" in response.get_data(as_text=True)
    park = park_by_name(NAME)
    assert park.boundary_geojson is None and park.position_confidence is PositionConfidence.COUNTY_SEAT
    assert audit_count(entity="park") == 0


def test_anonymous_upload_is_sent_to_login(seeded, client):
    park = park_by_name(NAME)
    response = upload(client, park.id, POLYGON)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert park_by_name(NAME).boundary_geojson is None


def test_unknown_park_is_404(admin, client):
    assert upload(client, 999999, POLYGON).status_code == 404
    assert audit_count(entity="park") == 0


def test_upload_works_through_the_real_form_with_csrf(seeded, client, csrf_on):
    admin = make_user("admin")
    login_page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": admin.username, "password": DEFAULT_PASSWORD,
                                       "csrf_token": csrf_token_from(login_page)}).status_code == 302
    park = park_by_name(NAME)
    assert upload(client, park.id, POLYGON).status_code == 400  # without the token: refused
    assert park_by_name(NAME).boundary_geojson is None
    token = csrf_token_from(client.get(f"/parks/{park.id}").get_data(as_text=True))
    assert upload(client, park.id, POLYGON, csrf_token=token).status_code == 302
    assert park_by_name(NAME).boundary_geojson is not None
