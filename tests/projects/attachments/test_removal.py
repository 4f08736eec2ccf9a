"""History: every upload and removal is in the project's timeline; removal is for admins, or the uploader within 24 h."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import clock
from core.auth.models import Role
from core.db import db
from projects.models import EventKind, ProjectEvent
from tests.factories import make_project, make_user
from tests.projects.web import new_client, page_text

from . import files
from .helpers import fetch, files_on_disk, stored_rows, upload


@pytest.fixture(autouse=True)
def _empty_folder(app):
    for path in files_on_disk():
        path.unlink()


def remove(client, row, reason="拍错了项目"):
    return client.post(f"/projects/{row.project_id}/attachments/{row.id}/remove", data={"reason": reason})


def timeline(project_id: int) -> list[tuple[str, str | None, str | None, str]]:
    db.session.rollback()
    return [(e.label, e.old_value, e.new_value, e.note) for e in db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project_id, ProjectEvent.kind == EventKind.ATTACHMENT)
        .order_by(ProjectEvent.id))]


def test_upload_and_removal_are_in_the_timeline(app, project_ref):
    project = make_project()
    uploader = make_user(Role.COUNTY, county="350404")
    client = new_client(app, uploader)
    upload(client, project.id, (files.photo(), "现场.jpg"), (files.pdf(), "批复.pdf"))
    photo, document = stored_rows()
    assert remove(client, photo, reason="").status_code == 400
    assert remove(client, photo).status_code == 302
    assert timeline(project.id) == [("上传照片", None, "现场.jpg（项目）", ""), ("上传文件", None, "批复.pdf（项目）", ""),
                                    ("删除照片", "现场.jpg（项目）", None, "拍错了项目")]
    text = page_text(client.get(f"/projects/{project.id}"))
    assert "删除照片" in text and "拍错了项目" in text
    assert fetch(client, f"/attachments/{photo.id}").status_code == 404  # no longer served
    assert [p for p in files_on_disk() if p.name.startswith(photo.sha256)], "the evidence stays on disk"


def test_the_uploader_may_remove_only_within_24_hours(app, project_ref, freeze):
    project = make_project()
    uploader = make_user(Role.COMMERCE)
    freeze(dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC))
    client = new_client(app, uploader)
    upload(client, project.id, (files.photo(color=(7, 7, 7)), "a.jpg"), (files.photo(color=(8, 8, 8)), "b.jpg"))
    first, second = stored_rows()
    freeze(dt.datetime(2026, 6, 2, 1, 59, tzinfo=dt.UTC))
    assert remove(client, first).status_code == 302
    freeze(dt.datetime(2026, 6, 2, 2, 1, tzinfo=dt.UTC))
    assert remove(client, second).status_code == 403
    # An administrator may, at any time; another editor never.
    assert remove(new_client(app, make_user(Role.COMMERCE)), second).status_code == 403
    assert remove(new_client(app, make_user(Role.ADMIN)), second, reason="重复").status_code == 302
    assert [row.removal_reason for row in stored_rows()] == ["拍错了项目", "重复"]
    assert all(row.removed_at <= clock.now() for row in stored_rows())


def test_leaders_and_other_counties_cannot_remove(app, project_ref):
    project = make_project(county_code="350481")
    client = new_client(app, make_user(Role.COMMERCE))
    upload(client, project.id, (files.photo(), "a.jpg"))
    [row] = stored_rows()
    assert remove(new_client(app, make_user(Role.LEADER)), row).status_code == 403
    assert remove(new_client(app, make_user(Role.COUNTY, county="350404")), row).status_code == 404
    assert stored_rows()[0].removed_at is None
