"""Shared view helpers room: role guards, form error placement and the version-field check."""
from __future__ import annotations

from flask import abort, flash, request

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
