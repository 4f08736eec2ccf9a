"""Security fixtures: the route-policy world of real rows, and a crawl world with a row in every table."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import clock
from core.auth.models import Role
from core.db import db
from parks import services as park_services
from parks.models import Park
from projects.leads import services as lead_services
from projects.leads.models import Lead
from projects.models import Project
from projects.reports import services as report_services
from tests.test_route_policy import World, world  # noqa: F401  (the fixture, shared with the policy tests)


@pytest.fixture
def crawl_world(world: World) -> World:  # noqa: F811
    """The world plus what it lacks for a realistic crawl: a monthly report, a follow-up, a placed park."""
    commerce, admin = world.users[Role.COMMERCE.value], world.users[Role.ADMIN.value]
    project = db.session.get(Project, world.project_ids[False])
    report_services.save_report(project, clock.month_start(clock.today()), investment=Decimal("120"),
                                 funds_arrived=Decimal("80"), note="厂房基础施工", no_change=False,
                                 version=project.version, by=commerce)
    lead = db.session.get(Lead, world.lead_ids[False])
    lead_services.add_follow_up(lead, date=clock.today(), kind="visit", summary="上门拜访，对方有意向",
                                   next_step="报送投资方案", next_due=clock.today() + dt.timedelta(days=7), by=commerce)
    park_services.set_position(db.session.get(Park, world.park_id), 26.2634, 117.6389, note="实地核对", by=admin)
    db.session.commit()
    return world
