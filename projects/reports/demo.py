"""Demo monthly reports for the last three months and a few open blockers, then the derived totals."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, insert, select, update

from core.db import db
from projects.models import Project
from projects.stages import Stage

from .models import Blocker, BlockerCategory, ProgressReport


def finish(rng, first_id: int, end_id: int, today: dt.date, now, parks) -> str:
    _reports_and_blockers(rng, first_id, end_id, today, now)
    return "月度进展和存在问题"


def _reports_and_blockers(rng, first_id: int, end_id: int, today: dt.date, now) -> None:
    """Monthly reports for the last three months and a few open problems, then derived totals."""
    rows = db.session.execute(select(Project.id, Project.stage, Project.sign_date, Project.actual_production,
                                     Project.total_investment)
                              .where(Project.id >= first_id, Project.id < end_id)).all()
    this_month = today.replace(day=1)
    months = [this_month]
    for _ in range(2):
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    reports, blockers = [], []
    for pid, stage, sign_date, production, total in rows:
        if stage in (Stage.SIGNED, Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING) and sign_date:
            for month in months:
                if month < sign_date.replace(day=1) or (production and month > production.replace(day=1)):
                    continue
                if rng.random() < (0.45 if month == this_month else 0.8):
                    invest = (total * Decimal(rng.randrange(0, 4)) / 100).quantize(Decimal("0.01"))
                    reports.append({"project_id": pid, "month": month, "investment": invest,
                                    "funds_arrived": (invest * Decimal(rng.randrange(50, 100)) / 100).quantize(Decimal("0.01")),
                                    "note": "按计划推进" if invest else "", "no_change": invest == 0,
                                    "reported_by_id": None, "reported_at": now})
        if stage not in (Stage.DROPPED, Stage.PRODUCING, Stage.NEGOTIATING) and rng.random() < 0.08:
            category = rng.choice(list(BLOCKER_SAMPLES))
            blockers.append({"project_id": pid, "category": category.value, "description": BLOCKER_SAMPLES[category][0],
                             "department": BLOCKER_SAMPLES[category][1],
                             "due_date": today + dt.timedelta(days=rng.randrange(-20, 45)),
                             "escalated": rng.random() < 0.3, "closed_at": None, "closing_note": "",
                             "created_by_id": None, "created_at": now})
    if reports:
        db.session.execute(insert(ProgressReport), reports)
    if blockers:
        db.session.execute(insert(Blocker), blockers)
    totals = (select(func.coalesce(func.sum(ProgressReport.investment), 0))
              .where(ProgressReport.project_id == Project.id).scalar_subquery())
    funds = (select(func.coalesce(func.sum(ProgressReport.funds_arrived), 0))
             .where(ProgressReport.project_id == Project.id).scalar_subquery())
    db.session.execute(update(Project).where(Project.id >= first_id, Project.id < end_id)
                       .values(investment_completed=Project.investment_baseline + totals, funds_arrived=funds)
                       .execution_options(synchronize_session=False))


BLOCKER_SAMPLES = {
    BlockerCategory.LAND: ("项目用地征迁尚未完成，影响按期供地", "县自然资源局"),
    BlockerCategory.EIA: ("环评报告需补充含氟废气治理方案", "市生态环境局"),
    BlockerCategory.FUNDING: ("企业融资未到位，二期设备采购推迟", "县金融办"),
    BlockerCategory.APPROVAL: ("能评审查排队时间较长", "市发改委"),
    BlockerCategory.UTILITIES: ("园区 110kV 专线尚未接入", "国网三明供电公司"),
    BlockerCategory.OTHER: ("用工招聘困难，技术工人缺口较大", "县人社局"),
}


