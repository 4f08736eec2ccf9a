"""Uploads: who may add files where, each bad file refused precisely with nothing stored, limits and the quota."""
from __future__ import annotations

import pytest

from core.auth.models import Role
from projects.attachments import services
from projects.attachments.models import FileKind
from tests.conftest import csrf_token_from
from tests.factories import make_project, make_user
from tests.projects.web import new_client, page_text

from . import files
from .helpers import fetch, files_on_disk, row_count, stored_rows, upload

OWN, OTHER = "350404", "350481"


@pytest.fixture(autouse=True)
def _empty_folder(app):
    """Each test starts with no stored file (the folder is the session's)."""
    for path in files_on_disk():
        path.unlink()


@pytest.mark.parametrize("role", [Role.COMMERCE, Role.ADMIN, Role.COUNTY])
def test_editors_upload_to_their_projects(app, project_ref, role):
    project = make_project(county_code=OWN)
    client = new_client(app, make_user(role, county=OWN if role is Role.COUNTY else None))
    response = upload(client, project.id, (files.photo(), "现场.jpg"), (files.pdf(), "批复.pdf"))
    assert response.status_code == 302
    rows = stored_rows()
    assert [(r.kind, r.file_format, r.filename) for r in rows] == [
        (FileKind.PHOTO, "jpeg", "现场.jpg"), (FileKind.DOCUMENT, "pdf", "批复.pdf")]
    assert "已上传 2 个文件" in page_text(client.get(f"/projects/{project.id}"))


def test_county_official_cannot_upload_to_or_see_another_countys_files(app, project_ref):
    commerce = make_user(Role.COMMERCE)
    other = make_project(county_code=OTHER)
    upload(new_client(app, commerce), other.id, (files.photo(), "a.jpg"))
    [row] = stored_rows()
    county = new_client(app, make_user(Role.COUNTY, county=OWN))
    assert upload(county, other.id, (files.photo(color=(1, 2, 3)), "b.jpg")).status_code == 404
    assert row_count() == 1
    assert fetch(county, f"/attachments/{row.id}").status_code == 404
    assert fetch(county, f"/attachments/{row.id}/thumb").status_code == 404
    # The other county's own official sees it.
    assert fetch(new_client(app, make_user(Role.COUNTY, county=OTHER)), f"/attachments/{row.id}").status_code == 200


def test_leaders_read_but_never_upload(app, project_ref):
    project = make_project()
    upload(new_client(app, make_user(Role.COMMERCE)), project.id, (files.photo(), "a.jpg"))
    [row] = stored_rows()
    leader = new_client(app, make_user(Role.LEADER))
    assert upload(leader, project.id, (files.photo(color=(9, 9, 9)), "b.jpg")).status_code == 403
    assert row_count() == 1
    assert fetch(leader, f"/attachments/{row.id}").status_code == 200
    assert "现场照片与佐证材料" in page_text(leader.get(f"/projects/{project.id}"))


def test_every_accepted_format_is_judged_by_content_not_name(app, project_ref):
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    given = [(files.photo("PNG"), "x.pdf"), (files.photo("WEBP"), "y.doc"), (files.docx(), "合同.jpg"),
             (files.xlsx(), "表.docx"), (files.xls(), "旧表"), (files.doc(), "旧合同.xls"), (files.pdf(), "批复")]
    assert upload(client, project.id, *given).status_code == 302
    assert [r.file_format for r in stored_rows()] == ["png", "webp", "docx", "xlsx", "xls", "doc", "pdf"]


BAD_FILES = {
    "php named .jpg": (files.PHP, "shell.jpg", "网页或脚本"),
    "html named .jpg": (files.HTML, "page.jpg", "网页或脚本"),
    "svg with a script": (files.SVG, "logo.svg", "SVG 矢量图可能含有脚本"),
    "jpeg/zip polyglot": (files.polyglot(), "photo.jpg", "既是图片又是压缩包"),
    "decompression bomb": (files.bomb_png(), "bomb.png", "疑似“解压炸弹”"),
    "zero bytes": (b"", "empty.jpg", "文件是空的（0 字节）"),
    "truncated jpeg": (files.truncated_jpeg(), "half.jpg", "图片不完整（文件被截断）"),
    "plain zip": (files.plain_zip(), "a.docx", "普通压缩包"),
    "pdf without its end": (files.pdf()[:-7], "cut.pdf", "缺少文件结束标记"),
    "broken OLE container": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧合同.doc", "OLE 容器"),
    "powerpoint": (files.pptx(), "汇报.docx", "不是 Word（.docx）或 Excel（.xlsx）"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_refused_precisely_and_nothing_is_stored(app, project_ref, name):
    content, filename, message = BAD_FILES[name]
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    # With a good file beside it: all or nothing, so the good one is not kept either.
    response = upload(client, project.id, (files.photo(), "good.jpg"), (content, filename))
    assert response.status_code == 400
    text = page_text(response)
    assert f"“{filename}”" in text and message in text and "未保存任何文件" in text
    assert row_count() == 0
    assert files_on_disk() == [], "a refused upload left a file behind"


def test_bad_file_through_the_phone_uploader_gets_json(app, project_ref):
    project = make_project()
    response = upload(new_client(app, make_user(Role.COMMERCE)), project.id, (files.PHP, "a.jpg"), json=True)
    assert response.status_code == 400
    assert response.json["ok"] is False and "网页或脚本" in response.json["errors"][0]
    assert row_count() == 0 and files_on_disk() == []


def test_size_limits_per_photo_and_per_document(app, project_ref, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_PHOTO_MAX_MB", 1)
    monkeypatch.setitem(app.config, "ATTACHMENT_DOCUMENT_MAX_MB", 2)
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    big_photo = files.photo("PNG", size=(700, 700), noise=True)
    assert len(big_photo) > 1024 * 1024
    response = upload(client, project.id, (big_photo, "大照片.png"))
    assert response.status_code == 400 and "照片不能超过 1 MB" in page_text(response)
    response = upload(client, project.id, (files.pdf(pad=2 * 1024 * 1024 + 10), "大文件.pdf"))
    assert response.status_code == 400 and "文件过大（2.0 MB）" in page_text(response)
    # A PDF the size of the photo is fine: the document limit applies to it.
    assert upload(client, project.id, (files.pdf(pad=1536 * 1024), "扫描件.pdf")).status_code == 302
    assert [r.filename for r in stored_rows()] == ["扫描件.pdf"]


def test_a_request_past_the_limit_gets_a_precise_message(app, project_ref, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_DOCUMENT_MAX_MB", 1)
    project = make_project()
    response = upload(new_client(app, make_user(Role.COMMERCE)), project.id, (files.pdf(pad=3 * 1024 * 1024), "x.pdf"))
    assert response.status_code == 400
    assert "合计不能超过 1 MB" in page_text(response)
    assert row_count() == 0 and files_on_disk() == []


def test_the_per_project_quota(app, project_ref, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_PROJECT_QUOTA_MB", 1)
    project, other = make_project(), make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    assert upload(client, project.id, (files.pdf(pad=700 * 1024), "一.pdf")).status_code == 302
    response = upload(client, project.id, (files.pdf(pad=400 * 1024), "二.pdf"))
    assert response.status_code == 400 and "超过本项目附件总量上限 1 MB" in page_text(response)
    assert upload(client, other.id, (files.pdf(pad=400 * 1024), "二.pdf")).status_code == 302  # per project
    assert [r.filename for r in stored_rows()] == ["一.pdf", "二.pdf"]


def test_the_same_file_is_stored_once(app, project_ref):
    project, other = make_project(), make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    content = files.photo()
    upload(client, project.id, (content, "a.jpg"))
    response = upload(client, project.id, (content, "again.jpg"))
    assert response.status_code == 400 and "无需重复上传" in page_text(response)
    assert upload(client, other.id, (content, "b.jpg")).status_code == 302
    rows = stored_rows()
    assert len(rows) == 2 and rows[0].sha256 == rows[1].sha256
    assert len([p for p in files_on_disk() if p.name.endswith(".original")]) == 1


def test_the_browser_name_is_only_a_label(app, project_ref):
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    upload(client, project.id, (files.pdf(), "../../etc/批复.pdf"))
    [row] = stored_rows()
    assert row.filename == "批复.pdf"
    assert all(p.name.startswith(row.sha256) for p in files_on_disk())
    assert services.label_of("C:\\Users\\张\\合同.docx") == "合同.docx"
    assert services.label_of("\x00") == services.label_of("") == "未命名文件"


def test_an_item_of_another_project_is_no_target(app, project_ref):
    commerce = make_user(Role.COMMERCE)
    project, other = make_project(by=commerce), make_project(by=commerce)
    foreign_item = other.approvals[0].id
    response = upload(new_client(app, commerce), project.id, (files.photo(), "a.jpg"),
                      target=f"approval_item:{foreign_item}")
    assert response.status_code == 400  # not one of the form's choices
    assert row_count() == 0 and files_on_disk() == []


def test_uploads_need_the_pages_csrf_token(app, project_ref, csrf_on):
    project = make_project()
    client = new_client(app, make_user(Role.COMMERCE))
    assert upload(client, project.id, (files.photo(), "a.jpg")).status_code == 400
    assert row_count() == 0 and files_on_disk() == []
    token = csrf_token_from(client.get(f"/projects/{project.id}").get_data(as_text=True))
    response = upload(client, project.id, (files.photo(), "a.jpg"), extra={"csrf_token": token})
    assert response.status_code == 302 and row_count() == 1
