"""Home views room: each role's to-do page, the first page after login."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from core import clock
from core.auth.models import Role

from .. import queries, services

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """Show what needs the user's attention today, by role."""
    today, now = clock.today(), clock.now()
    month = services.month_start(today)
    role = current_user.role
    context = {"today": today, "month": month, "role": role}
    clocks = queries.LeadClocks.from_config(current_app.config)
    if role in (Role.COMMERCE, Role.ADMIN):
        owner = current_user.id if role is Role.COMMERCE else None
        context["overdue_leads"] = queries.leads_with_flags(current_user, clocks, now, today, overdue_only=True,
                                                            owner_id=owner, limit=50)
        context["follow_ups_due"] = queries.follow_ups_due(current_user, today, owner_id=owner)
    if role in (Role.COUNTY, Role.ADMIN):
        context["missing_reports"], context["missing_count"] = queries.missing_reports(current_user, month)
        context["lit_projects"] = queries.lit_projects(current_user, today)
        context["blockers"] = queries.open_blockers(current_user)
    if role is Role.COUNTY:
        context["overdue_leads"] = queries.leads_with_flags(current_user, clocks, now, today, overdue_only=True,
                                                            limit=50)
    if role is Role.LEADER:
        context["hooked"] = queries.lit_projects(current_user, today, lights=(), leader_id=current_user.id, limit=200)
        context["blockers"] = queries.open_blockers(current_user, leader_id=current_user.id)
    if role is Role.ADMIN:
        context["board"] = queries.completeness_by_county(month)
    return render_template("home/index.html", **context)
