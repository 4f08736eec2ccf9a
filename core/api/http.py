"""What every API resource does alike: ETag from the version, If-Match before a change, and the list's page."""
from __future__ import annotations

import re

from flask import Response, current_app
from sqlalchemy import Select, func, select
from werkzeug.exceptions import HTTPException

from core.db import db

_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,10})"\s*$')


# The header every change to a versioned record documents (and if_match reads).
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "上次读取时的 ETag（版本号）；缺少时 428，过期时 412"}


def etag(version: int) -> str:
    return f'"{version}"'


def with_etag(body: dict, version: int, status: int = 200) -> Response:
    """``body`` as JSON, with the record's version as its ETag (what the next change sends in If-Match)."""
    response = current_app.json.response(body)
    response.status_code = status
    response.headers["ETag"] = etag(version)
    return response


def created(body: dict, version: int, location: str) -> Response:
    """201 for a new record: its body, its ETag and where it now lives."""
    response = with_etag(body, version, 201)
    response.headers["Location"] = location
    return response


class PreconditionRequired(HTTPException):
    code = 428
    description = "修改须带 If-Match 请求头（取自上次读取时的 ETag），以免覆盖他人的修改。"


class PreconditionFailed(HTTPException):
    """The record changed since the caller read it: 412, with the record as it is now."""

    code = 412
    description = "该记录已被他人修改：请求未执行。响应中的 current 为最新内容，请据此重新提交。"

    def __init__(self, current: dict, version: int):
        super().__init__()
        self.problem_extra = {"current": current}  # core.errors puts it in the problem's body
        self.version = version

    def get_headers(self, environ=None, scope=None):
        return [("ETag", etag(self.version))]


def if_match(request) -> int:
    """The version named by If-Match; 428 when there is none, 412-worthy garbage reads as version 0."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        raise PreconditionRequired()
    found = _ETAG.match(header)
    return int(found.group(1)) if found else 0


def page_of(statement: Select, page: int, per_page: int, dump, *, whole_rows: bool = False) -> Response:
    """One page of ``statement``'s rows as ``{"items", "total", "page", "per_page"}`` (written here, so the
    documented schema is not dumped twice). ``dump`` gets each row's entity, or with ``whole_rows`` the whole row
    (an entity with columns computed beside it)."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    paged = statement.limit(per_page).offset((page - 1) * per_page)
    rows = db.session.execute(paged).all() if whole_rows else db.session.scalars(paged).unique().all()
    return current_app.json.response(
        {"items": [dump(row) for row in rows], "total": total, "page": page, "per_page": per_page})


def versioned_change(load, change, dump, *, status: int = 200) -> Response:
    """Apply ``change(record, version)`` in one transaction, the version taken from If-Match, and answer with the
    record as saved. A stale version is 412 with the record as it is now; never a silent overwrite."""
    from flask import request

    from core.errors import Conflict
    from core.transaction import transaction

    version = if_match(request)
    try:
        with transaction():
            change(load(), version)
    except Conflict:
        record = load()
        raise PreconditionFailed(dump(record), record.version) from None
    record = load()
    return with_etag(dump(record), record.version, status)
