"""The dashboard page: the period and scope from the query string, then the figures, rankings and lists."""
from __future__ import annotations

import dataclasses
import datetime as dt
import time

from flask import Blueprint, current_app, render_template, request, session
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from core import cache, clock, security
from core.auth.models import Role
from core.forms import field_names
from maps.queries import scope_choices
from projects.queries import visible_scope

from . import queries
from .forms import DashboardFilterForm
from .queries import DashboardFilters

bp = Blueprint("dashboard", __name__)


def init_app(app):
    app.register_blueprint(bp)
    security.add_revalidated_endpoint(app, "dashboard.index")


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


def _page_identity() -> tuple:
    """What the page shows besides the cached figures: the navbar's user, and the CSRF token of the logout form,
    which is valid for this session and WTF_CSRF_TIME_LIMIT; a browser's copy is used at most half that long."""
    limit = current_app.config["WTF_CSRF_TIME_LIMIT"]
    if current_app.config["WTF_CSRF_ENABLED"]:
        generate_csrf()  # the session's secret exists before it is part of the ETag
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    return (current_user.id, current_user.name_for_display, current_user.role.value, session.get(field),
            int(time.time()) // (limit // 2) if limit else None)


def _content(today: dt.date) -> str:
    """The page's figures, rankings and lists for the user's scope and filters, rendered."""
    form, filters, ignored = _filters()
    month = clock.month_start(today)
    figures, industries, events = queries.summary(current_user, filters, today)
    # The city-wide tables are the same for every user (and the boards whatever the filters): kept apart, so after
    # a write only the first dashboard anyone opens computes them.
    city_wide = dataclasses.astuple(dataclasses.replace(filters, county=None))  # the ranking ignores the county
    return render_template(
        "dashboard/_content.html", form=form, filters=filters, ignored=ignored, figures=figures,
        ranking=cache.kept(cache.entry_key("dashboard.ranking", city_wide, today),
                           lambda: queries.county_ranking(filters, today)),
        industries=industries, events=events,
        red=queries.red_list(current_user, filters, today), stalled=queries.stalled_list(current_user, filters, today),
        completeness=cache.kept(cache.entry_key("dashboard.completeness", month),
                                lambda: queries.completeness_ranking(month)), month=month,
        data_completeness=cache.kept(cache.entry_key("dashboard.data_completeness"), queries.data_completeness_ranking),
        stalled_days=queries.STALLED_DAYS, list_limit=queries.LIST_LIMIT, today=today)


@bp.get("/dashboard")
@login_required
def index():
    """Show the leaders' dashboard: headline figures, funnel, tables by county, industry and event, red and
    stalled lists."""
    today = clock.today()
    key = cache.entry_key("dashboard.index", visible_scope(current_user),
                          cache.normalised_args(field_names(DashboardFilterForm)), today)
    etag = cache.etag_of(key, *_page_identity()) if key else None
    held = cache.client_has(etag) if etag and "_flashes" not in session else None
    if held:  # the tag as Flask-Compress sent it, its coding appended
        return cache.not_modified(held)
    content = cache.kept(key, lambda: _content(today))
    response = current_app.make_response(render_template("dashboard/index.html", content=Markup(content)))
    if etag:
        response.set_etag(etag)
    return response
