"""The dashboard page: the period and scope from the query string, then the figures, rankings and lists."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from core import clock
from core.auth.models import Role
from maps.queries import scope_choices

from . import queries
from .forms import DashboardFilterForm
from .queries import DashboardFilters

bp = Blueprint("dashboard", __name__)


def init_app(app):
    app.register_blueprint(bp)


def _filters() -> tuple[DashboardFilterForm, DashboardFilters, list[str]]:
    """The dashboard's period and scope from the query string: the period defaults to this year; a
    county official is held to their own county; values the user may not pick are ignored and named."""
    form = DashboardFilterForm(request.args)
    ignored = form.read_scope(**scope_choices(current_user))
    today = clock.today()
    # Absent means the default period (this year); present but blank means no bound.
    date_from = form.value("date_from") if "date_from" in request.args else dt.date(today.year, 1, 1)
    date_to = form.value("date_to") if "date_to" in request.args else today
    if "date_from" not in request.args:
        form.date_from.data = date_from
    if "date_to" not in request.args:
        form.date_to.data = date_to
    county = current_user.county_code if current_user.role is Role.COUNTY else form.value("county")
    filters = DashboardFilters(date_from=date_from, date_to=date_to, county=county, industry=form.value("industry"),
                               event=form.value("event"), year=form.value("year"))
    return form, filters, ignored


@bp.get("/dashboard")
@login_required
def index():
    """Show the leaders' dashboard: headline figures, funnel, tables by county, industry and event, red and
    stalled lists."""
    form, filters, ignored = _filters()
    today = clock.today()
    month = clock.month_start(today)
    return render_template(
        "dashboard/index.html", form=form, filters=filters, ignored=ignored,
        figures=queries.headline_figures(current_user, filters, today),
        ranking=queries.county_ranking(filters, today),
        industries=queries.by_industry(current_user, filters, today),
        events=queries.by_event(current_user, filters, today),
        red=queries.red_list(current_user, filters, today), stalled=queries.stalled_list(current_user, filters, today),
        completeness=queries.completeness_ranking(month), month=month,
        data_completeness=queries.data_completeness_ranking(),
        stalled_days=queries.STALLED_DAYS, list_limit=queries.LIST_LIMIT, today=today)
