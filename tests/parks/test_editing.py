"""Administrators keep the parks: create, edit, rename (former names kept), retire and restore, each change audited
and shown on the page; a re-seed never undoes their work; nothing partial is written."""
from __future__ import annotations

from sqlalchemy import func, select

from core import clock
from core.audit import AuditEntry
from core.db import db
from parks.models import Park, ParkKind, PositionConfidence
from parks.services import seed_reference
from tests.factories import make_user, park_data, rename_park
from tests.parks.helpers import audit_count, park_by_name, text_of
from tests.projects.web import snapshot

NAME = "三明稀土产业园"  # county unconfirmed in the policy: guessed 三元区


def form(park: Park, **changes) -> dict:
    """The edit form as a browser posts it."""
    data = park_data(park, **changes)
    return {key: "" if value is None else getattr(value, "value", value) for key, value in data.items()}


def test_admin_creates_a_park_at_its_county_seat_and_the_page_shows_who_made_it(seeded, client, login_as):
    admin = login_as("admin", display_name="王管理")
    response = client.post("/parks/new", data={"name": "  尤溪经济开发区  ", "county_code": "350426",
                                               "kind": "development_zone", "industry_id": "", "zone_id": "",
                                               "description": "县级开发区"})
    park = park_by_name("尤溪经济开发区")
    assert response.status_code == 302 and response.headers["Location"] == f"/parks/{park.id}"
    assert (park.county_code, park.kind, park.description) == ("350426", ParkKind.DEVELOPMENT_ZONE, "县级开发区")
    assert (park.lat, park.lon) == (26.1733, 118.1855)  # 尤溪县's seat, to be confirmed
    assert park.position_confidence is PositionConfidence.COUNTY_SEAT and park.edited_at is not None
    assert audit_count(entity="park", entity_id=str(park.id), action="created", user_id=admin.id) == 1

    page = text_of(client.get(f"/parks/{park.id}").get_data(as_text=True))
    entry = db.session.scalar(select(AuditEntry).filter_by(entity="park", entity_id=str(park.id)))
    assert "变更记录" in page and f"{clock.format_time(entry.at)} · 王管理 · 新建" in page  # China time
    assert "名称：尤溪经济开发区" in page and "所在县区：尤溪县" in page and "类型：开发区" in page
    assert "尤溪经济开发区" in text_of(client.get("/parks/").get_data(as_text=True))


def test_a_rename_keeps_the_former_name_and_the_page_shows_old_and_new(seeded, client, login_as):
    login_as("admin", display_name="王管理")
    park = park_by_name(NAME)
    response = client.post(f"/parks/{park.id}/edit", data=form(park, name="三明稀土新材料产业园",
                                                                  description="已核实园区名称"))
    assert response.status_code == 302
    park = db.session.get(Park, park.id)
    assert park.name == "三明稀土新材料产业园"
    assert [alias.name for alias in park.aliases] == [NAME]

    page = text_of(client.get(f"/parks/{park.id}").get_data(as_text=True))
    assert f"曾用名 {NAME}" in page
    assert "王管理 · 修改" in page and f"名称：{NAME} → 三明稀土新材料产业园" in page
    assert "简介：稀土新能源材料产业的载体，持续深化与厦门钨业的合作。 → 已核实园区名称" in page


def test_back_to_a_former_name_drops_it_from_the_former_names(seeded):
    admin = make_user("admin")
    park = rename_park(park_by_name(NAME), "稀土园", by=admin)
    rename_park(park, NAME, by=admin)
    park = park_by_name(NAME)
    assert [alias.name for alias in park.aliases] == ["稀土园"]


def test_a_name_in_use_or_another_parks_former_name_is_refused_and_nothing_is_written(seeded, client, login_as):
    admin = login_as("admin")
    rename_park(park_by_name("清流氟化工产业园"), "清流氟新材料产业园", by=admin)
    park = park_by_name(NAME)
    before = snapshot()
    for name, message in (("吉口循环经济产业园", "已有同名园区“吉口循环经济产业园”。"),
                          ("清流氟化工产业园", "“清流氟化工产业园”是园区“清流氟新材料产业园”的曾用名")):
        response = client.post(f"/parks/{park.id}/edit", data=form(park, name=name))
        assert response.status_code == 400 and message in text_of(response.get_data(as_text=True))
        response = client.post("/parks/new", data=form(park, name=name))
        assert response.status_code == 400 and message in text_of(response.get_data(as_text=True))
    assert snapshot() == before


def test_retire_and_restore_are_audited_and_shown(seeded, client, login_as):
    login_as("admin", display_name="王管理")
    park = park_by_name(NAME)
    assert client.post(f"/parks/{park.id}/retire").status_code == 302
    assert park_by_name(NAME).is_retired
    page = text_of(client.get(f"/parks/{park.id}").get_data(as_text=True))
    assert "已撤销" in page and "王管理 · 撤销" in page and "恢复" in page

    index = client.get("/parks/").get_data(as_text=True)
    retired = index[index.index('id="retired-parks"'):]
    assert NAME in text_of(retired) and NAME not in text_of(index[:index.index('id="retired-parks"')])

    response = client.post(f"/parks/{park.id}/retire", follow_redirects=True)  # twice: refused, said
    assert f"“{NAME}”已经撤销。" in text_of(response.get_data(as_text=True))
    assert audit_count(entity="park", entity_id=str(park.id), action="retired") == 1

    assert client.post(f"/parks/{park.id}/restore").status_code == 302
    assert not park_by_name(NAME).is_retired
    assert "王管理 · 恢复" in text_of(client.get(f"/parks/{park.id}").get_data(as_text=True))


def test_a_park_at_its_county_seat_follows_the_seat_a_confirmed_one_stays(seeded):
    admin = make_user("admin")
    from parks.editing import save_park
    from parks.services import set_position

    park = park_by_name(NAME)
    save_park(park, park_data(park, county_code="350405"), by=admin)  # no project uses it: no confirmation
    db.session.commit()
    park = park_by_name(NAME)
    assert (park.county_code, park.lat, park.lon) == ("350405", 26.4006, 117.7874)
    assert "沙县区" in park.position_note

    set_position(park, 26.41, 117.80, by=admin)
    save_park(park, park_data(park, county_code="350404"), by=admin)
    db.session.commit()
    park = park_by_name(NAME)
    assert (park.county_code, park.lat, park.lon) == ("350404", 26.41, 117.80)


def test_a_re_seed_keeps_renamed_retired_and_moved_parks_as_the_administrator_left_them(seeded):
    from parks.editing import retire, save_park

    admin = make_user("admin")
    rename_park(park_by_name(NAME), "三明稀土新材料产业园", by=admin)
    retire(park_by_name("吉口循环经济产业园"), by=admin)
    db.session.commit()
    moved = park_by_name("沈阳机床·三明5D智造谷")
    save_park(moved, park_data(moved, county_code="350405", description="已核实"), by=admin)
    db.session.commit()
    parks_before = db.session.scalar(select(func.count()).select_from(Park))

    seed_reference()
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(Park)) == parks_before
    assert db.session.scalar(select(Park).filter_by(name=NAME)) is None  # not made again under its old name
    assert park_by_name("三明稀土新材料产业园").aliases[0].name == NAME
    assert park_by_name("吉口循环经济产业园").is_retired
    moved = park_by_name("沈阳机床·三明5D智造谷")
    assert (moved.county_code, moved.description) == ("350405", "已核实")
    # A park no administrator touched is still refreshed from the reference data.
    untouched = park_by_name("清流氟化工产业园")
    untouched.description = "手工改动"
    db.session.commit()
    seed_reference()
    db.session.commit()
    assert park_by_name("清流氟化工产业园").description == "扶强做大东莹化工等骨干企业。"


def test_a_form_that_fails_writes_nothing(seeded, client, login_as):
    login_as("admin")
    park = park_by_name(NAME)
    before = snapshot()
    for data in (form(park, name=""), form(park, county_code="350402"),  # a pre-2021 code is no choice
                 form(park, kind="castle"), form(park, zone_id="999999")):
        assert client.post(f"/parks/{park.id}/edit", data=data).status_code == 400
    assert snapshot() == before


def test_the_edit_form_offers_only_zones_in_use_and_the_parks_own(seeded, client, login_as):
    from parks.editing import retire
    from parks.models import Zone

    admin = login_as("admin")
    zone = db.session.scalar(select(Zone).filter_by(name="稀土新能源材料产业集聚区"))
    retire(zone, by=admin)
    db.session.commit()
    own = text_of(client.get(f"/parks/{park_by_name(NAME).id}/edit").get_data(as_text=True))
    assert "稀土新能源材料产业集聚区（已撤销）" in own  # the park's own zone, though retired
    other = text_of(client.get(f"/parks/{park_by_name('吉口循环经济产业园').id}/edit").get_data(as_text=True))
    assert "稀土新能源材料产业集聚区" not in other
    assert "稀土新能源材料产业集聚区" not in text_of(client.get("/parks/new").get_data(as_text=True))
