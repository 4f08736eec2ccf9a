"""Dashboard: hand-computed figures, period and scope filters, funnel, red and stalled lists, county scoping, query count."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, update

from core import clock
from core.auth.models import Role
from core.db import db
from maps.dashboard import queries
from projects.demo import generate
from projects.models import Project
from tests.factories import make_user
from tests.maps.dashboard_fixture import NAMES, OTHER, OWN, TODAY, build, freeze, prepare_frozen
from tests.maps.helpers import client_as
from tests.projects.web import new_client, page_text, path_of


@pytest.fixture(scope="module")
def prepared_world(app, reference):
    return prepare_frozen(app, reference, build)


@pytest.fixture
def world(prepared_world, monkeypatch):
    freeze(monkeypatch)
    built, rows = prepared_world
    rows.insert()
    return built


def figure(page: str, key: str) -> str:
    match = re.search(rf'id="figure-{key}">([^<]*)<', page)
    assert match, f"no figure {key}"
    return match.group(1).strip()


def definition(page: str, key: str) -> str:
    match = re.search(rf'<div class="card h-100" title="([^"]*)" data-figure="{key}">', page)
    assert match, f"no definition for {key}"
    return match.group(1)


def funnel(page: str) -> dict[str, int]:
    table = page.split('id="funnel"', 1)[1].split("</table>", 1)[0]
    return {label: int(count) for label, count in
            re.findall(r'data-stage="([^"]+)">.*?<span class="count">(\d+)</span>', table, re.S)}


def section(page: str, table_id: str) -> str:
    return page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def commerce_user():
    return make_user(Role.COMMERCE)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and path_of(response) == "/login"


def test_headline_figures_match_the_hand_computed_answers(app, world):
    user = commerce_user()
    filters = queries.DashboardFilters(date_from=dt.date(2026, 1, 1), date_to=TODAY)
    figures = queries.headline_figures(user, filters, TODAY)
    assert figures["signed"] == 5
    assert figures["total_investment"] == Decimal("100000")
    assert (figures["contracts"], figures["contracts_started"]) == (3, 2)
    assert figures["start_rate"] == 2 / 3
    assert (figures["agreements"], figures["converted"]) == (2, 1)
    assert figures["conversion_rate"] == 1 / 2
    assert figures["producing"] == 1 and figures["production_rate"] == 1 / 5
    assert figures["funds_arrived"] == Decimal("44500") and figures["contract_investment"] == Decimal("85000")
    assert figures["funds_rate"] == pytest.approx(44500 / 85000, abs=1e-12)
    assert figures["red"] == 1 and figures["stalled"] == 1


def test_the_page_shows_the_figures_with_their_definitions(app, world):
    client = new_client(app, commerce_user())
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<a class="nav-link active" href="/dashboard">看板</a>' in page
    assert figure(page, "signed") == "5 个"
    assert figure(page, "total") == "100,000.00 万元"
    assert figure(page, "start_rate") == "66.7%"
    assert figure(page, "conversion_rate") == "50.0%"
    assert figure(page, "production_rate") == "20.0%"
    assert figure(page, "funds_rate") == "52.4%"
    assert figure(page, "red") == "1 个" and figure(page, "stalled") == "1 个"
    assert "2 ÷ 3" in definition(page, "start_rate") and "合同" in definition(page, "start_rate")
    assert "1 ÷ 2" in definition(page, "conversion_rate")
    assert "1 ÷ 5" in definition(page, "production_rate")
    assert "44,500.00 ÷ 85,000.00" in definition(page, "funds_rate")
    assert "资金到位率口径" in page
    assert 'value="2026-01-01"' in page and 'value="2026-05-20"' in page  # the default period: this year
    assert "cdn" not in page.lower() and "<script src=\"http" not in page


def test_funnel_counts_projects_that_reached_each_stage(app, world):
    page = new_client(app, commerce_user()).get("/dashboard").get_data(as_text=True)
    assert funnel(page) == {"签约": 5, "前期": 3, "开工": 3, "竣工": 1, "投产": 1}


def test_red_and_stalled_lists(app, world):
    page = new_client(app, commerce_user()).get("/dashboard").get_data(as_text=True)
    red, stalled = section(page, "red-list"), section(page, "stalled-list")
    assert NAMES["p2"] in red and NAMES["p1"] not in red and NAMES["p4"] not in red
    assert "开工 2026-04-01" in red
    assert NAMES["p4"] in stalled and NAMES["p5"] not in stalled and NAMES["p1"] not in stalled
    assert "2026-04-01" in stalled


def test_stalled_follows_the_clock(app, world):
    # A month earlier p4 had been quiet for 19 days only.
    filters = queries.DashboardFilters(date_from=dt.date(2026, 1, 1))
    assert queries.headline_figures(commerce_user(), filters, dt.date(2026, 4, 20))["stalled"] == 0


def test_stalled_turns_at_local_midnight(app, world, monkeypatch):
    # p4 last updated at 04:00 on 1 April in Sanming (31 March in UTC): quiet for 30 China days through 1 May,
    # stalled from local midnight (16:00 UTC), and listed as updated on 1 April.
    db.session.execute(update(Project).where(Project.name == NAMES["p4"])
                       .values(updated_at=dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC)))
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 5, 1, 15, 59, tzinfo=dt.UTC))
    page = new_client(app, commerce_user()).get("/dashboard?date_from=2026-01-01").get_data(as_text=True)
    assert figure(page, "stalled") == "0 个" and 'id="stalled-list"' not in page
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 5, 1, 16, 0, tzinfo=dt.UTC))
    page = new_client(app, commerce_user()).get("/dashboard?date_from=2026-01-01").get_data(as_text=True)
    assert figure(page, "stalled") == "1 个" and NAMES["p4"] in section(page, "stalled-list")
    assert "2026-04-01" in section(page, "stalled-list") and "2026-03-31" not in section(page, "stalled-list")


def test_period_and_scope_filters(app, world):
    client = new_client(app, commerce_user())
    page = client.get(f"/dashboard?county={OTHER}").get_data(as_text=True)
    assert figure(page, "signed") == "3 个" and figure(page, "total") == "70,000.00 万元"
    assert figure(page, "start_rate") == "100.0%" and figure(page, "production_rate") == "33.3%"
    assert figure(page, "funds_rate") == "73.6%"  # 40,500 / 55,000
    page = client.get("/dashboard?date_from=&date_to=&year=2025").get_data(as_text=True)
    assert figure(page, "signed") == "1 个" and figure(page, "total") == "99,999.00 万元"
    page = client.get("/dashboard?date_from=&date_to=").get_data(as_text=True)
    assert figure(page, "signed") == "6 个"
    page = client.get("/dashboard?date_from=2026-02-01&date_to=2026-02-28").get_data(as_text=True)
    assert figure(page, "signed") == "2 个"  # p2 and p3
    page = client.get(f"/dashboard?industry={world['industry']}").get_data(as_text=True)
    assert figure(page, "signed") == "2 个" and figure(page, "total") == "60,000.00 万元"
    page = client.get(f"/dashboard?event={world['event']}").get_data(as_text=True)
    assert figure(page, "signed") == "2 个" and figure(page, "red") == "1 个"
    assert "2026年6·18测试签约活动" in section(page, "by-event")
    response = client.get("/dashboard?date_from=not-a-date&county=999999")
    assert response.status_code == 200 and "已忽略无法识别的筛选条件" in page_text(response)


def test_tables_by_county_industry_and_event(app, world):
    page = new_client(app, commerce_user()).get("/dashboard").get_data(as_text=True)
    by_county = section(page, "by-county")
    own = by_county.split(f'data-county="{OWN}"', 1)[1].split("</tr>", 1)[0]
    other = by_county.split(f'data-county="{OTHER}"', 1)[1].split("</tr>", 1)[0]
    assert "30,000.00" in own and "70,000.00" in other
    assert by_county.index(f'data-county="{OTHER}"') < by_county.index(f'data-county="{OWN}"')  # ranked by investment
    assert "石墨" in section(page, "by-industry") and "60,000.00" in section(page, "by-industry")
    assert "未关联签约活动" in section(page, "by-event")


def test_county_official_sees_own_figures_and_only_numbers_of_others(app, world):
    client, _user = client_as(app, Role.COUNTY, county=OWN)
    response = client.get(f"/dashboard?county={OTHER}")  # another county is not theirs to pick
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "已忽略无法识别的筛选条件：县区" in page_text(response)
    assert figure(page, "signed") == "2 个" and figure(page, "total") == "30,000.00 万元"
    assert figure(page, "red") == "1 个" and figure(page, "stalled") == "0 个"
    for key in ("p3", "p4", "p5"):
        assert NAMES[key] not in page, f"{NAMES[key]} leaked to another county's official"
    assert NAMES["p2"] in section(page, "red-list")
    ranking = section(page, "by-county")
    other = ranking.split(f'data-county="{OTHER}"', 1)[1].split("</tr>", 1)[0]
    assert "永安市" in other and "70,000.00" in other and ">3<" in other
    assert "永安市" in section(page, "completeness")


@pytest.mark.parametrize("role", [Role.LEADER, Role.ADMIN], ids=lambda r: r.value)
def test_leaders_and_admins_see_the_city(app, world, role):
    client, _user = client_as(app, role)
    page = client.get("/dashboard").get_data(as_text=True)
    assert figure(page, "signed") == "5 个"
    assert NAMES["p4"] in page and NAMES["p2"] in page


def _count_queries(client, url: str) -> int:
    counts = [0]

    def count(*_args, **_kwargs):
        counts[0] += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counts[0]


def test_query_count_does_not_grow_with_the_data(app, project_ref):
    commerce = new_client(app, make_user(Role.COMMERCE))
    county = new_client(app, make_user(Role.COUNTY, county=OWN))
    generate(10, random_seed=3)
    db.session.commit()
    small = [_count_queries(c, "/dashboard?date_from=&date_to=") for c in (commerce, county)]
    generate(40, random_seed=4)
    db.session.commit()
    large = [_count_queries(c, "/dashboard?date_from=&date_to=") for c in (commerce, county)]
    assert small == large
    assert max(large) <= 20
