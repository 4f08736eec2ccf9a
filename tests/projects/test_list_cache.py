"""The project list keeps its totals and its pickers in the cache until the next write: never stale, never shared
between counties."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from core.auth.models import Role
from core.db import db
from parks import editing
from parks.models import Park
from projects.services import create_project
from tests.factories import make_project, make_user, park_data
from tests.projects.web import new_client, page_text

OWN, OTHER = "350404", "350405"


def totals(client, query: str = "") -> tuple[str, str]:
    text = page_text(client.get(f"/projects/{query}"))
    match = re.search(r"共 (\d+) 个项目，总投资 ([\d,.]+) 万元", text)
    assert match, text[:300]
    return match.groups()


def options(client, name: str) -> list[str]:
    page = client.get("/projects/").get_data(as_text=True)
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return re.findall(r">([^<]*)</option>", select)


def test_a_write_changes_the_totals_and_the_year_picker_at_once(app, project_ref):
    commerce = make_user(Role.COMMERCE)
    make_project(commerce, county_code=OWN, total_investment=Decimal("100"), sign_date=dt.date(2024, 3, 1))
    client = new_client(app, commerce)
    assert totals(client) == ("1", "100.00") and totals(client, f"?county={OTHER}") == ("0", "0.00")
    assert options(client, "year") == ["全部年份", "2024年"]
    make_project(commerce, county_code=OTHER, total_investment=Decimal("50.5"), sign_date=dt.date(2023, 6, 1))
    assert totals(client) == ("2", "150.50") and totals(client, f"?county={OTHER}") == ("1", "50.50")
    assert totals(client, "?year=2023") == ("1", "50.50")
    assert options(client, "year") == ["全部年份", "2024年", "2023年"]


def test_a_county_official_never_gets_the_city_wide_entries(app, project_ref):
    commerce = make_user(Role.COMMERCE)
    make_project(commerce, county_code=OWN, total_investment=Decimal("100"), sign_date=dt.date(2024, 3, 1))
    make_project(commerce, county_code=OTHER, total_investment=Decimal("7"), sign_date=dt.date(2021, 6, 1))
    city = new_client(app, commerce)
    assert totals(city) == ("2", "107.00") and "2021年" in options(city, "year")  # the city's entries come first
    official = new_client(app, make_user(Role.COUNTY, county=OWN))
    assert totals(official) == ("1", "100.00")
    assert options(official, "year") == ["全部年份", "2024年"]
    assert [name for name in options(official, "county") if name != "全部县区"] == ["三元区"]


def test_a_retired_park_leaves_the_picker_unless_it_is_asked_for(app, project_ref):
    admin = make_user(Role.ADMIN)
    park = db.session.query(Park).order_by(Park.id).first()
    client = new_client(app, admin)
    assert park.name in options(client, "park")
    editing.retire(park, by=admin)
    db.session.commit()
    assert park.name not in options(client, "park")
    page = client.get(f"/projects/?park={park.id}").get_data(as_text=True)
    assert f'<option selected value="{park.id}">{park.name}</option>' in page


def test_a_project_registered_through_the_service_is_listed_on_the_next_page(app, project_ref):
    commerce = make_user(Role.COMMERCE)
    client = new_client(app, commerce)
    assert totals(client) == ("0", "0.00")
    create_project({"name": "缓存后登记", "investor_name": "某公司", "county_code": OWN, "total_investment": Decimal("9"),
                    "sign_type": "contract", "sign_date": dt.date(2025, 1, 2)}, by=commerce)
    db.session.commit()
    assert totals(client) == ("1", "9.00") and "缓存后登记" in page_text(client.get("/projects/"))


def test_the_project_form_offers_a_new_leader_and_a_new_park_at_once(app, project_ref):
    """Accounts never bump the data version, so the leaders are read on every form; a new park bumps it."""
    admin = make_user(Role.ADMIN)
    project = make_project(admin, county_code=OWN)
    client = new_client(app, admin)

    def offered(field: str) -> str:
        page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
        return re.search(rf'<select[^>]*name="{field}".*?</select>', page, re.S).group(0)

    assert "新挂钩领导" not in offered("hooked_leader_id")
    make_user(Role.LEADER, display_name="新挂钩领导")
    assert re.search(r'<option value="\d+">新挂钩领导</option>', offered("hooked_leader_id"))
    template = db.session.query(Park).order_by(Park.id).first()
    editing.save_park(None, park_data(template, name="新建测试园区", county_code=OWN), by=admin)
    db.session.commit()
    assert "三元区 · 新建测试园区" in offered("park_id")
