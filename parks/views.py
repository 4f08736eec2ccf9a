"""The park pages: the park list, a park's page, and the administrators' edits: a park's facts, retiring it, its
position and boundary."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core import clock
from core.auth.forms import ConfirmForm
from core.auth.models import Role
from core.auth.permissions import admin_required
from core.auth.queries import current_counties
from core.errors import NotAllowed
from core.transaction import FLASH, transaction

from . import editing, queries, services
from .forms import BoundaryForm, CapacityForm, ParkForm, PositionForm
from .history import history
from .models import CapacityMeasure, PositionConfidence

bp = Blueprint("parks", __name__, url_prefix="/parks")


def init_app(app):
    app.register_blueprint(bp)


@bp.get("/")
@login_required
def index():
    """List parks grouped by industry cluster and zone."""
    return render_template("parks/index.html", groups=queries.parks_by_industry(),
                           retired=queries.retired_parks(), enterprise_counts=queries.enterprise_counts(),
                           confirmed=PositionConfidence.CONFIRMED)


@bp.get("/<int:park_id>")
@login_required
def detail(park_id: int):
    """Show one park: county, industry, chains, anchor firms and its position."""
    park = queries.park_detail(park_id)
    return _render_detail(park)


def _render_detail(park, position_form=None, boundary_form=None, capacity_form=None, status=200):
    if current_user.role is Role.ADMIN:
        position_form = position_form or PositionForm(lat=park.lat, lon=park.lon)
        boundary_form = boundary_form or BoundaryForm()
    if services.may_confirm_capacity(current_user, park):
        capacity_form = capacity_form or CapacityForm(formdata=None, confirmed_on=clock.today())
    # Later domains (projects) add panels here without parks importing them.
    panels = [panel(park) for panel in current_app.extensions.get("park_panels", [])]
    outside = queries.outside_county(park.lat, park.lon, park.county.outline_geojson)
    return render_template("parks/detail.html", park=park, position_form=position_form, outside_county=outside,
                           boundary_form=boundary_form, panels=panels,
                           history=history("park", park.id, every_county=current_user.role is not Role.COUNTY),
                           capacity=queries.capacity_of(park.id), capacity_history=queries.capacity_history(park.id),
                           capacity_form=capacity_form, today=clock.today(), stale_days=queries.CAPACITY_STALE_DAYS,
                           measures=list(CapacityMeasure),
                           confirm=ConfirmForm() if current_user.role is Role.ADMIN else None), status


def _park_form(park=None) -> ParkForm:
    form = ParkForm(obj=park) if request.method == "GET" else ParkForm()
    form.set_choices(counties=current_counties(), zones=queries.zones(keep=park.zone_id if park else None),
                     industries=queries.industries())
    return form


def _save(form: ParkForm, park):
    """Save the park form; a county move that leaves projects behind shows them for confirmation (nothing saved)."""
    unconfirmed = None
    if request.method == "POST" and form.validate():
        with transaction(errors_to=form) as tx:
            saved = editing.save_park(park, form.park_data(), by=current_user, confirmed=form.confirm_move.data or "")
        if tx.ok:
            flash(f"已保存园区“{saved.name}”。", "success")
            return redirect(url_for("parks.detail", park_id=saved.id))
        if isinstance(tx.error, editing.CountyMoveUnconfirmed):
            unconfirmed = tx.error
            form.confirm_move.data = unconfirmed.token
    status = 400 if request.method == "POST" else 200
    return render_template("parks/form.html", form=form, park=park, unconfirmed=unconfirmed,
                           history=history("park", park.id) if park else []), status


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Add a park (it starts at its county seat's position, to be confirmed)."""
    return _save(_park_form(), None)


@bp.route("/<int:park_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(park_id: int):
    """Edit a park's name, county, zone, industry, kind and description."""
    park = queries.park_detail(park_id)
    return _save(_park_form(park), park)


@bp.post("/<int:park_id>/retire")
@admin_required
def retire(park_id: int):
    """Retire a park: gone from every choice, still shown on its projects and resolved by old ledgers."""
    return _retire_or_restore(park_id, editing.retire, "已撤销园区“{}”。")


@bp.post("/<int:park_id>/restore")
@admin_required
def restore(park_id: int):
    """Bring a retired park back into the choices."""
    return _retire_or_restore(park_id, editing.restore, "已恢复园区“{}”。")


def _retire_or_restore(park_id: int, action, message: str):
    park = queries.park_detail(park_id)
    if not ConfirmForm().validate_on_submit():
        flash("表单已过期，请重试。", "warning")
        return redirect(url_for("parks.detail", park_id=park.id))
    with transaction(errors_to=FLASH) as tx:
        action(park, by=current_user)
    if tx.ok:
        flash(message.format(park.name), "success")
    return redirect(url_for("parks.detail", park_id=park.id))


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


@bp.post("/<int:park_id>/capacity")
@login_required
def confirm_capacity(park_id: int):
    """Record the park's planned and developed area, free land and factory space as confirmed today (or then)."""
    park = queries.park_detail(park_id)
    if not services.may_confirm_capacity(current_user, park):
        raise NotAllowed("只有管理员和园区所在县区的账号可以更新园区容量，本次未保存。")
    form = CapacityForm()
    if form.validate():
        with transaction(errors_to=form) as tx:
            services.confirm_capacity(park, form.values(), confirmed_on=form.confirmed_on.data, by=current_user,
                                      note=form.note.data or "")
        if tx.ok:
            flash("已保存园区容量核实结果。", "success")
            return redirect(url_for("parks.detail", park_id=park.id, _anchor="capacity"))
    return _render_detail(park, capacity_form=form, status=400)
