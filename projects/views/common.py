"""Shared view helpers room: role guards, form error placement and the version-field check."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, request

from core import clock

from core.auth.models import Role
from core.auth.permissions import roles_required

editors_only = roles_required(Role.COMMERCE, Role.COUNTY, Role.ADMIN)
commerce_only = roles_required(Role.COMMERCE, Role.ADMIN)


def apply_errors(form, errors: dict[str, str]) -> None:
    """Put service errors under their fields; errors without a field become flashes."""
    for field, message in errors.items():
        if field and field in form._fields:
            form._fields[field].errors = list(form._fields[field].errors) + [message]
        else:
            flash(message, "danger")


def require_version_field() -> None:
    # A POST that lost its version cannot be checked against concurrent edits: refuse it outright.
    if "version" not in request.form:
        abort(400)


def parse_month(text: str | None) -> dt.date:
    """?month=YYYY-MM as the first of that month (default: this month); malformed or future is a 400."""
    this_month = clock.today().replace(day=1)
    if not text:
        return this_month
    try:
        month = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        abort(400)
    if month > this_month or month.year < 2000:
        abort(400)
    return month
