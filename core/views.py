"""The health check: does the app answer, and its database."""
from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.db import db
from core.transaction import transaction

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    """Report whether the app and its database answer."""
    try:
        with transaction():
            db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.warning("health check: database unreachable")
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
