"""Health check and error page tests: JSON health, Chinese error pages, rollback after a crash."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from core import audit
from core.audit import AuditEntry
from core.auth.models import Role, User
from core.db import db
from tests.factories import DEFAULT_PASSWORD, make_user

from .helpers import login


@pytest.fixture
def crash_app(make_app, database_url):
    """A second app on the test database with routes that fail, registered before its first request."""
    app = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    @app.get("/boom-after-write")
    def boom_after_write():
        audit.record("test", 1, "half_done")
        db.session.flush()
        raise RuntimeError("failed after a write")

    @app.get("/boom-in-flush")
    def boom_in_flush():
        from flask_login import current_user

        db.session.add(User(username=current_user.username, role=Role.COMMERCE, password_hash="x"))
        db.session.flush()  # duplicate username: the transaction is now unusable until rolled back
        return "unreachable"

    return app


def assert_chinese_error_page(response, code: int, title: str):
    assert response.status_code == code
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert title in html
    assert f"错误代码 {code}" in html
    assert "Traceback" not in html
    return html


def test_healthz_answers_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("uri", [
    "postgresql+psycopg://postgres@127.0.0.1:1/x",  # nothing listens on port 1
    "sqlite:////nonexistent-directory-for-sanming-tests/app.db",
])
def test_healthz_reports_unreachable_database_quickly(make_app, uri):
    client = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri}).test_client()
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.is_json
    assert response.get_json() == {"status": "error", "database": "unreachable"}


def test_404_page_is_chinese_html(client):
    assert_chinese_error_page(client.get("/no-such-page"), 404, "页面不存在")


def test_error_is_json_for_json_clients(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "页面不存在"


def test_403_page_for_a_non_admin_on_admin_pages(client):
    login(client, make_user(Role.COMMERCE))
    assert_chinese_error_page(client.get("/admin/users"), 403, "无权访问")


def test_405_page_keeps_the_allow_header(client):
    response = client.get("/logout")
    assert_chinese_error_page(response, 405, "不支持的操作")
    assert "POST" in response.headers["Allow"]


def test_500_page_is_chinese_and_hides_the_exception(crash_app):
    html = assert_chinese_error_page(crash_app.test_client().get("/boom"), 500, "服务器内部错误")
    assert "secret internal detail" not in html
    assert "RuntimeError" not in html


def test_500_rolls_the_session_back(crash_app):
    # Keep one app context around the request so its session can be inspected afterwards.
    with crash_app.app_context():
        response = crash_app.test_client().get("/boom-after-write")
        assert response.status_code == 500
        assert not db.session.new
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_500_page_renders_for_a_logged_in_user_after_a_failed_flush(crash_app, counties):
    username = make_user(Role.COUNTY, county="350404").username
    db.session.rollback()  # outside a request SQLite takes the write lock: free it for the other app
    client = crash_app.test_client()
    assert client.post("/login", data={"username": username, "password": DEFAULT_PASSWORD}).status_code == 302
    # The page names the user's county, so it must query again after the broken transaction.
    html = assert_chinese_error_page(client.get("/boom-in-flush"), 500, "服务器内部错误")
    assert "三元区" in html
