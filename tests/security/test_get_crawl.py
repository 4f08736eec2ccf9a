"""No GET changes data: every GET route, as every role, on real rows, leaves the database checksum as it was."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from core import clock
from core.db import db
from tests.projects.web import changed_tables, new_client, path_of
from tests.test_route_policy import ANONYMOUS, LOGIN, OTHER_COUNTY, OWN_COUNTY, ROLES

from .helpers import (
    ALEMBIC_VERSION,
    BOOKKEEPING_TABLES,
    checked_tables,
    checksum,
    database_state,
    get_endpoints,
    sample_urls,
)

LAST_MONTH = f"{(clock.today().replace(day=1) - dt.timedelta(days=1)):%Y-%m}"
# Query strings the pages read: filters, months, counties and pages, crawled besides the bare URL.
QUERIES = {
    "auth.login": ["next=/projects/"],
    "projects.index": [f"county={OWN_COUNTY}&stage=signed&sign_type=agreement&major=y&q=测试&page=2"],
    "leads.index": ["status=new&mine=1&overdue=1&q=探测"],
    "maps.index": [f"county={OTHER_COUNTY}&red=y"],
    "maps.frame": [f"county={OTHER_COUNTY}&stage=signed"],
    "maps.export": [f"county={OWN_COUNTY}&q=测试"],
    "maps.projects_geojson": [f"county={OWN_COUNTY}&stage=signed"],
    "dashboard.index": [f"date_from=2025-01-01&date_to={clock.today()}&county={OWN_COUNTY}"],
    "briefing.index": [f"month={LAST_MONTH}"],
    "reports.monthly": [f"month={LAST_MONTH}&county={OTHER_COUNTY}", "month=2020-13"],
    "ledgers.export": [f"county={OTHER_COUNTY}"],
    "chains.index": [f"county={OTHER_COUNTY}&year=2025"],
    "chains.node": [f"county={OWN_COUNTY}&year=2025"],
    "chains.gaps": [f"county={OTHER_COUNTY}"],
    "chains.gaps_export": ["year=2025"],
    "chains.api": [f"county={OWN_COUNTY}"],
}


def crawl_urls(world) -> list[str]:
    urls = []
    for endpoint in get_endpoints():
        for url in sample_urls(world, endpoint):
            urls.append(url)
            base = url.split("?")[0]
            urls.extend(f"{base}?{query}" for query in QUERIES.get(endpoint, ()))
    return urls


def test_every_query_variant_names_a_get_route():
    assert set(QUERIES) <= set(get_endpoints())


def test_the_crawl_world_has_rows_in_every_checked_table(crawl_world):
    state = database_state()
    assert set(state) == {table.name for table in checked_tables()}
    assert not BOOKKEEPING_TABLES & set(state)
    empty = sorted(name for name, rows in state.items() if not rows)
    assert not empty, f"tables with no row for the crawl to disturb: {empty}"


def test_checksum_changes_when_any_row_of_any_checked_table_changes(crawl_world):
    """The test of the test: one changed value in one row of any table shows in the checksum."""
    version = db.session.scalar(select(ALEMBIC_VERSION.c.version_num))
    try:
        for table in checked_tables():
            before = checksum(database_state())
            text_columns = [c for c in table.columns if isinstance(c.type, sa.String)
                            and not isinstance(c.type, sa.Enum) and not c.primary_key and not c.foreign_keys]
            assert text_columns, f"{table.name}: no text column to change"
            column = text_columns[0]
            first = db.session.execute(select(table).limit(1)).first()
            assert first is not None, f"{table.name} is empty"
            row = first._mapping
            key = list(table.primary_key) if getattr(table, "primary_key", None) else [column]
            new_value = "#" if row[column.name] != "#" else "##"
            db.session.execute(update(table).where(*(c == row[c.name] for c in key)).values({column.name: new_value}))
            db.session.commit()
            assert checksum(database_state()) != before, f"changing {table.name}.{column.name} went unseen"
        same = database_state()
        assert checksum(database_state()) == checksum(same), "the checksum differs between two reads"
    finally:
        db.session.rollback()
        db.session.execute(update(ALEMBIC_VERSION).values(version_num=version))
        db.session.commit()


def test_checksum_ignores_only_session_bookkeeping(crawl_world):
    metadata_tables = {table.name for table in db.metadata.sorted_tables}
    assert {table.name for table in checked_tables()} == (metadata_tables - BOOKKEEPING_TABLES) | {"alembic_version"}


@pytest.mark.parametrize("role", ROLES)
def test_no_get_changes_the_database(app, crawl_world, role):
    client = new_client(app, crawl_world.users.get(role))
    home = client.get("/")
    assert (path_of(home) == LOGIN) if role == ANONYMOUS else (home.status_code == 200), f"not crawling as {role}"
    urls = crawl_urls(crawl_world)
    before = database_state()
    for url in urls:
        response = client.get(url)
        response.close()  # a streamed file (static, vendor) holds its file open until closed
        assert response.status_code < 500, f"GET {url} as {role}: {response.status_code}"
        after = database_state()
        assert checksum(after) == checksum(before), f"GET {url} as {role} changed {changed_tables(before, after)}"
