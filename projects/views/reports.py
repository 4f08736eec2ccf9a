"""Monthly-report views room: the county completeness scoreboard and reporting all projects on one page."""
from __future__ import annotations


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from core.auth.models import Role
from core.auth.queries import current_counties
from core.db import db

from .. import queries, services
from ..forms import ReportPageForm, ReportRowForm
from .common import parse_month

bp = Blueprint("reports", __name__, url_prefix="/reports")


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
    month = parse_month(request.values.get("month"))
    county = current_user.county_code if current_user.role is Role.COUNTY else (request.values.get("county") or None)
    if county and county not in {c.code for c in current_counties()}:
        abort(404)
    can_report = current_user.can_edit_projects and county is not None
    rows = queries.projects_due_for_month(current_user, month, county=county) if county else []
    page_form = ReportPageForm()
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
                           can_report=can_report, page_form=page_form), status


def _save_reports(rows, month):
    """Save every filled row in one transaction; on any problem save none and show each row's message."""
    if not ReportPageForm().validate_on_submit():
        flash("表单已过期，请刷新页面后重新填写。", "warning")
        return {p.id: _row_form(p, r, MultiDict(request.form)) for p, r in rows}, 400
    row_forms, problems, saved = {}, 0, 0
    for project, _report in rows:
        form = _row_form(project, None, request.form)
        row_forms[project.id] = form
        prefix = f"p{project.id}-"  # as _row_form names the row's fields (WTForms keeps form._prefix private)
        filled = any(request.form.get(prefix + name) for name in ("investment", "funds_arrived", "note", "no_change"))
        if not filled:
            continue
        if not form.validate():
            problems += 1
            continue
        try:
            services.save_report(project, month, investment=form.investment.data, funds_arrived=form.funds_arrived.data,
                                 note=form.note.data or "", no_change=form.no_change.data, version=form.version.data,
                                 by=current_user, confirm_funds_over_total=form.confirm_funds.data)
        except services.Conflict:
            form.version.errors = ["该项目已被他人修改，请刷新页面后重新填写。"]
            problems += 1
        except services.FundsOverTotal as exc:
            form.confirm_funds.errors = [str(exc)]
            problems += 1
        except (services.ProjectInvalid, services.NotAllowed) as exc:
            form.note.errors = list(exc.errors.values()) if isinstance(exc, services.ProjectInvalid) else [str(exc)]
            problems += 1
        else:
            saved += 1
    if problems:
        db.session.rollback()
        flash(f"有 {problems} 个项目的填报需要修改，本次没有保存任何内容。", "danger")
        return row_forms, 400
    if not saved:
        flash("没有填写任何项目的进展。", "info")
        return row_forms, 400
    db.session.commit()
    flash(f"已保存 {saved} 个项目的 {month:%Y年%m月} 进展。", "success")
    return None
