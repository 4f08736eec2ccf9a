"""The signing-event pages: the list, an event's projects with its cohort figures, and their upkeep."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from core.auth.queries import current_counties
from core.errors import Conflict
from core.transaction import transaction
from projects.queries import register_detail_load
from projects.views import commerce_only

from . import queries, services
from .forms import SigningEventForm

bp = Blueprint("events", __name__, url_prefix="/events")


def init_app(app) -> None:
    services.init_rules()
    app.register_blueprint(bp)
    register_detail_load("signing_event", joinedload)  # named on the project page


@bp.get("/")
@login_required
def index():
    """List signing events with how many of the user's visible projects each signed."""
    return render_template("events/index.html", events=queries.events_with_county(),
                           counts=queries.signed_counts(current_user))


@bp.get("/<int:event_id>")
@login_required
def detail(event_id: int):
    """Show an event's projects with their stages, and the cohort's conversion figures."""
    event = queries.event_or_404(event_id)
    return render_template("events/detail.html", event=event, projects=queries.event_projects(current_user, event.id),
                           figures=queries.cohort_figures(current_user, event.id))


@bp.route("/new", methods=["GET", "POST"])
@commerce_only
def new():
    """Create a signing event."""
    return _save(None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@commerce_only
def edit(event_id: int):
    """Correct a signing event."""
    return _save(queries.event_or_404(event_id))


def _save(event):
    form = SigningEventForm(obj=event)
    form.county_code.set_choices((c.code, c.name) for c in current_counties())
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        with transaction(errors_to=form) as tx:
            saved = services.save_signing_event(event, name=form.name.data, date=form.date.data, place=form.place.data,
                                                organiser=form.organiser.data, county_code=form.county_code.data,
                                                notes=form.notes.data, by=current_user, version=form.version.data)
        if tx.ok:
            flash(f"已保存签约活动“{saved.name}”。", "success")
            return redirect(url_for("events.detail", event_id=saved.id))
        if isinstance(tx.error, Conflict):
            flash(tx.error.message, "danger")
            status = 409
    return render_template("events/form.html", form=form, event=event), status
