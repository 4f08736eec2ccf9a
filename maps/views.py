"""Maps views room: the map page and its frame, the offline export, the GeoJSON API, vendor assets, the dashboard and the monthly briefing (thin)."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_from_directory
from flask_login import current_user, login_required
from sqlalchemy import select

from core import clock, logs, security
from core.auth.models import Role
from core.auth.queries import current_counties
from core.db import db
from parks.queries import industries
from core.clock import parse_month
from projects.events.models import SigningEvent
from projects.queries import ListFilters, sign_years
from projects.reports.queries import completeness_by_county
from projects.stages import Light, SignType, Stage

from . import folium_map, queries
from .forms import DashboardFilterForm, MapFilterForm
from .queries import DashboardFilters

bp = Blueprint("maps", __name__)
GEOJSON_MIMETYPE = "application/geo+json"


def init_app(app):
    folium_map.configure_assets()
    app.register_blueprint(bp)
    security.add_asset_endpoint(app, "maps.vendor")
    security.add_image_sources(app, _tile_origins)


def _tile_origins(config) -> list[str]:
    return folium_map.tile_origins(config["MAP_TILES"], config["MAP_TILES_URL"], config["TIANDITU_TOKEN"])


def _filters() -> tuple[MapFilterForm, ListFilters, list[str]]:
    """The filters from the query string; values the user may not pick are dropped and named."""
    form = MapFilterForm(request.args)
    form.stage.set_choices(Stage.choices())
    form.sign_type.set_choices(SignType.choices())
    ignored = _validate_scope(form)
    stage, sign_type = _value(form.stage), _value(form.sign_type)
    filters = ListFilters(county=_value(form.county), industry=_value(form.industry),
                          stage=Stage(stage) if stage else None, sign_type=SignType(sign_type) if sign_type else None,
                          year=_value(form.year), event=_value(form.event), major=bool(form.major.data),
                          light=Light.RED if form.red.data else None)
    return form, filters, ignored


def _validate_scope(form) -> list[str]:
    """Fill the scope choices the map and the dashboard share, validate, and name what is ignored:
    a value that is not one of the choices, or not even a number, is dropped (never a 500)."""
    counties = current_counties()
    if current_user.role is Role.COUNTY:
        counties = [c for c in counties if c.code == current_user.county_code]
    form.county.set_choices((c.code, c.name) for c in counties)
    form.industry.set_choices((i.id, i.name) for i in industries())
    form.year.set_choices((y, f"{y}年") for y in sign_years(current_user))
    form.event.set_choices((e.id, e.name) for e in db.session.scalars(
        select(SigningEvent).order_by(SigningEvent.date.desc())))
    form.validate()
    return [field.label.text for field in form if field.errors]


def _value(field):
    """A filter field's value, or None when it was ignored."""
    return None if field.errors else field.data


def _filter_args(form: MapFilterForm) -> dict[str, str]:
    """The valid, non-blank filters, for links that keep them (frame, export, API)."""
    return {field.name: request.args[field.name] for field in form
            if not field.errors and request.args.get(field.name)}


def _build(filters: ListFilters, *, links: bool):
    parks, _unplaced = queries.park_map_data(filters)
    projects = queries.project_map_data(current_user, filters, clock.today())
    config = current_app.config
    return folium_map.build_map(parks, projects, tiles=config["MAP_TILES"], tiles_url=config["MAP_TILES_URL"],
                                token=config["TIANDITU_TOKEN"], links=links)


@bp.get("/map")
@login_required
def index():
    """Show the map page: filters, the map, its counts and the parks still without a position."""
    form, filters, ignored = _filters()
    parks, unplaced_parks = queries.park_map_data(filters)
    return render_template("maps/index.html", form=form, ignored=ignored, args=_filter_args(form),
                           park_count=len({f["properties"]["id"] for f in parks["features"]}),
                           project_count=queries.project_count(current_user, filters, clock.today()),
                           unplaced_parks=unplaced_parks)


@bp.get("/map/frame")
@login_required
def frame():
    """Render the Leaflet map itself (shown in the map page's frame)."""
    _form, filters, _ignored = _filters()
    return folium_map.render_page(_build(filters, links=True), nonce=security.csp_nonce())


@bp.get("/map/export")
@login_required
def export():
    """Download the filtered map as one HTML file that opens with no network."""
    _form, filters, _ignored = _filters()
    page = folium_map.render_standalone(_build(filters, links=False))
    logs.event("map_exported", query=request.query_string.decode(errors="replace"))
    name = f"sanming-map-{clock.today():%Y%m%d}.html"
    return current_app.response_class(page, mimetype="text/html",
                                      headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _geojson(collection: dict, ignored: list[str]):
    if ignored:
        collection["ignored_filters"] = ignored
    response = jsonify(collection)
    response.mimetype = GEOJSON_MIMETYPE
    return response


@bp.get("/api/v1/parks.geojson")
@login_required
def parks_geojson():
    """Return the parks (filtered by industry and county) as GeoJSON; unplaced parks are left out."""
    _form, filters, ignored = _filters()
    parks, _unplaced = queries.park_map_data(filters)
    logs.event("geojson_downloaded", layer="parks", features=len(parks["features"]))
    return _geojson(parks, ignored)


@bp.get("/api/v1/projects.geojson")
@login_required
def projects_geojson():
    """Return the user's filtered projects as GeoJSON points (WGS-84, at their park or county seat)."""
    _form, filters, ignored = _filters()
    collection = queries.project_map_data(current_user, filters, clock.today())
    logs.event("geojson_downloaded", layer="projects", features=len(collection["features"]))
    return _geojson(collection, ignored)


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    """Serve a map asset (Leaflet) from its installed package, so the map needs no internet."""
    if package not in folium_map.VENDOR_DIRS:
        abort(404)
    return send_from_directory(folium_map.VENDOR_DIRS[package], filename, max_age=86400)


def _dashboard_filters() -> tuple[DashboardFilterForm, DashboardFilters, list[str]]:
    """The dashboard's period and scope from the query string: the period defaults to this year; a
    county official is held to their own county; values the user may not pick are ignored and named."""
    form = DashboardFilterForm(request.args)
    ignored = _validate_scope(form)
    today = clock.today()
    # Absent means the default period (this year); present but blank means no bound.
    date_from = _value(form.date_from) if "date_from" in request.args else dt.date(today.year, 1, 1)
    date_to = _value(form.date_to) if "date_to" in request.args else today
    if "date_from" not in request.args:
        form.date_from.data = date_from
    if "date_to" not in request.args:
        form.date_to.data = date_to
    county = _value(form.county)
    if current_user.role is Role.COUNTY:
        county = current_user.county_code
    filters = DashboardFilters(date_from=date_from, date_to=date_to, county=county,
                               industry=_value(form.industry), event=_value(form.event), year=_value(form.year))
    return form, filters, ignored


@bp.get("/dashboard")
@login_required
def dashboard():
    """Show the leaders' dashboard: headline figures, funnel, tables by county, industry and event, red and stalled lists."""
    form, filters, ignored = _dashboard_filters()
    today, now = clock.today(), clock.now()
    month = today.replace(day=1)
    figures = queries.headline_figures(current_user, filters, today, now)
    ranking = queries.county_ranking(filters, today)
    completeness = completeness_by_county(month)
    return render_template(
        "maps/dashboard.html", form=form, filters=filters, ignored=ignored, figures=figures, ranking=ranking,
        industries=queries.by_industry(current_user, filters, today),
        events=queries.by_event(current_user, filters, today),
        red=queries.red_list(current_user, filters, today), stalled=queries.stalled_list(current_user, filters, now),
        completeness=sorted(completeness, key=lambda r: (r["rank"], r["code"])), month=month,
        stalled_days=queries.STALLED_DAYS, cst=clock.LOCAL_TZ, list_limit=queries.LIST_LIMIT, today=today,
        own_county=current_user.county_code if current_user.role is Role.COUNTY else filters.county)


@bp.get("/reports/briefing")
@login_required
def briefing():
    """Download the monthly briefing workbook (.xlsx) for the 调度会, scoped to the user's county."""
    from . import excel  # pandas loads only when a workbook is asked for

    month = parse_month(request.args.get("month"))
    data = queries.briefing_data(current_user, month, clock.today())
    scope = current_user.county.name if current_user.role is Role.COUNTY else "三明市"
    title = f"{scope}招商引资项目调度会简报（{month.year}年{month.month}月）"
    content = excel.briefing_workbook(data, title=title)
    logs.event("briefing_exported", month=f"{month:%Y-%m}")
    filename = f"briefing-{month:%Y-%m}.xlsx"
    quoted = quote(f"{title}.xlsx")
    return current_app.response_class(
        content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quoted}"})
