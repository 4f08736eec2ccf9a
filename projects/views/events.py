"""Signing-event views room: the event list, an event's projects and its cohort figures, and upkeep."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.auth.queries import current_counties
from core.db import db

from .. import queries, services
from ..forms import SigningEventForm
from ..models import Project, SigningEvent
from .common import apply_errors, commerce_only

bp = Blueprint("events", __name__, url_prefix="/events")


@bp.get("/")
@login_required
def index():
    """List signing events with how many of the user's visible projects each signed."""
    counts = dict(db.session.execute(
        queries.visible_projects(current_user).where(Project.signing_event_id.is_not(None))
        .with_only_columns(Project.signing_event_id, func.count()).group_by(Project.signing_event_id)).all())
    events = db.session.scalars(select(SigningEvent).order_by(SigningEvent.date.desc())
                                .options(selectinload(SigningEvent.county))).all()
    return render_template("events/index.html", events=events, counts=counts)


@bp.get("/<int:event_id>")
@login_required
def detail(event_id: int):
    """Show an event's projects with their stages, and the cohort's conversion figures."""
    event = db.get_or_404(SigningEvent, event_id)
    projects = db.session.scalars(
        queries.visible_projects(current_user).where(Project.signing_event_id == event.id)
        .order_by(Project.total_investment.desc()).options(selectinload(Project.county))).all()
    return render_template("events/detail.html", event=event, projects=projects,
                           figures=queries.cohort_figures(current_user, event.id))


def _form(event=None) -> SigningEventForm:
    form = SigningEventForm(obj=event)
    form.county_code.set_choices((c.code, c.name) for c in current_counties())
    return form


@bp.route("/new", methods=["GET", "POST"])
@commerce_only
def new():
    """Create a signing event."""
    return _save(None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@commerce_only
def edit(event_id: int):
    """Correct a signing event."""
    return _save(db.get_or_404(SigningEvent, event_id))


def _save(event):
    form = _form(event)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            saved = services.save_signing_event(event, name=form.name.data, date=form.date.data, place=form.place.data,
                                                organiser=form.organiser.data, county_code=form.county_code.data,
                                                notes=form.notes.data, by=current_user)
        except services.ProjectInvalid as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"已保存签约活动“{saved.name}”。", "success")
            return redirect(url_for("events.detail", event_id=saved.id))
    return render_template("events/form.html", form=form, event=event), status
