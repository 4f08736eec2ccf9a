"""Security fixtures: the route-policy world of real rows, and a crawl world with a row in every table."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import clock
from core.auth import tokens
from core.auth.models import Role
from core.db import db
from parks import services as park_services
from parks.models import CapacityMeasure, Park
from projects.leads import services as lead_services
from projects.leads.models import Lead
from projects.models import Project
from projects.reports import services as report_services
from tests.prepared import prepare
from tests.test_route_policy import PreparedWorld, World, build_world
from tests.test_route_policy import prepared_world, world  # noqa: F401  (the fixtures, shared with the policy tests)


def build_crawl_world(app) -> World:
    """The world plus what it lacks for a realistic crawl: a monthly report, a follow-up, a placed park with its
    capacity, an API token."""
    world = build_world(app)
    commerce, admin = world.users[Role.COMMERCE.value], world.users[Role.ADMIN.value]
    project = db.session.get(Project, world.project_ids[False])
    report_services.save_report(project, clock.month_start(clock.today()), investment=Decimal("120"),
                                 funds_arrived=Decimal("80"), note="厂房基础施工", no_change=False,
                                 version=project.version, by=commerce)
    lead = db.session.get(Lead, world.lead_ids[False])
    lead_services.add_follow_up(lead, date=clock.today(), kind="visit", summary="上门拜访，对方有意向",
                                   next_step="报送投资方案", next_due=clock.today() + dt.timedelta(days=7), by=commerce)
    park = db.session.get(Park, world.park_id)
    park_services.set_position(park, 26.2634, 117.6389, note="实地核对", by=admin)
    park_services.confirm_capacity(park, {CapacityMeasure.PLANNED_AREA: Decimal("3000"),
                                          CapacityMeasure.FREE_LAND: Decimal("260")},
                                   confirmed_on=clock.today(), by=admin, note="实地核查")
    tokens.create_token(commerce, "数据共享平台", by=commerce)
    db.session.commit()
    return world


@pytest.fixture(scope="module")
def prepared_crawl_world(app, reference) -> PreparedWorld:
    return PreparedWorld(*prepare(app, lambda: build_crawl_world(app), *reference))


@pytest.fixture
def crawl_world(prepared_crawl_world) -> World:
    return prepared_crawl_world.start()
