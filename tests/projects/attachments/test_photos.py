"""Photos: EXIF read into the database and stripped from every served copy, thumbnails, the quick checks, the page."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from parks.models import Park
from projects.services import add_milestone, update_milestone
from tests.factories import make_project, make_user
from tests.projects.web import new_client, page_text

from . import files
from .helpers import fetch, files_on_disk, stored_rows, upload

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def _empty_folder(app):
    for path in files_on_disk():
        path.unlink()


def park_in(county: str = "350404") -> Park:
    return db.session.scalar(select(Park).where(Park.county_code == county).order_by(Park.id))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_is_read_then_stripped_from_every_served_copy(app, project_ref, fmt):
    park = park_in()
    project = make_project(park_id=park.id)
    client = new_client(app, make_user(Role.COMMERCE))
    original = files.photo(fmt, size=(64, 48), gps=(26.2689, 117.6301), taken="2026:03:01 10:30:00", orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD), "the test photo must carry GPS"
    assert upload(client, project.id, (original, "现场.jpg")).status_code == 302
    [row] = stored_rows()
    assert (float(row.latitude), float(row.longitude)) == pytest.approx((26.2689, 117.6301), abs=1e-4)
    assert row.taken_at == dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC)  # 10:30 China time
    for url, expected_type in ((f"/attachments/{row.id}", f"image/{fmt.lower()}"),
                               (f"/attachments/{row.id}/thumb", "image/jpeg")):
        response = fetch(client, url)
        served = response.get_data()
        assert response.status_code == 200 and response.mimetype == expected_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("inline")
        image = Image.open(io.BytesIO(served))
        assert not image.getexif(), f"{url} still carries EXIF"
        assert not any(marker in served for marker in (b"Exif", b"EXIF", b"eXIf", b"GPS"))
        assert served != original
        # Orientation 6 (rotate 90°) applied: the landscape original is served upright, portrait.
        assert image.width < image.height
    thumb = Image.open(io.BytesIO(fetch(client, f"/attachments/{row.id}/thumb").get_data()))
    assert max(thumb.size) <= 320


def test_thumbnails_are_made_once_at_upload(app, project_ref):
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    upload(client, project.id, (files.photo(size=(1200, 900)), "大图.jpg"))
    [row] = stored_rows()
    thumbs = [p for p in files_on_disk() if p.name.endswith(".thumb")]
    assert [p.name for p in thumbs] == [f"{row.sha256}.thumb"]
    before = thumbs[0].stat().st_mtime_ns
    for _ in range(2):
        fetch(client, f"/attachments/{row.id}/thumb")
    assert thumbs[0].stat().st_mtime_ns == before
    with Image.open(thumbs[0]) as thumb:
        assert thumb.size == (320, 240)


def test_documents_download_as_attachments_with_their_real_type(app, project_ref):
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    upload(client, project.id, (files.pdf(), "施工许可证.jpg"), (files.docx(), "合同"))
    pdf_row, docx_row = stored_rows()
    response = fetch(client, f"/attachments/{pdf_row.id}")
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and ".pdf" in disposition and ".jpg" not in disposition
    assert response.get_data() == files.pdf()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert fetch(client, f"/attachments/{docx_row.id}").headers["Content-Disposition"].startswith("attachment")
    assert fetch(client, f"/attachments/{pdf_row.id}/thumb").status_code == 404  # documents have none


def test_a_photo_far_from_the_project_is_marked(app, project_ref):
    park = park_in()
    project = make_project(park_id=park.id)
    client = new_client(app, make_user(Role.COMMERCE))
    upload(client, project.id, (files.photo(gps=(park.lat, park.lon), color=(1, 1, 1)), "近.jpg"),
           (files.photo(gps=(park.lat + 0.2, park.lon), color=(2, 2, 2)), "远.jpg"))
    text = page_text(client.get(f"/projects/{project.id}"))
    assert text.count("拍摄位置与项目位置相距") == 1
    assert "拍摄位置与项目位置相距 22 km" in text  # 0.2° of latitude is about 22 km


def test_a_photo_older_than_its_milestone_is_marked(app, project_ref):
    commerce = make_user(Role.COMMERCE)
    project = make_project(by=commerce)
    milestone = add_milestone(project, name="主体封顶", planned_date=dt.date(2026, 5, 1), version=project.version,
                              by=commerce)
    client = new_client(app, commerce)
    target = f"milestone:{milestone.id}"
    upload(client, project.id, (files.photo(taken="2025:11:20 09:00:00", color=(3, 3, 3)), "旧.jpg"), target=target)
    assert "早于节点" not in page_text(client.get(f"/projects/{project.id}")), "not done yet: progress photos are normal"
    db.session.rollback()
    project = db.session.get(type(project), project.id)
    milestone = project.milestones[0]
    update_milestone(project, milestone, planned_date=dt.date(2026, 5, 1), actual_date=dt.date(2026, 6, 1),
                     version=project.version, by=commerce)
    db.session.commit()
    upload(client, project.id, (files.photo(taken="2026:06:02 09:00:00", color=(4, 4, 4)), "新.jpg"), target=target)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    text = page_text(page)
    assert "拍摄于 2025-11-20，早于节点“主体封顶”的完成日期 2026-06-01" in text
    assert text.count("早于节点") == 1
    # The milestone shows its own photos under it.
    old, new = stored_rows()
    assert page.count(f"/attachments/{old.id}/thumb") == 2  # in the gallery and under the milestone


def test_the_gallery_is_by_day_newest_first(app, project_ref):
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    upload(client, project.id, (files.photo(taken="2026:01:05 08:00:00", color=(5, 5, 5)), "一月.jpg"),
           (files.photo(taken="2026:02:07 23:30:00", color=(6, 6, 6)), "二月.jpg"))
    text = page_text(client.get(f"/projects/{project.id}"))
    assert text.index("2026-02-07") < text.index("2026-01-05")


def test_approval_items_show_their_own_files(app, project_ref):
    commerce = make_user(Role.COMMERCE)
    project = make_project(by=commerce)
    permit = next(a for a in project.approvals if a.type.name == "施工许可")
    client = new_client(app, commerce)
    upload(client, project.id, (files.pdf(), "施工许可证.pdf"), target=f"approval_item:{permit.id}")
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "前期手续“施工许可”" in page_text(page)
    [row] = stored_rows()
    assert page.count(f"/attachments/{row.id}\"") == 2  # the document list and under the approval item
