"""Seed and county tests: Sanming's current and pre-2021 divisions, resolving them, re-seeding safely."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.auth.models import County, Role
from core.auth.queries import current_counties, resolve_county
from core.auth.services import seed_counties
from core.db import db
from parks import services as park_services
from parks.models import Park, PositionConfidence
from parks.services import seed_reference
from tests.factories import make_user

CURRENT = {
    "三元区": "350404", "沙县区": "350405", "明溪县": "350421", "清流县": "350423",
    "宁化县": "350424", "大田县": "350425", "尤溪县": "350426", "将乐县": "350428",
    "泰宁县": "350429", "建宁县": "350430", "永安市": "350481",
}


def seed() -> None:
    seed_counties()
    seed_reference()
    db.session.commit()


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_eleven_current_counties_with_their_codes(counties):
    found = current_counties()
    assert {c.name: c.code for c in found} == CURRENT
    assert len(found) == 11
    assert found[0].name == "三元区"  # the list keeps the seed's order
    for county in found:
        assert county.is_current
        assert 25.5 <= county.seat_lat <= 27.1 and 116.4 <= county.seat_lon <= 118.7


def test_pre_2021_codes_point_to_their_successors(counties):
    legacy = {c.code: c.successor_code for c in db.session.scalars(
        select(County).where(County.successor_code.is_not(None)))}
    assert legacy == {"350402": "350404", "350403": "350404", "350427": "350405"}


@pytest.mark.parametrize(("text", "code"), [
    ("梅列区", "350404"), ("350402", "350404"), ("350403", "350404"), ("三元", "350404"),
    ("三元区", "350404"), ("350404", "350404"), ("沙县", "350405"), ("350427", "350405"),
    ("沙县区", "350405"), (" 永安市 ", "350481"), ("永安", "350481"), ("350481", "350481"),
    ("明溪县", "350421"),
])
def test_resolve_county_finds_the_current_county(counties, text, code):
    county = resolve_county(text)
    assert county is not None and county.code == code
    assert county.is_current


@pytest.mark.parametrize("text", ["350499", "350400", "北京市", "", "   ", None])
def test_resolve_county_returns_none_for_anything_else(counties, text):
    assert resolve_county(text) is None


def test_seeding_twice_leaves_the_same_rows(app):
    assert seed_counties() == 14
    seed_reference()
    db.session.commit()
    counts = row_counts()
    assert counts["county"] == 14 and counts["park"] > 0 and counts["industry"] > 0

    assert seed_counties() == 0
    seed_reference()
    db.session.commit()
    assert row_counts() == counts


def test_seed_restores_reference_values(counties):
    county = db.session.get(County, "350404")
    county.name, county.seat_lat = "错误的名字", 0.0
    db.session.commit()
    seed_counties()
    db.session.commit()
    db.session.expire_all()
    county = db.session.get(County, "350404")
    assert (county.name, county.seat_lat) == ("三元区", 26.2751)


def test_confirmed_park_position_survives_a_reseed(app):
    seed()
    admin = make_user(Role.ADMIN)
    confirmed = db.session.scalar(select(Park).where(Park.name == "明溪氟新材料产业园"))
    park_services.set_position(confirmed, 26.4123, 117.0456, note="瀚仙镇园区管委会核实", by=admin)
    guessed = db.session.scalar(select(Park).where(Park.name == "清流氟化工产业园"))
    guessed_position = (guessed.lat, guessed.lon)
    guessed.lat, guessed.lon = 26.0, 116.9  # edited without confirming: the seed may refresh it
    db.session.commit()

    seed()
    db.session.expire_all()
    confirmed = db.session.scalar(select(Park).where(Park.name == "明溪氟新材料产业园"))
    assert (confirmed.lat, confirmed.lon) == (26.4123, 117.0456)
    assert confirmed.position_confidence is PositionConfidence.CONFIRMED
    assert confirmed.position_note == "瀚仙镇园区管委会核实"
    guessed = db.session.scalar(select(Park).where(Park.name == "清流氟化工产业园"))
    assert (guessed.lat, guessed.lon) == guessed_position
