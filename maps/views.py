"""The map pages: the map and its frame, the offline export, the GeoJSON API and the map's vendor assets."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import orjson
from flask import Blueprint, abort, current_app, render_template, request, send_from_directory
from flask_login import current_user, login_required

from core import cache, clock, logs, security
from core.forms import field_names
from parks.queries import parks_outside_county
from projects.queries import ListFilters, visible_scope
from projects.stages import Light, SignType, Stage

from . import folium_map, queries, summaries, tiles
from .forms import MapFilterForm

bp = Blueprint("maps", __name__)
GEOJSON_MIMETYPE = "application/geo+json"
CACHED = ("maps.frame", "maps.parks_geojson", "maps.projects_geojson", "maps.counties_geojson")


def init_app(app):
    folium_map.configure_assets()
    app.register_blueprint(bp)
    security.add_asset_endpoint(app, "maps.vendor")
    security.add_image_sources(app, _tile_origins)
    for endpoint in CACHED:
        security.add_revalidated_endpoint(app, endpoint)


def _tile_origins(config) -> list[str]:
    return tiles.tile_origins(config["MAP_TILES"], config["MAP_TILES_URL"], config["TIANDITU_TOKEN"])


def _filters() -> tuple[MapFilterForm, ListFilters, list[str]]:
    """The filters from the query string; values the user may not pick are dropped and named."""
    form = MapFilterForm(request.args)
    ignored = form.read_scope(**queries.scope_choices(current_user))
    stage, sign_type = form.value("stage"), form.value("sign_type")
    filters = ListFilters(county=form.value("county"), industry=form.value("industry"),
                          stage=Stage(stage) if stage else None, sign_type=SignType(sign_type) if sign_type else None,
                          year=form.value("year"), event=form.value("event"), major=bool(form.major.data),
                          light=Light.RED if form.red.data else None)
    return form, filters, ignored


def _filter_args(form: MapFilterForm) -> dict[str, str]:
    """The valid, non-blank filters, for links that keep them (frame, export, API)."""
    return {field.name: request.args[field.name] for field in form
            if not field.errors and request.args.get(field.name)}


def _build(filters: ListFilters, today: dt.date, *, links: bool):
    parks, _unplaced = queries.park_map_data(filters)
    points, _unplaced = queries.project_points(current_user, filters, today)
    config = current_app.config
    groups = summaries.project_groups(current_user, filters, today)  # one scan for the counties and the bubbles
    counties = summaries.county_collection(current_user, filters, today, groups)
    return folium_map.build_map(parks, points, counties=counties,
                                bubbles=summaries.park_bubbles(current_user, filters, today, groups),
                                misplaced=parks_outside_county(), tiles=config["MAP_TILES"],
                                tiles_url=config["MAP_TILES_URL"], token=config["TIANDITU_TOKEN"], links=links,
                                photos=queries.latest_photos(points) if links else None)


def _cached(build: Callable[[dt.date], tuple[bytes, dict]], mimetype: str, *extra):
    """This endpoint's response for the user's scope, the filters asked for and today (lights turn at midnight),
    from the cache or built once (``build(today)``); 304 when the browser's copy is current. Returns it with
    its details (None for a 304)."""
    today = clock.today()
    key = cache.entry_key(request.endpoint, visible_scope(current_user),
                          cache.normalised_args(field_names(MapFilterForm)), today, *extra)
    return cache.respond(key, lambda: build(today), mimetype)


def _geojson_body(collection: dict, ignored: list[str]) -> tuple[bytes, dict]:
    if ignored:
        collection["ignored_filters"] = ignored
    return orjson.dumps(collection), {"features": len(collection["features"])}


@bp.get("/map")
@login_required
def index():
    """Show the map page: filters, the map, its counts and the parks still without a position."""
    form, filters, ignored = _filters()
    parks, unplaced_parks = queries.park_map_data(filters)
    misplaced = parks_outside_county()
    misplaced_parks = list({f["properties"]["id"]: f["properties"] for f in parks["features"]
                            if f["properties"]["id"] in misplaced}.values())
    return render_template("maps/index.html", form=form, ignored=ignored, args=_filter_args(form),
                           park_count=len({f["properties"]["id"] for f in parks["features"]}),
                           project_count=queries.project_count(current_user, filters, clock.today()),
                           unplaced_parks=unplaced_parks, misplaced_parks=misplaced_parks)


@bp.get("/map/frame")
@login_required
def frame():
    """Render the Leaflet map itself (shown in the map page's frame)."""
    def build(today):
        _form, filters, _ignored = _filters()
        page, script_hashes = folium_map.render_frame(_build(filters, today, links=True))
        return page, {"script_hashes": script_hashes}

    config = current_app.config
    response, details = _cached(build, "text/html", config["MAP_TILES"], config["MAP_TILES_URL"],
                                config["TIANDITU_TOKEN"])
    if details is not None:
        security.allow_script_hashes(details["script_hashes"])
    return response


@bp.get("/map/export")
@login_required
def export():
    """Download the filtered map as one HTML file that opens with no network."""
    _form, filters, _ignored = _filters()
    page = folium_map.render_standalone(_build(filters, clock.today(), links=False))
    logs.event("map_exported", query=request.query_string.decode(errors="replace"))
    name = f"sanming-map-{clock.today():%Y%m%d}.html"
    return current_app.response_class(page, mimetype="text/html",
                                      headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/api/v1/parks.geojson")
@login_required
def parks_geojson():
    """Return the parks (filtered by industry and county) as GeoJSON; unplaced parks are left out."""
    def build(_today):
        _form, filters, ignored = _filters()
        return _geojson_body(queries.park_map_data(filters)[0], ignored)

    response, details = _cached(build, GEOJSON_MIMETYPE)
    if details is not None:
        logs.event("geojson_downloaded", layer="parks", features=details["features"])
    return response


@bp.get("/api/v1/projects.geojson")
@login_required
def projects_geojson():
    """Return the user's filtered projects as GeoJSON points (WGS-84, at their park or county seat)."""
    def build(today):
        _form, filters, ignored = _filters()
        points, unplaced = queries.project_points(current_user, filters, today)
        collection = queries.add_photo_urls(queries.project_collection(points, unplaced), queries.latest_photos(points))
        return _geojson_body(collection, ignored)

    response, details = _cached(build, GEOJSON_MIMETYPE)
    if details is not None:
        logs.event("geojson_downloaded", layer="projects", features=details["features"])
    return response


@bp.get("/api/v1/counties.geojson")
@login_required
def counties_geojson():
    """Return the current counties' outlines (WGS-84) with the figures of the user's filtered signed projects in
    each: signed, total_investment (万元), start_rate (开工率), production_rate (投产率)."""
    def build(today):
        _form, filters, ignored = _filters()
        return _geojson_body(summaries.county_collection(current_user, filters, today), ignored)

    response, details = _cached(build, GEOJSON_MIMETYPE)
    if details is not None:
        logs.event("geojson_downloaded", layer="counties", features=details["features"])
    return response


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    """Serve a map asset (Leaflet) from its installed package, so the map needs no internet."""
    if package not in folium_map.VENDOR_DIRS:
        abort(404)
    return send_from_directory(folium_map.VENDOR_DIRS[package], filename, max_age=86400)
