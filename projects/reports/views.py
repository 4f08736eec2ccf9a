"""The monthly-report page, a project's blockers and each role's to-do page (the first page after login)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from core import clock
from core.auth.models import Role
from core.auth.queries import current_counties
from core.errors import Conflict, InvalidInput, NotAllowed
from core.transaction import FLASH, transaction
from projects import queries as project_queries
from projects.leads.queries import LeadClocks, follow_ups_due, leads_with_flags
from projects.models import can_edit_projects
from projects.views import add_project_panel, editors_only, item_action

from . import queries, services
from .forms import BlockerCloseForm, BlockerEscalateForm, BlockerForm, ReportPageForm, ReportRowForm

bp = Blueprint("reports", __name__, url_prefix="/reports")
blockers_bp = Blueprint("blockers", __name__, url_prefix="/projects")
home_bp = Blueprint("home", __name__)


def init_app(app) -> None:
    for blueprint in (bp, blockers_bp, home_bp):
        app.register_blueprint(blueprint)
    add_project_panel(app, _project_panel)
    project_queries.register_detail_load("blockers")
    project_queries.register_detail_load("reports")
    app.extensions.setdefault("park_panels", []).append(_park_panel)


def _row_form(project, report, formdata=None) -> ReportRowForm:
    prefix = f"p{project.id}-"
    if formdata is not None:
        return ReportRowForm(formdata=formdata, prefix=prefix)
    data = {"version": project.version}
    if report is not None:
        data.update(investment=report.investment, funds_arrived=report.funds_arrived, note=report.note,
                    no_change=report.no_change)
    return ReportRowForm(formdata=None, prefix=prefix, data=data)


@bp.route("/monthly", methods=["GET", "POST"])
@login_required
def monthly():
    """The month's completeness per county, and (for editors) every due project's report on one page."""
    month = clock.parse_month(request.values.get("month"))
    county = current_user.county_code if current_user.role is Role.COUNTY else (request.values.get("county") or None)
    if county and county not in {c.code for c in current_counties()}:
        abort(404)
    can_report = can_edit_projects(current_user) and county is not None
    rows = queries.projects_due_for_month(current_user, month, county=county) if county else []
    status = 200
    if request.method == "POST":
        if not can_report:
            abort(403)
        result = _save_reports(rows, month)
        if result is None:
            return redirect(url_for("reports.monthly", month=f"{month:%Y-%m}", county=county))
        row_forms, status = result
    else:
        row_forms = {project.id: _row_form(project, report) for project, report in rows}
    return render_template("reports/monthly.html", month=month, board=queries.completeness_by_county(month),
                           county=county, counties=current_counties(), rows=rows, row_forms=row_forms,
                           can_report=can_report, page_form=ReportPageForm()), status


class RowsRefused(InvalidInput):
    """Some rows of the monthly page need changes: none of the page is saved."""


def _save_reports(rows, month):
    """Save every filled row in one transaction; on any problem save none and show each row's message."""
    if not ReportPageForm().validate_on_submit():
        flash("表单已过期，请刷新页面后重新填写。", "warning")
        return {p.id: _row_form(p, r, MultiDict(request.form)) for p, r in rows}, 400
    row_forms, saved = {}, 0
    with transaction(errors_to=FLASH) as tx:
        problems = 0
        for project, _report in rows:
            form = _row_form(project, None, request.form)
            row_forms[project.id] = form
            prefix = f"p{project.id}-"  # as _row_form names the row's fields (WTForms keeps form._prefix private)
            if not any(request.form.get(prefix + name) for name in ("investment", "funds_arrived", "note", "no_change")):
                continue
            if not form.validate() or not _save_row(project, month, form):
                problems += 1
                continue
            saved += 1
        if problems or not saved:
            raise RowsRefused(f"有 {problems} 个项目的填报需要修改，本次没有保存任何内容。" if problems
                              else "没有填写任何项目的进展。")
    if not tx.ok:
        return row_forms, 400
    flash(f"已保存 {saved} 个项目的 {month:%Y年%m月} 进展。", "success")
    return None


def _save_row(project, month, form) -> bool:
    """Save one row inside the page's transaction; a refusal goes under the row's field and returns False."""
    try:
        services.save_report(project, month, investment=form.investment.data, funds_arrived=form.funds_arrived.data,
                             note=form.note.data or "", no_change=form.no_change.data, version=form.version.data,
                             by=current_user, confirm_funds_over_total=form.confirm_funds.data)
    except Conflict:
        form.version.errors = ["该项目已被他人修改，请刷新页面后重新填写。"]
    except services.FundsOverTotal as exc:
        form.confirm_funds.errors = [exc.message]
    except (InvalidInput, NotAllowed) as exc:
        form.note.errors = list(exc.errors.values())
    else:
        return True
    return False


def _project_panel(project, can_edit: bool, forms: dict) -> str:
    """The project page's blockers and monthly reports, with the blocker forms for its editors."""
    context = {"project": project, "can_edit": can_edit, "today": clock.today()}
    if can_edit:
        context.update(
            blocker_form=forms.get("blocker_form") or BlockerForm(version=project.version, formdata=None),
            close_forms={b.id: BlockerCloseForm(version=project.version, formdata=None)
                         for b in project.blockers if b.is_open},
            escalate_form=BlockerEscalateForm(version=project.version, formdata=None))
    return Markup(render_template("reports/_project_panel.html", **context))


def _park_panel(park) -> str:
    return Markup(render_template("reports/_park_panel.html",
                                  blockers=queries.open_blockers(current_user, park_id=park.id)))


@blockers_bp.post("/<int:project_id>/blockers")
@editors_only
def add_blocker(project_id: int):
    """Record a problem holding the project back and the department that must act."""
    return item_action(project_id, BlockerForm, lambda project, form: services.add_blocker(
        project, category=form.category.data, description=form.description.data, department=form.department.data,
        due_date=form.due_date.data, escalated=form.escalated.data, version=form.version.data, by=current_user),
        "已登记存在问题。", "blocker_form")


@blockers_bp.post("/<int:project_id>/blockers/<int:blocker_id>/escalate")
@editors_only
def escalate_blocker(project_id: int, blocker_id: int):
    """Raise an open problem to the project's hooked leader."""
    return item_action(project_id, BlockerEscalateForm, lambda project, form: services.escalate_blocker(
        project, queries.blocker_or_404(project, blocker_id), version=form.version.data, by=current_user),
        "已提请挂钩领导协调。", "escalate_form")


@blockers_bp.post("/<int:project_id>/blockers/<int:blocker_id>/close")
@editors_only
def close_blocker(project_id: int, blocker_id: int):
    """Close a problem with a note on how it was solved."""
    return item_action(project_id, BlockerCloseForm, lambda project, form: services.close_blocker(
        project, queries.blocker_or_404(project, blocker_id), closing_note=form.closing_note.data,
        version=form.version.data, by=current_user), "已关闭问题。", "close_form")


@home_bp.get("/")
@login_required
def index():
    """Show what needs the user's attention today, by role."""
    today = clock.today()
    month = clock.month_start(today)
    role = current_user.role
    context = {"today": today, "month": month, "role": role}
    clocks = LeadClocks.from_config(current_app.config)
    if role in (Role.COMMERCE, Role.ADMIN):
        owner = current_user.id if role is Role.COMMERCE else None
        context["overdue_leads"] = leads_with_flags(current_user, clocks, today, overdue_only=True,
                                                    owner_id=owner, limit=50)
        context["follow_ups_due"] = follow_ups_due(current_user, today, owner_id=owner)
    if role in (Role.COUNTY, Role.ADMIN):
        context["missing_reports"], context["missing_count"] = queries.missing_reports(current_user, month)
        context["lit_projects"] = project_queries.lit_projects(current_user, today)
        context["blockers"] = queries.open_blockers(current_user)
        context["gap_projects"], context["gap_count"] = project_queries.gap_projects(current_user)
    if role is Role.COUNTY:
        context["overdue_leads"] = leads_with_flags(current_user, clocks, today, overdue_only=True, limit=50)
    if role is Role.LEADER:
        context["hooked"] = project_queries.lit_projects(current_user, today, lights=(), leader_id=current_user.id,
                                                         limit=200)
        context["blockers"] = queries.open_blockers(current_user, leader_id=current_user.id)
    if role is Role.ADMIN:
        context["board"] = queries.completeness_by_county(month)
    return render_template("home/index.html", **context)
