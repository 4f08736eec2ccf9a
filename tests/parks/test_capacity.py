"""Park capacity: who may confirm it, what is refused (nothing saved), the history kept, staleness after 90 days,
and where it shows (the park page, the map's park popup); a confirmation bumps the data version."""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import clock, data_version
from core.auth.models import Role
from core.db import db
from parks import services
from parks.models import CapacityMeasure, Park, ParkCapacity
from parks.queries import capacity_history, capacity_of
from tests.factories import make_project, make_user
from tests.maps.helpers import features
from tests.projects.web import new_client, page_text

OWN, OTHER = "350404", "350421"


@pytest.fixture
def park(seeded):
    return db.session.scalar(select(Park).where(Park.name == "黄砂氟新材料循环经济产业园"))  # in 三元区 (350404)


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ParkCapacity))


def post(client, park, **values):
    data = {"confirmed_on": str(clock.today()), **values}
    return client.post(f"/parks/{park.id}/capacity", data=data)


def test_own_county_official_confirms_and_the_history_is_kept(app, park):
    official = make_user(Role.COUNTY, county=OWN)
    client = new_client(app, official)
    first = clock.today() - dt.timedelta(days=10)
    assert post(client, park, planned_area="3000", free_land="400", confirmed_on=str(first)).status_code == 302
    assert post(client, park, free_land="350亩", factory_space="20,000", note="实地核查").status_code == 302
    capacity = capacity_of(park.id)
    assert capacity.value(CapacityMeasure.FREE_LAND) == Decimal("350")
    assert capacity.figures[CapacityMeasure.FREE_LAND].confirmed_on == clock.today()
    # A measure left blank keeps its figure and its date.
    assert capacity.figures[CapacityMeasure.PLANNED_AREA].confirmed_on == first
    assert capacity.figures[CapacityMeasure.PLANNED_AREA].confirmed_by == official.name_for_display
    history = [(row.measure, row.value) for row in capacity_history(park.id)]
    assert (CapacityMeasure.FREE_LAND, Decimal("400")) in history and (CapacityMeasure.FREE_LAND, Decimal("350")) in history
    assert len(history) == 4
    text = page_text(client.get(f"/parks/{park.id}"))
    assert "可供地（亩） 350" in text and "核实记录（4 条）" in text and "实地核查" in text
    assert "核实容量" in text  # the audit history


def test_staleness_after_ninety_days(app, park):
    admin = make_user(Role.ADMIN)
    today = clock.today()
    services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("100")},
                              confirmed_on=today - dt.timedelta(days=90), by=admin)
    services.confirm_capacity(park, {CapacityMeasure.FACTORY_SPACE: Decimal("5000")},
                              confirmed_on=today - dt.timedelta(days=91), by=admin)
    db.session.commit()
    capacity = capacity_of(park.id)
    assert not capacity.figures[CapacityMeasure.FREE_LAND].is_stale(today)
    assert capacity.figures[CapacityMeasure.FACTORY_SPACE].is_stale(today)
    assert [f.measure for f in capacity.stale(today)] == [CapacityMeasure.FACTORY_SPACE]
    html = new_client(app, make_user(Role.LEADER)).get(f"/parks/{park.id}").get_data(as_text=True)
    assert html.count("capacity-stale") == 1
    # Confirming it again clears the flag.
    services.confirm_capacity(park, {CapacityMeasure.FACTORY_SPACE: Decimal("5000")}, confirmed_on=today, by=admin)
    db.session.commit()
    assert not capacity_of(park.id).stale(today)


@pytest.mark.parametrize(("values", "message"), [
    ({"free_land": "-5"}, "可供地不能为负数。"),
    ({"planned_area": "100", "free_land": "200"}, "可供地（200 亩）不能大于园区规划面积（100 亩）。"),
    ({"planned_area": "100", "developed_area": "150"}, "已开发面积（150 亩）不能大于园区规划面积（100 亩）。"),
    ({"factory_space": "999999999999"}, "标准厂房超过 100,000,000 m²，请核对单位和数值。"),
    ({"free_land": "NaN"}, "请输入数字（单位：亩）。"),
    ({"free_land": "1e1000000"}, "可供地超过 1,000,000 亩"),
    ({}, "请至少填写一项容量数据。"),
])
def test_absurd_figures_are_refused_and_nothing_saved(app, park, values, message):
    """The form refuses what no park holds; the service refuses figures that contradict each other."""
    client = new_client(app, make_user(Role.ADMIN))
    before = data_version.current()
    response = post(client, park, **values)
    assert response.status_code == 400
    assert message in page_text(response)
    assert rows() == 0 and data_version.current() == before


def test_free_land_is_checked_against_the_planned_area_on_record(app, park):
    client = new_client(app, make_user(Role.ADMIN))
    assert post(client, park, planned_area="500").status_code == 302
    response = post(client, park, free_land="600")
    assert response.status_code == 400 and "不能大于园区规划面积（500 亩）" in page_text(response)
    assert rows() == 1


@pytest.mark.parametrize("role", [Role.COMMERCE, Role.LEADER])
def test_others_may_not_confirm(app, park, role):
    response = post(new_client(app, make_user(role)), park, free_land="100")
    assert response.status_code == 403 and rows() == 0


def test_another_countys_official_is_refused_with_a_message(app, park):
    client = new_client(app, make_user(Role.COUNTY, county=OTHER))
    response = post(client, park, free_land="100")
    assert response.status_code == 403
    assert "只有管理员和园区所在县区的账号可以更新园区容量" in page_text(response)
    assert rows() == 0
    # The service refuses it too, whatever calls it.
    with pytest.raises(services.NotAllowed):
        services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("1")}, confirmed_on=clock.today(),
                                  by=make_user(Role.COUNTY, county=OTHER))
    # And the page offers the form only to those who may use it.
    assert "更新容量" not in client.get(f"/parks/{park.id}").get_data(as_text=True)


def test_a_confirmation_bumps_the_data_version(app, park):
    before = data_version.current()
    assert post(new_client(app, make_user(Role.ADMIN)), park, free_land="80").status_code == 302
    assert data_version.current() != before


def test_the_map_popup_carries_the_capacity(app, park):
    admin = make_user(Role.ADMIN)
    services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("1200"),
                                     CapacityMeasure.FACTORY_SPACE: Decimal("30000")},
                              confirmed_on=clock.today() - dt.timedelta(days=120), by=admin)
    db.session.commit()
    page = new_client(app, make_user(Role.LEADER)).get("/map/frame").get_data(as_text=True)
    props = {f["properties"]["id"]: f["properties"] for f in features(page, "parks")}
    assert props[park.id]["capacity"] == {"free_land": "1,200 亩", "factory_space": "30,000 m²",
                                          "confirmed_on": (clock.today() - dt.timedelta(days=120)).isoformat(),
                                          "stale": True}
    assert "function capacityRows" in page
    others = [p for pid, p in props.items() if pid != park.id]
    assert others and all(p["capacity"] == {} for p in others)


def test_the_city_views_park_bubble_carries_the_capacity_too(app, park):
    admin = make_user(Role.ADMIN)
    make_project(admin, county_code=park.county_code, park_id=park.id)
    services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("12.5")}, confirmed_on=clock.today(), by=admin)
    db.session.commit()
    page = new_client(app, make_user(Role.LEADER)).get("/map/frame").get_data(as_text=True)
    match = re.search(r"sanmingLayers\.bubbles\(", page)
    bubbles = {b["id"]: b for b in json.JSONDecoder().raw_decode(page, match.end())[0]}
    assert bubbles[park.id]["capacity"] == {"free_land": "12.5 亩", "factory_space": "未登记",
                                            "confirmed_on": clock.today().isoformat(), "stale": False}
    assert "capacityRows(b.capacity)" in page  # the bubble's popup draws them


def test_the_service_refuses_absurd_figures_whatever_calls_it(park):
    admin = make_user(Role.ADMIN)
    with pytest.raises(services.InvalidInput, match="可供地不能为负数"):
        services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("-1")}, confirmed_on=clock.today(), by=admin)
    with pytest.raises(services.InvalidInput, match="核实日期不能晚于今天"):
        services.confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("1")},
                                  confirmed_on=clock.today() + dt.timedelta(days=1), by=admin)
    db.session.rollback()
    assert rows() == 0
