"""Uploads: the size limit (configurable; a Chinese 413 page), files judged by content, client names never paths.

The park boundary's content checks (binary or invalid JSON refused, a valid file with any name accepted)
are in tests/parks/test_boundary.py; the workbook's hostile files (zip and XML bombs) in
tests/projects/ledgers/test_import.py, the other formats' in tests/core/test_spreadsheets.py."""
from __future__ import annotations

import io
import os
import zipfile

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core.auth.models import Role
from core.db import db
from parks.models import Park
from projects.ledgers import importer
from projects.ledgers.models import ImportBatch
from tests.conftest import RequestScopedClient
from tests.factories import make_user
from tests.projects.ledgers.files import ledger_bytes, row
from tests.projects.web import new_client, page_text

MB = 1024 * 1024
DEFAULT_LIMIT = 16 * MB


def post_file(client, url: str, content: bytes, filename: str):
    """POST one file as a browser does; the body is encoded in memory (see tests/parks/helpers.upload).

    The name travels as a quoted string in the part's header, where a backslash is escaped."""
    quoted = filename.replace("\\", "\\\\")
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), filename=quoted)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def staged_files(app) -> list[str]:
    return sorted(os.listdir(app.config["LEDGER_IMPORT_DIR"]))


@pytest.fixture
def upload_urls(project_ref):
    """The app's file uploads: the ledger (any editor) and a park's boundary (admins)."""
    park_id = db.session.scalar(select(Park.id).limit(1))
    return {"ledger": ("/ledgers/import", Role.COMMERCE), "boundary": (f"/parks/{park_id}/boundary", Role.ADMIN)}


@pytest.fixture
def clean_staging(app):
    """Each test sees only the staged ledgers it made itself."""
    folder = app.config["LEDGER_IMPORT_DIR"]
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    yield
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))


# ---- The size limit ----

@pytest.mark.parametrize("kind", ["ledger", "boundary"])
def test_upload_over_the_default_limit_gets_the_chinese_413_page(app, upload_urls, kind):
    url, role = upload_urls[kind]
    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULT_LIMIT
    response = post_file(new_client(app, make_user(role)), url, b"\0" * DEFAULT_LIMIT, "big.xlsx")
    assert response.status_code == 413
    page = page_text(response)
    assert "文件过大" in page and "上传的文件超过了允许的大小。" in page and "Traceback" not in page


def test_limit_is_set_from_the_environment(make_app, monkeypatch, database_url, upload_urls, tmp_path):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", str(64 * 1024))
    small = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
                      "LEDGER_IMPORT_DIR": str(tmp_path)})
    assert small.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    small.test_client_class = RequestScopedClient  # frees the test's SQLite lock before each request
    for url, role in upload_urls.values():
        client = new_client(small, make_user(role))
        response = post_file(client, url, b"\0" * (64 * 1024), "a.xlsx")
        assert response.status_code == 413, url
        assert "文件过大" in page_text(response)
    # Under the limit the upload reaches the view (and is refused there for what it holds).
    client = new_client(small, make_user(Role.COMMERCE))
    assert post_file(client, "/ledgers/import", b"\0" * 1024, "a.xlsx").status_code == 400


def test_limit_defaults_to_16_mb_without_the_environment(make_app, monkeypatch):
    monkeypatch.delenv("MAX_CONTENT_LENGTH", raising=False)
    assert make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["MAX_CONTENT_LENGTH"] \
        == DEFAULT_LIMIT


# ---- The ledger is judged by content ----

def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


DOCX = _zip({
    "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                           b'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                           b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
    "word/document.xml": b'<?xml version="1.0"?><document/>',
})
NOT_A_WORKBOOK = {
    "png-named-xlsx": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "台账.xlsx", "不是 Excel 工作簿（.xlsx、.xls），也不是 CSV"),
    "utf16-named-csv": ("项目名称,投资方\n甲项目,乙公司\n".encode("utf-16"), "台账.csv", "UTF-8 或 GB18030（GBK）"),
    "zip-named-xlsx": (_zip({"台账.xlsx": b"whatever"}), "台账.xlsx", "是一个压缩包"),
    "word-named-xlsx": (DOCX, "台账.xlsx", "可能是 Word"),
    "empty": (b"", "台账.xlsx", "文件是空的"),
}


@pytest.mark.parametrize("content, filename, message", NOT_A_WORKBOOK.values(), ids=NOT_A_WORKBOOK.keys())
def test_ledger_that_is_not_a_workbook_is_refused_in_chinese(app, project_ref, clean_staging, content, filename,
                                                            message):
    response = post_file(new_client(app, make_user(Role.COMMERCE)), "/ledgers/import", content, filename)
    assert response.status_code == 400
    assert message in page_text(response)
    assert "确认导入" not in page_text(response)
    assert staged_files(app) == []


def test_workbook_named_txt_is_accepted_by_its_content(app, project_ref, clean_staging):
    user = make_user(Role.COMMERCE)
    data = ledger_bytes([row(name="文本名台账项目")])
    response = post_file(new_client(app, user), "/ledgers/import", data, "台账.txt")
    assert response.status_code == 200
    assert "将新建 1 个项目" in page_text(response)
    assert staged_files(app) == [f"{user.id}-{importer.sha256(data)}.xlsx"]


def test_csv_text_named_xlsx_is_read_as_csv(app, project_ref, clean_staging):
    user = make_user(Role.COMMERCE)
    data = "项目名称,投资方,所属县（市、区）,总投资（万元）\n甲项目,乙公司,三元区,100\n".encode("gbk")
    response = post_file(new_client(app, user), "/ledgers/import", data, "台账.xlsx")
    assert response.status_code == 200 and "将新建 1 个项目" in page_text(response)
    assert staged_files(app) == [f"{user.id}-{importer.sha256(data)}.csv"]  # staged as what it is


# ---- Client file names are labels, never paths ----

@pytest.mark.parametrize("client_name", ["../../x.xlsx", "..\\..\\x.xlsx", "C:\\Users\\王五\\Desktop\\x.xlsx",
                                         "/etc/x.xlsx"])
def test_client_file_name_never_becomes_a_path(app, project_ref, clean_staging, client_name):
    user = make_user(Role.COMMERCE)
    client = new_client(app, user)
    folder = app.config["LEDGER_IMPORT_DIR"]
    escapes = [os.path.join(folder, *[".."] * up, "x.xlsx") for up in (1, 2)]  # where ../../x.xlsx would land
    data = ledger_bytes([row(name=f"路径测试项目{len(client_name)}")])
    digest = importer.sha256(data)

    response = post_file(client, "/ledgers/import", data, client_name)
    assert response.status_code == 200 and "将新建 1 个项目" in page_text(response)
    assert "预览：x.xlsx" in page_text(response)
    assert staged_files(app) == [f"{user.id}-{digest}.xlsx"]  # named by the server: uploader and hash

    # The confirm form sends the name back; a tampered one is cut down to its last part as well.
    response = client.post("/ledgers/import/confirm", data={"sha256": digest, "filename": client_name})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(ImportBatch.filename).filter_by(sha256=digest)) == "x.xlsx"
    assert staged_files(app) == []
    assert not any(os.path.exists(path) for path in escapes), "a file was written outside the staging folder"
