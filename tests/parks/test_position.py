"""Correcting a park's position (POST /parks/<id>/position): admin only, inside Sanming, audited."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.db import db
from parks.models import PositionConfidence
from parks.services import seed_reference
from tests.conftest import csrf_token_from
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.parks.helpers import NON_ADMIN_ROLES, audit_count, park_by_name, text_of

NAME = "明溪氟新材料产业园"


def post_position(client, park, **data):
    return client.post(f"/parks/{park.id}/position", data=data)


def snapshot(park) -> tuple:
    return park.lat, park.lon, park.position_confidence, park.position_note


def test_admin_correction_is_saved_confirmed_and_audited(seeded, client, login_as):
    admin = login_as("admin")
    park = park_by_name(NAME)
    old_lat, old_lon = park.lat, park.lon

    response = post_position(client, park, lat="26.4512", lon="117.0856", note="  园区管委会提供（瀚仙镇）  ")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/parks/{park.id}"

    park = park_by_name(NAME)
    assert (park.lat, park.lon) == pytest.approx((26.4512, 117.0856))
    assert park.position_confidence is PositionConfidence.CONFIRMED
    assert park.position_note == "园区管委会提供（瀚仙镇）"

    entries = db.session.scalars(select(AuditEntry).filter_by(entity="park", entity_id=str(park.id))).all()
    assert [e.action for e in entries] == ["position_set"]
    assert entries[0].user_id == admin.id
    detail = json.loads(entries[0].detail)
    assert detail["old"]["lat"] == pytest.approx(old_lat) and detail["old"]["lon"] == pytest.approx(old_lon)
    assert detail["old"]["confidence"] == "county_seat"
    assert detail["new"] == pytest.approx({"lat": 26.4512, "lon": 117.0856})


def test_after_saving_the_page_shows_the_confirmed_position(seeded, client, login_as):
    login_as("admin")
    park = park_by_name(NAME)
    response = client.post(f"/parks/{park.id}/position", follow_redirects=True,
                           data={"lat": "26.4512", "lon": "117.0856", "note": "实地核准"})
    page = text_of(response.get_data(as_text=True))
    assert "已保存园区位置。" in page
    assert "位置 已核准" in page and "管理员已核准位置或上传了园区边界。" in page
    assert "北纬 26.4512°，东经 117.0856°" in page
    assert "实地核准" in page
    list_rows = text_of(client.get("/parks/").get_data(as_text=True))
    assert f"{NAME} 产业园 明溪县 2 已核准" in list_rows


def test_reseeding_keeps_a_confirmed_position(seeded, client, login_as):
    # `make run` runs `flask seed` on every start: it must not undo an administrator's correction.
    login_as("admin")
    park = park_by_name(NAME)
    assert post_position(client, park, lat="26.4512", lon="117.0856").status_code == 302
    seed_reference()
    db.session.commit()
    park = park_by_name(NAME)
    assert (park.lat, park.lon) == pytest.approx((26.4512, 117.0856))
    assert park.position_confidence is PositionConfidence.CONFIRMED
    assert park_by_name("清流氟化工产业园").position_confidence is PositionConfidence.COUNTY_SEAT


@pytest.mark.parametrize("data, message", [
    ({"lat": "30.1", "lon": "117.0856"}, "纬度须在 25.45–27.15 之间（三明市范围）。"),
    ({"lat": "26.4512", "lon": "119.3"}, "经度须在 116.35–118.7 之间（三明市范围）。"),
    ({"lat": "117.0856", "lon": "26.4512"}, "纬度须在 25.45–27.15 之间"),  # swapped
    ({"lat": "-26.4512", "lon": "117.0856"}, "纬度须在 25.45–27.15 之间"),
    ({"lat": "", "lon": "117.0856"}, "请输入纬度。"),
    ({"lat": "26.4512"}, "请输入经度。"),
    ({"lat": "abc", "lon": "117.0856"}, "请输入纬度。"),
    ({"lat": "NaN", "lon": "117.0856"}, "请输入有效的数字。"),
    ({"lat": "sNaN", "lon": "117.0856"}, "请输入有效的数字。"),
    ({"lat": "26.4512", "lon": "Infinity"}, "请输入有效的数字。"),
    ({"lat": "26.4512", "lon": "117.0856", "note": "说" * 201}, "位置来源说明不能超过 200 个字符。"),
], ids=["lat-north", "lon-east", "swapped", "south", "lat-empty", "lon-missing", "not-a-number", "NaN",
        "sNaN", "Infinity", "note-too-long"])
def test_bad_position_is_refused_in_chinese_and_changes_nothing(seeded, client, login_as, data, message):
    login_as("admin")
    park = park_by_name(NAME)
    before = snapshot(park)

    response = post_position(client, park, **data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "核准位置（管理员）" in page  # the form is shown again to correct
    assert snapshot(park_by_name(NAME)) == before
    assert audit_count(entity="park") == 0


@pytest.mark.parametrize("role", NON_ADMIN_ROLES, ids=lambda r: r.value)
def test_other_roles_are_forbidden_and_change_nothing(seeded, client, login_as, role):
    login_as(role)
    park = park_by_name(NAME)
    before = snapshot(park)
    response = post_position(client, park, lat="26.4512", lon="117.0856")
    assert response.status_code == 403
    assert "无权访问" in response.get_data(as_text=True)
    assert snapshot(park_by_name(NAME)) == before
    assert audit_count(entity="park") == 0


def test_anonymous_post_is_sent_to_login_and_changes_nothing(seeded, client):
    park = park_by_name(NAME)
    before = snapshot(park)
    response = post_position(client, park, lat="26.4512", lon="117.0856")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert snapshot(park_by_name(NAME)) == before


def test_unknown_park_is_404(seeded, client, login_as):
    login_as("admin")
    response = client.post("/parks/999999/position", data={"lat": "26.4512", "lon": "117.0856"})
    assert response.status_code == 404
    assert audit_count(entity="park") == 0


def test_correction_works_through_the_real_form_with_csrf(seeded, client, csrf_on):
    admin = make_user("admin")
    login_page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": admin.username, "password": DEFAULT_PASSWORD,
                                           "csrf_token": csrf_token_from(login_page)})
    assert response.status_code == 302
    park = park_by_name(NAME)
    token = csrf_token_from(client.get(f"/parks/{park.id}").get_data(as_text=True))
    assert post_position(client, park, lat="26.4512", lon="117.0856").status_code == 400  # no token
    assert park_by_name(NAME).position_confidence is PositionConfidence.COUNTY_SEAT
    response = post_position(client, park, lat="26.4512", lon="117.0856", csrf_token=token)
    assert response.status_code == 302
    assert park_by_name(NAME).position_confidence is PositionConfidence.CONFIRMED
