"""Dashboard test fixture: five signed projects in 2026 (and one in 2025) whose figures are worked out by hand."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from core import clock
from core.db import db
from parks.models import Industry
from projects.models import Project
from projects.stages import SignType, Stage
from tests.factories import make_event, make_project
from tests.prepared import PreparedRows, T, prepare

TODAY = dt.date(2026, 5, 20)
NOW = dt.datetime(2026, 5, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Sanming
OWN, OTHER = "350404", "350481"  # 三元区, 永安市
NAMES = {"p1": "三元甲石墨烯项目", "p2": "三元乙氟化工项目", "p3": "永安丙协议转合同项目", "p4": "永安丁协议项目",
         "p5": "永安戊投产项目", "p6": "三元去年项目"}


def freeze(monkeypatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def prepare_frozen(app, reference, build_world: Callable[[], T]) -> tuple[T, PreparedRows]:
    """``build_world`` run once, on the reference data with the clock frozen at NOW, and the rows it leaves."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        freeze(monkeypatch)
        return prepare(app, build_world, *reference)


def _set(project: Project, **values) -> None:
    db.session.execute(update(Project).where(Project.id == project.id).values(**values)
                       .execution_options(synchronize_session=False))


def build() -> dict:
    """Hand-computed, for the default period 2026-01-01 … 2026-05-20 (p6 signed in 2025 falls outside):
    signed 5, total 100,000 万元; 开工率 2/3 (contract-first p1, p2, p5; started p1, p5; p3's start
    does not count);
    协议转合同率 1/2 (agreement-first p3, p4; converted p3); 投产率 1/5 (p5);
    资金到位率 44,500 / 85,000 (under contract now: p1, p2, p3, p5); red 1 (p2); stalled 1 (p4)."""
    industry = db.session.scalar(select(Industry).where(Industry.code == "graphite"))
    event = make_event(name="2026年6·18测试签约活动", date=dt.date(2026, 1, 5))
    contract, agreement = SignType.CONTRACT, SignType.AGREEMENT
    p = {
        "p1": make_project(name=NAMES["p1"], county_code=OWN, sign_type=contract, sign_date=dt.date(2026, 1, 10),
                           total_investment=Decimal("10000")),
        "p2": make_project(name=NAMES["p2"], county_code=OWN, sign_type=contract, sign_date=dt.date(2026, 2, 1),
                           total_investment=Decimal("20000")),
        "p3": make_project(name=NAMES["p3"], county_code=OTHER, sign_type=agreement, sign_date=dt.date(2026, 2, 15),
                           total_investment=Decimal("5000")),
        "p4": make_project(name=NAMES["p4"], county_code=OTHER, sign_type=agreement, sign_date=dt.date(2026, 3, 1),
                           total_investment=Decimal("15000")),
        "p5": make_project(name=NAMES["p5"], county_code=OTHER, sign_type=contract, sign_date=dt.date(2026, 1, 20),
                           total_investment=Decimal("50000")),
        "p6": make_project(name=NAMES["p6"], county_code=OWN, sign_type=contract, sign_date=dt.date(2025, 6, 1),
                           total_investment=Decimal("99999")),
    }
    fresh = dt.datetime(2026, 5, 10, tzinfo=dt.UTC)
    _set(p["p1"], stage=Stage.STARTED, actual_start=dt.date(2026, 3, 1), funds_arrived=Decimal("3000"),
         industry_id=industry.id, signing_event_id=event.id, updated_at=fresh)
    _set(p["p2"], planned_start=dt.date(2026, 4, 1), funds_arrived=Decimal("1000"), signing_event_id=event.id,
         updated_at=fresh)
    # p3 started too, but was first signed as an agreement: it never counts towards 开工率.
    _set(p["p3"], sign_type=contract, contract_date=dt.date(2026, 4, 1), actual_start=dt.date(2026, 4, 15),
         funds_arrived=Decimal("500"), updated_at=fresh)
    _set(p["p4"], updated_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))  # 49 days quiet: stalled
    _set(p["p5"], stage=Stage.PRODUCING, actual_start=dt.date(2026, 2, 1), actual_completion=dt.date(2026, 3, 1),
         actual_production=dt.date(2026, 4, 1), funds_arrived=Decimal("40000"), industry_id=industry.id,
         updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # quiet, but 投产: never stalled
    _set(p["p6"], updated_at=fresh)
    db.session.commit()
    return {"ids": {key: project.id for key, project in p.items()}, "industry": industry.id, "event": event.id}
