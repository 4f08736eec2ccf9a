"""Structured log tests: one JSON object per line with request id, user and address; the events that
are logged; nothing secret in them; no line forged by what a user types; caplog still works."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging

import pytest

from core import clock, logs
from core.auth.models import Role
from core.auth.sessions import SESSION_KEY
from tests.conftest import csrf_token_from
from tests.factories import DEFAULT_PASSWORD, make_project, make_user
from tests.projects.ledgers.files import ledger_bytes
from tests.projects.ledgers.files import row as ledger_row

from .helpers import login

FORGED = 'x\n{"event":"login_ok","user":"admin"}\r\u2028{"event":"login_ok"}'
LINE_SEPARATED = 'x\u2028{"event":"login_ok","user":"admin"}\u2029{"event":"login_ok"}'


@pytest.fixture
def log_text(app):
    """What the app's log handler writes (the real handler and formatter, into a buffer for the test)."""
    [handler] = [h for h in app.logger.handlers if isinstance(h, logs.JsonStderrHandler)]
    buffer = io.StringIO()
    handler.setStream(buffer)
    yield buffer.getvalue
    handler.setStream(None)


@pytest.fixture
def log_events(log_text):
    """The log's lines, each parsed as one JSON object (a line that is not one fails the test)."""
    def parse() -> list[dict]:
        parsed = []
        for line in log_text().split("\n")[:-1]:
            entry = json.loads(line)
            assert isinstance(entry, dict), line
            parsed.append(entry)
        return parsed
    return parse


def events(entries: list[dict], name: str) -> list[dict]:
    return [e for e in entries if e.get("event") == name]


def test_login_ok_is_one_json_line_with_the_request_context(client, counties, log_events):
    user = make_user(Role.COUNTY, username="sanyuan_wang")
    response = client.post("/login", data={"username": user.username, "password": DEFAULT_PASSWORD},
                           headers={"X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    [entry] = events(log_events(), "login_ok")
    assert entry["outcome"] == "ok" and entry["level"] == "info"
    assert (entry["user"], entry["user_id"], entry["role"], entry["county"]) == (
        "sanyuan_wang", user.id, "county", "350404")
    assert (entry["method"], entry["path"], entry["address"], entry["request_id"]) == (
        "POST", "/login", "127.0.0.1", "req-42")
    assert entry["ts"].endswith("+00:00") and isinstance(entry["pid"], int)


@pytest.mark.parametrize("given", ["", "has space", "semi;colon", "a" * 65, "中文", "x\u2028y"])
def test_an_insane_request_id_is_replaced(client, log_events, given):
    response = client.get("/healthz", headers={"X-Request-ID": given} if given else {})
    generated = response.headers["X-Request-ID"]
    assert generated != given and len(generated) == 32 and generated.isalnum()


def test_a_sane_request_id_is_echoed_on_every_response(client, log_events):
    for path in ("/healthz", "/login", "/no-such-page"):
        assert client.get(path, headers={"X-Request-ID": "A-b-9"}).headers["X-Request-ID"] == "A-b-9"
    assert client.get("/healthz").headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]


def test_login_failed_logout_and_the_users_requests_carry_the_user(client, log_events):
    user = make_user(Role.LEADER, username="leader_li")
    client.post("/login", data={"username": "leader_li", "password": "not-the-password"})
    client.post("/login", data={"username": "nobody", "password": "not-the-password"})
    login(client, user)
    client.post("/logout")
    entries = log_events()
    assert [(e["username"], e["reason"], e["outcome"]) for e in events(entries, "login_failed")] == [
        ("leader_li", "wrong_password", "failed"), ("nobody", "unknown_user", "failed")]
    assert "user" not in events(entries, "login_failed")[0]  # nobody is logged in yet
    [logout] = events(entries, "logout")
    assert (logout["user"], logout["role"], logout["outcome"]) == ("leader_li", "leader", "ok")


def test_no_password_cookie_or_session_key_in_the_log(client, log_text):
    password = "Very-Secret-Passw0rd!"
    user = make_user(Role.ADMIN, username="root_admin", password=password)
    client.post("/login", data={"username": "root_admin", "password": "Wrong-Secret-Passw0rd!"})
    client.post("/login", data={"username": "root_admin", "password": password})
    cookie = client.get_cookie("session").value
    with client.session_transaction() as session:
        key = session[SESSION_KEY]
    client.get("/admin/users")
    client.post("/admin/users", data={"username": "new_user", "role": "leader", "password": "Another-Secret-1",
                                      "confirm": "Another-Secret-1"})
    client.post("/logout")
    text = log_text()
    assert "login_ok" in text and "user_created" in text and "logout" in text
    for secret in (password, "Wrong-Secret-Passw0rd!", "Another-Secret-1", cookie, key, user.password_hash):
        assert secret not in text


def test_a_username_cannot_forge_a_log_line(client, log_text, log_events):
    make_user(username="known")
    # CR and LF are refused at the form (control characters), so nothing of it is logged at all.
    response = client.post("/login", data={"username": FORGED, "password": "whatever-password"})
    assert response.status_code == 200 and "“用户名”含有不可见的控制字符（U+000A）" in response.get_data(as_text=True)
    assert events(log_events(), "login_failed") == []
    # A Unicode line separator is no control character: it reaches the log, escaped inside its string.
    response = client.post("/login", data={"username": LINE_SEPARATED, "password": "whatever-password"})
    assert response.status_code == 200
    assert len(log_text().splitlines()) == len(log_events())  # no line break but the ones ending records
    entries = log_events()
    assert events(entries, "login_ok") == []
    [failed] = events(entries, "login_failed")
    assert failed["username"] == LINE_SEPARATED.strip()
    assert '{"event":"login_ok"' not in log_text()  # only ever inside a string, escaped


def test_access_denied_is_logged(client, log_events):
    login(client, make_user(Role.LEADER, username="leader_zhao"))
    assert client.get("/admin/users").status_code == 403
    [denied] = events(log_events(), "access_denied")
    assert (denied["outcome"], denied["reason"], denied["user"], denied["path"]) == (
        "refused", "role", "leader_zhao", "/admin/users")


def test_another_countys_project_is_a_logged_404(client, project_ref, log_events):
    project = make_project(county_code="350481")
    login(client, make_user(Role.COUNTY, county="350404", username="sanyuan_li"))
    assert client.get(f"/projects/{project.id}").status_code == 404
    assert client.get("/projects/999999").status_code == 404  # no such project: nothing to report
    [denied] = events(log_events(), "access_denied")
    assert (denied["reason"], denied["entity"], denied["entity_id"], denied["user"], denied["county"]) == (
        "county", "project", project.id, "sanyuan_li", "350404")


def test_csrf_failure_is_logged_and_gets_the_chinese_400_page(client, csrf_on, log_events):
    user = make_user(username="zhou")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    login(client, user, csrf_token=token)
    response = client.post("/logout")
    assert response.status_code == 400 and "请求有误" in response.get_data(as_text=True)
    [failed] = events(log_events(), "csrf_failed")
    assert (failed["outcome"], failed["user"], failed["path"]) == ("refused", "zhou", "/logout")
    assert "CSRF" in failed["reason"]


def test_throttled_login_is_logged(client, log_events, monkeypatch, app):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 1)
    make_user(username="wu")
    client.post("/login", data={"username": "wu", "password": "wrong-password-1"})
    assert client.post("/login", data={"username": "wu", "password": "wrong-password-1"}).status_code == 429
    [throttled] = events(log_events(), "login_throttled")
    assert (throttled["outcome"], throttled["username"], throttled["limit"]) == ("refused", "wu", "account")


def test_session_expiry_is_logged(client, log_events, monkeypatch):
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: start)
    login(client, make_user(username="zheng"))
    monkeypatch.setattr(clock, "now", lambda: start + dt.timedelta(hours=1))
    client.get("/")
    [expired] = events(log_events(), "session_expired")
    assert (expired["user"], expired["outcome"], expired["reason"]) == ("zheng", "ended", "idle")


def test_account_changes_name_the_account_and_who_changed_it(client, counties, log_events):
    login(client, make_user(Role.ADMIN, username="root_admin"))
    target = make_user(username="qian")
    client.post(f"/admin/users/{target.id}/disable")
    [disabled] = events(log_events(), "user_disabled")
    assert (disabled["target"], disabled["by"], disabled["user"], disabled["sessions_ended"]) == (
        "qian", "root_admin", "root_admin", 0)


def test_ledger_import_and_exports_are_logged(client, project_ref, log_events):
    login(client, make_user(Role.ADMIN))
    data = ledger_bytes([ledger_row(name="日志测试项目一"), ledger_row(name="日志测试项目二")])
    preview = client.post("/ledgers/import", data={"file": (io.BytesIO(data), "台账.xlsx")})
    assert preview.status_code == 200
    [previewed] = events(log_events(), "ledger_previewed")
    assert (previewed["outcome"], previewed["create"], previewed["update"], previewed["problems"]) == ("ok", 2, 0, 0)
    digest = hashlib.sha256(data).hexdigest()
    assert client.post("/ledgers/import/confirm", data={"sha256": digest, "filename": "台账.xlsx"}).status_code == 302
    [imported] = events(log_events(), "ledger_imported")
    assert (imported["created"], imported["updated"], imported["rows"]) == (2, 0, 2)
    client.post(f"/ledgers/batches/{imported['batch']}/revert")
    [reverted] = events(log_events(), "ledger_reverted")
    assert (reverted["batch"], reverted["deleted"]) == (imported["batch"], 2)

    for path in ("/ledgers/export", "/reports/briefing", "/map/export", "/api/v1/parks.geojson",
                 "/api/v1/projects.geojson"):
        assert client.get(path).status_code == 200, path
    entries = log_events()
    assert events(entries, "ledger_exported")[0]["rows"] == 0  # the import was reverted
    assert len(events(entries, "briefing_exported")) == len(events(entries, "map_exported")) == 1
    assert sorted(e["layer"] for e in events(entries, "geojson_downloaded")) == ["parks", "projects"]


def test_other_app_records_are_json_lines_too(app, log_events):
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        app.logger.exception("unhandled\nthing")
    [entry] = log_events()
    assert entry["level"] == "error" and entry["message"] == "unhandled\nthing"
    assert "ValueError: boom\nsecond line" in entry["exc"]


def test_caplog_still_sees_the_events(client, caplog):
    caplog.set_level(logging.INFO, logger="sanming")
    client.post("/login", data={"username": "nobody", "password": "whatever-password"})
    [record] = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "login_failed"]
    assert record.name == "sanming.events" and record.fields["username"] == "nobody"
