"""The park pages: the park list, a park's page, and the administrators' position and boundary edits."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from core.auth.models import Role
from core.auth.permissions import admin_required
from core.transaction import FLASH, transaction

from . import queries, services
from .forms import BoundaryForm, PositionForm
from .models import PositionConfidence

bp = Blueprint("parks", __name__, url_prefix="/parks")


def init_app(app):
    app.register_blueprint(bp)


@bp.get("/")
@login_required
def index():
    """List parks grouped by industry cluster and zone."""
    return render_template("parks/index.html", groups=queries.parks_by_industry(),
                           enterprise_counts=queries.enterprise_counts(),
                           confirmed=PositionConfidence.CONFIRMED)


@bp.get("/<int:park_id>")
@login_required
def detail(park_id: int):
    """Show one park: county, industry, chains, anchor firms and its position."""
    park = queries.park_detail(park_id)
    return _render_detail(park)


def _render_detail(park, position_form=None, boundary_form=None, status=200):
    if current_user.role is Role.ADMIN:
        position_form = position_form or PositionForm(lat=park.lat, lon=park.lon)
        boundary_form = boundary_form or BoundaryForm()
    # Later domains (projects) add panels here without parks importing them.
    panels = [panel(park) for panel in current_app.extensions.get("park_panels", [])]
    return render_template("parks/detail.html", park=park, position_form=position_form,
                           boundary_form=boundary_form, panels=panels), status


@bp.post("/<int:park_id>/position")
@admin_required
def set_position(park_id: int):
    """Correct a park's position (WGS-84)."""
    park = queries.park_detail(park_id)
    form = PositionForm()
    if form.validate_on_submit():
        with transaction(errors_to=FLASH) as tx:
            services.set_position(park, float(form.lat.data), float(form.lon.data),
                                  note=form.note.data or "", by=current_user)
        if tx.ok:
            flash("已保存园区位置。", "success")
            return redirect(url_for("parks.detail", park_id=park.id))
    return _render_detail(park, position_form=form, status=400)


@bp.post("/<int:park_id>/boundary")
@admin_required
def upload_boundary(park_id: int):
    """Store an uploaded GeoJSON boundary after checking it."""
    park = queries.park_detail(park_id)
    form = BoundaryForm()
    if form.validate_on_submit():
        limit = current_app.config["GEOJSON_MAX_BYTES"]
        # Read one byte past the limit: enough to know it is too big without holding more.
        raw = form.file.data.stream.read(limit + 1)
        with transaction(errors_to=FLASH) as tx:
            count = services.set_boundary(park, raw, by=current_user)
        if tx.ok:
            flash(f"已保存园区边界（{count} 个多边形）。", "success")
            return redirect(url_for("parks.detail", park_id=park.id))
    return _render_detail(park, boundary_form=form, status=400)
