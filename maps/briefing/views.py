"""The monthly briefing download: the month from the query string, the workbook back as an .xlsx file."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from core import clock, logs
from core.auth.models import Role
from core.clock import parse_month

from . import queries

bp = Blueprint("briefing", __name__)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def init_app(app):
    app.register_blueprint(bp)


@bp.get("/reports/briefing")
@login_required
def index():
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
        content, mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quoted}"})
