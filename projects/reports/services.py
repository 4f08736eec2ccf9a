"""Writing monthly reports (and the totals they drive) and blockers, each into the project's timeline."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from core import clock
from core.auth.models import User
from core.db import db
from core.errors import InvalidInput
from projects import services as project_services
from projects.models import EventKind, Project
from projects.rules import ProjectInvalid
from projects.stages import Stage

from . import queries
from .models import Blocker, BlockerCategory, ProgressReport

REPORTING_STAGES = (Stage.SIGNED, Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING)


def report_month_problem(project: Project, month: dt.date) -> str | None:
    """Why ``project`` cannot report for ``month`` (the first of a month), or None."""
    if project.stage not in REPORTING_STAGES or project.sign_date is None:
        return f"“{project.stage.label}”阶段的项目不填报月度进展。"
    if month > clock.month_start(clock.today()):
        return "不能填报未来月份的进展。"
    if month < clock.month_start(project.sign_date):
        return f"项目 {project.sign_date:%Y年%m月} 签约，不能填报签约之前月份的进展。"
    if project.actual_production and month > clock.month_start(project.actual_production):
        return f"项目已于 {project.actual_production:%Y年%m月} 投产，之后的月份不再填报。"
    return None


def save_report(project: Project, month: dt.date, *, investment: Decimal | None, funds_arrived: Decimal | None,
                note: str, no_change: bool, version: int | None, by: User,
                confirm_funds_over_total: bool = False) -> ProgressReport:
    """Record (or correct) a project's report for one month; a second report for the month updates it."""
    project_services.require_editor(project.county_code, by)
    project_services.check_version(project, version)
    month = clock.month_start(month)
    problem = report_month_problem(project, month)
    if problem:
        raise ProjectInvalid({"month": problem})
    note = (note or "").strip()
    if no_change:
        investment, funds_arrived = Decimal("0"), Decimal("0")
    investment = investment if investment is not None else Decimal("0")
    funds_arrived = funds_arrived if funds_arrived is not None else Decimal("0")
    if investment < 0 or funds_arrived < 0:
        raise ProjectInvalid({"investment": "金额不能为负数。"})
    if not no_change and investment == 0 and funds_arrived == 0 and not note:
        raise ProjectInvalid({"note": "请填写本月完成投资、到位资金或进展说明，或勾选“本月无变化”。"})
    report = queries.month_report(project, month)
    old_funds = report.funds_arrived if report else Decimal("0")
    if project.funds_arrived - old_funds + funds_arrived > project.total_investment and not confirm_funds_over_total:
        raise FundsOverTotal(project, project.funds_arrived - old_funds + funds_arrived)
    label = f"{month:%Y年%m月}"
    changes = []
    if report is None:
        report = ProgressReport(project=project, month=month)
        db.session.add(report)
        changes.append(("report", f"{label}月报", None, "本月无变化" if no_change else "已填报"))
    for field, title, value in (("investment", "完成投资（万元）", investment), ("funds_arrived", "到位资金（万元）", funds_arrived),
                                ("note", "进展说明", note), ("no_change", "本月无变化", no_change)):
        old = getattr(report, field)
        if old != value:
            if report.id is not None:
                changes.append((field, f"{label}·{title}", old, value))
            setattr(report, field, value)
    if report.id is not None and not changes:
        return report
    report.reported_by_id, report.reported_at = by.id, clock.now()
    db.session.flush()
    recompute_totals(project)
    project_services.touch(project, by)
    db.session.flush()
    for field, title, old, new in changes:
        project_services.record_event(project, by, EventKind.REPORT, field, title, old, new)
    db.session.flush()
    return report


class FundsOverTotal(InvalidInput):
    """Funds arrived would exceed the total investment: allowed only once the user confirms."""

    def __init__(self, project: Project, funds: Decimal):
        super().__init__(errors={"confirm_funds": f"到位资金累计 {funds:.2f} 万元，超过总投资 "
                                                  f"{project.total_investment:.2f} 万元，请确认后再保存。"})
        self.project = project
        self.funds = funds


def recompute_totals(project: Project) -> None:
    """Cumulative investment and funds arrived are derived from the monthly reports, never typed twice."""
    with db.session.no_autoflush:  # one UPDATE (one version step) for the whole change, not two
        invested, funds = db.session.execute(
            select(func.coalesce(func.sum(ProgressReport.investment), 0),
                   func.coalesce(func.sum(ProgressReport.funds_arrived), 0))
            .where(ProgressReport.project_id == project.id)).one()
    project.investment_completed = (project.investment_baseline or Decimal("0")) + Decimal(invested)
    project.funds_arrived = Decimal(funds)


# ---- Monthly progress reports (月度进展) ----


def add_blocker(project: Project, *, category: BlockerCategory | str, description: str, department: str,
                due_date: dt.date | None, escalated: bool, version: int | None, by: User) -> Blocker:
    project_services.require_editor(project.county_code, by)
    project_services.check_version(project, version)
    description = (description or "").strip()
    if not description:
        raise ProjectInvalid({"description": "请描述存在的问题。"})
    blocker = Blocker(project=project, category=BlockerCategory(category), description=description,
                      department=(department or "").strip(), due_date=due_date, escalated=bool(escalated),
                      created_by_id=by.id)
    db.session.add(blocker)
    project_services.touch(project, by)
    db.session.flush()
    project_services.record_event(project, by, EventKind.BLOCKER, "blocker", f"存在问题（{blocker.category.label}）", None, description,
           note="已提请挂钩领导协调" if blocker.escalated else "")
    db.session.flush()
    return blocker


def escalate_blocker(project: Project, blocker: Blocker, *, version: int | None, by: User) -> None:
    project_services.require_editor(project.county_code, by)
    project_services.check_version(project, version)
    if blocker.project_id != project.id:
        raise ProjectInvalid({"": "该问题不属于此项目。"})
    if not blocker.is_open or blocker.escalated:
        raise ProjectInvalid({"": "该问题已关闭或已提请挂钩领导协调。"})
    blocker.escalated = True
    project_services.touch(project, by)
    db.session.flush()
    project_services.record_event(project, by, EventKind.BLOCKER, "blocker", f"存在问题（{blocker.category.label}）·提请挂钩领导", False, True)
    db.session.flush()


def close_blocker(project: Project, blocker: Blocker, *, closing_note: str, version: int | None, by: User) -> None:
    project_services.require_editor(project.county_code, by)
    project_services.check_version(project, version)
    if blocker.project_id != project.id:
        raise ProjectInvalid({"": "该问题不属于此项目。"})
    if not blocker.is_open:
        raise ProjectInvalid({"closing_note": "该问题已经关闭。"})
    closing_note = (closing_note or "").strip()
    if not closing_note:
        raise ProjectInvalid({"closing_note": "关闭问题时请说明解决情况。"})
    blocker.closed_at, blocker.closing_note = clock.now(), closing_note
    project_services.touch(project, by)
    db.session.flush()
    project_services.record_event(project, by, EventKind.BLOCKER, "blocker", f"存在问题（{blocker.category.label}）", blocker.description,
           "已解决", note=closing_note)
    db.session.flush()


# ---- Signing events (签约活动) ----
