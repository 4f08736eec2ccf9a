"""Posting files as the project page's form does, and reading what was stored."""
from __future__ import annotations

import io

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from core.db import db
from projects.attachments import storage
from projects.attachments.models import Attachment


def upload(client, project_id: int, *files: tuple[bytes, str], target: str = "project", json: bool = False,
           extra: dict | None = None):
    """POST files as the page's form does; the body is encoded in memory (the test client's own encoding spools
    a large body to a temporary file that a refused request leaves open)."""
    fields = MultiDict([("target", target), *(extra or {}).items()] + [("files", FileStorage(io.BytesIO(content), filename=name))
                                               for content, name in files])
    boundary, body = encode_multipart(fields)
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/projects/{project_id}/attachments", data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored_rows() -> list[Attachment]:
    db.session.rollback()
    return list(db.session.scalars(select(Attachment).order_by(Attachment.id)))


def row_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Attachment))


def files_on_disk() -> list:
    """Every file in the attachments folder."""
    root = storage.folder()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def fetch(client, url: str):
    """GET a served file, read it whole and close it (a streamed file holds its handle until closed)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response
