"""Server-side session tests: one row per login, logout ends only this one, idle and absolute limits,
password changes and disabling end them all, the remember cookie, and the writes a page view makes."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import event, select

from core import clock
from core.auth import services
from core.auth.models import BOOKKEEPING_TABLES, ApiTokenUse, LoginAttempt, Role, SessionEnd, UserSession
from core.auth.sessions import EXPIRED, SESSION_KEY
from core.config import ConfigError
from core.db import db
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.projects.web import changed_tables, snapshot

from .helpers import flashes, is_logged_in, login, path_of

MINUTE = dt.timedelta(minutes=1)
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def at(monkeypatch):
    """at(moment): clock.now() is ``moment`` from now on, in the app and here."""
    def move(moment: dt.datetime) -> dt.datetime:
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment
    return move


def rows(user=None) -> list[UserSession]:
    db.session.rollback()
    query = select(UserSession).order_by(UserSession.id)
    if user is not None:
        query = query.where(UserSession.user_id == user.id)
    return list(db.session.scalars(query))


def session_key(client) -> str:
    with client.session_transaction() as session:
        return session[SESSION_KEY]


def copy_cookie(source, target) -> None:
    target.set_cookie("session", source.get_cookie("session").value, domain="localhost")


def test_login_opens_a_session_row_holding_only_the_keys_hash(client):
    user = make_user()
    client.post("/login", data={"username": user.username, "password": DEFAULT_PASSWORD},
                headers={"User-Agent": "Mozilla/5.0 " + "x" * 300})
    [row] = rows(user)
    key = session_key(client)
    assert len(key) >= 40
    assert row.token_hash == hashlib.sha256(key.encode()).hexdigest() != key
    assert row.ended_at is None and row.end_reason is None
    assert row.created_at == row.last_seen_at and row.created_at.utcoffset() == dt.timedelta(0)
    assert row.address == "127.0.0.1"
    assert row.user_agent.startswith("Mozilla/5.0 ") and len(row.user_agent) == 120


def test_every_login_gets_a_new_key(app, client):
    user = make_user()
    login(client, user)
    first = session_key(client)
    client.post("/logout")
    login(client, user)
    assert session_key(client) != first
    assert [r.end_reason for r in rows(user)] == [SessionEnd.LOGOUT, None]


def test_logout_ends_only_this_session(app):
    user = make_user()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    laptop.post("/logout")
    assert not is_logged_in(laptop)
    assert is_logged_in(phone)
    laptop_row, phone_row = rows(user)
    assert laptop_row.end_reason is SessionEnd.LOGOUT and laptop_row.ended_at is not None
    assert phone_row.ended_at is None


def test_a_replayed_copy_of_a_logged_out_cookie_goes_to_the_login_page(app, client):
    login(client, make_user())
    thief = app.test_client()
    copy_cookie(client, thief)
    assert is_logged_in(thief)  # the copy works while the session lives ...
    client.post("/logout")
    response = thief.get("/parks/")  # ... and not after its owner logged out
    assert response.status_code == 302 and path_of(response) == "/login"
    assert flashes(thief.get("/login"), "warning") == []  # not "expired": it was ended


def test_a_session_key_does_not_open_another_users_account(app, client):
    login(client, make_user())
    other = make_user(Role.ADMIN)
    with client.session_transaction() as session:
        session["_user_id"] = str(other.id)
    assert client.get("/admin/users").status_code == 302
    assert not is_logged_in(client)


def test_a_forged_key_opens_nothing(client):
    user = make_user()
    with client.session_transaction() as session:
        session["_user_id"], session[SESSION_KEY] = str(user.id), "guessed-key"
    assert not is_logged_in(client)


def test_set_password_and_disable_end_every_session_of_that_user_only(app):
    user, bystander = make_user(), make_user()
    clients = [app.test_client() for _ in range(3)]
    login(clients[0], user)
    login(clients[1], user)
    login(clients[2], bystander)

    services.set_password(user, "a-brand-new-password")
    db.session.commit()
    assert [r.end_reason for r in rows(user)] == [SessionEnd.PASSWORD] * 2
    assert not is_logged_in(clients[0]) and not is_logged_in(clients[1])
    assert is_logged_in(clients[2])

    login(clients[0], user, "a-brand-new-password")
    services.disable_user(user)
    db.session.commit()
    assert rows(user)[-1].end_reason is SessionEnd.DISABLED
    assert not is_logged_in(clients[0])
    assert is_logged_in(clients[2])


def test_admin_disabling_a_user_ends_their_sessions(app, client, counties):
    admin, victim = make_user(Role.ADMIN), make_user()
    theirs = app.test_client()
    login(theirs, victim)
    login(client, admin)
    assert client.post(f"/admin/users/{victim.id}/disable").status_code == 302
    assert [r.end_reason for r in rows(victim)] == [SessionEnd.DISABLED]
    assert not is_logged_in(theirs)


def test_cli_set_password_and_disable_end_sessions(runner, client):
    user = make_user(username="sun")
    login(client, user)
    result = runner.invoke(args=["users", "set-password", "sun", "--password-stdin"], input="another-password-1\n")
    assert result.exit_code == 0, result.output
    assert [r.end_reason for r in rows(user)] == [SessionEnd.PASSWORD]
    login(client, user, "another-password-1")
    assert runner.invoke(args=["users", "disable", "sun"]).exit_code == 0
    assert [r.end_reason for r in rows(user)] == [SessionEnd.PASSWORD, SessionEnd.DISABLED]
    assert not is_logged_in(client)


def test_a_user_disabled_behind_the_apps_back_has_the_session_ended(client):
    user = make_user()
    login(client, user)
    user.is_enabled = False  # as a database script would
    db.session.commit()
    assert not is_logged_in(client)
    user.is_enabled = True
    db.session.commit()
    assert not is_logged_in(client)  # re-enabling does not bring it back
    assert [r.end_reason for r in rows(user)] == [SessionEnd.DISABLED]


def test_default_limits_are_30_minutes_idle_and_12_hours(app):
    assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_ABSOLUTE_HOURS"]) == (30, 12)


def test_idle_session_expires_with_a_chinese_message(client, at):
    user = make_user()
    at(T0)
    login(client, user)
    at(T0 + 29 * MINUTE)
    assert is_logged_in(client)
    at(T0 + 58 * MINUTE)  # 29 minutes after the last request: still alive
    assert is_logged_in(client)
    at(T0 + 88 * MINUTE + dt.timedelta(seconds=1))
    response = client.get("/parks/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fparks%2F%3Fpage%3D2"
    page = client.get(response.headers["Location"])
    assert flashes(page, "warning") == [EXPIRED] and EXPIRED == "会话已过期，请重新登录。"
    assert "请先登录。" not in page.get_data(as_text=True)
    [row] = rows(user)
    assert row.end_reason is SessionEnd.IDLE and row.ended_at == T0 + 88 * MINUTE + dt.timedelta(seconds=1)
    assert not is_logged_in(client)
    assert flashes(client.get("/login"), "warning") == []  # said once


def test_absolute_limit_ends_even_a_busy_session(client, at):
    user = make_user()
    at(T0)
    login(client, user)
    moment = T0
    while moment + 25 * MINUTE < T0 + dt.timedelta(hours=12):
        moment = at(moment + 25 * MINUTE)
        assert is_logged_in(client), moment
    at(T0 + dt.timedelta(hours=12))
    response = client.get("/")
    assert path_of(response) == "/login"
    assert flashes(client.get("/login"), "warning") == [EXPIRED]
    assert rows(user)[0].end_reason is SessionEnd.ABSOLUTE


def test_limits_follow_the_configuration(app, client, at, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_HOURS", 1)
    at(T0)
    login(client, make_user())
    at(T0 + 6 * MINUTE)
    assert not is_logged_in(client)
    login(client, make_user())
    for step in range(1, 17):
        at(T0 + 6 * MINUTE + step * 4 * MINUTE)
        assert is_logged_in(client) == (step * 4 < 60), step


def test_an_expired_session_posting_is_sent_to_login_and_saves_nothing(client, at):
    user = make_user(Role.ADMIN)
    at(T0)
    login(client, user)
    at(T0 + 31 * MINUTE)
    before = snapshot()
    response = client.post("/admin/users", data={"username": "late_user", "role": "leader",
                                                  "password": "late-password-1", "confirm": "late-password-1"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert changed_tables(before, snapshot()) == ["user_session"]


def test_logging_in_with_an_expired_cookie_starts_afresh(client, at):
    user = make_user()
    at(T0)
    login(client, user)
    at(T0 + 40 * MINUTE)
    response = login(client, user)
    assert response.status_code == 302 and path_of(response) == "/"
    assert flashes(client.get("/"), "warning") == []  # no stale "expired" on the home page
    assert [r.end_reason for r in rows(user)] == [SessionEnd.IDLE, None]


def test_last_seen_is_written_at_most_once_a_minute(client, at):
    user = make_user()
    at(T0)
    login(client, user)
    at(T0 + 59 * dt.timedelta(seconds=1))
    before = snapshot()
    assert is_logged_in(client)
    assert changed_tables(before, snapshot()) == []  # a page view within the minute writes nothing
    at(T0 + 61 * dt.timedelta(seconds=1))
    assert is_logged_in(client)
    assert rows(user)[0].last_seen_at == T0 + 61 * dt.timedelta(seconds=1)


def test_a_page_view_touches_the_session_in_a_write_transaction_of_its_own(app, client, at):
    """On SQLite the GET's own transaction stays a plain read (BEGIN), with no write in it; the
    last-seen update runs before it, on another connection, having taken the write lock first."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite transaction modes")
    at(T0)
    login(client, make_user())
    at(T0 + 2 * MINUTE)
    seen: list[tuple[int, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((id(conn.connection.dbapi_connection), " ".join(statement.split())))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/parks/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    updates = [i for i, (_, sql) in enumerate(seen) if sql.startswith("UPDATE user_session")]
    assert len(updates) == 1
    touch = updates[0]
    begins = [i for i, (_, sql) in enumerate(seen[:touch]) if sql.startswith("BEGIN")]
    assert seen[begins[-1]][1] == "BEGIN IMMEDIATE"  # the touch's own short transaction
    page_begin = next(i for i, (_, sql) in enumerate(seen) if i > touch and sql.startswith("BEGIN"))
    assert seen[page_begin][1] == "BEGIN"
    assert not [sql for _, sql in seen[page_begin:] if sql.split()[0] in ("UPDATE", "INSERT", "DELETE")]


def test_remember_cookie_cannot_bring_back_an_ended_session(app, client):
    user = make_user()
    login(client, user)
    client.post("/logout")
    with app.test_request_context():
        forged = encode_cookie(str(user.id))  # what Flask-Login would have set with remember=True
    replay = app.test_client()
    replay.set_cookie("remember_token", forged, domain="localhost")
    assert not is_logged_in(replay)
    copy_cookie(client, replay)
    assert not is_logged_in(replay)


def test_old_sessions_are_deleted_at_a_login(client, at):
    user = make_user()
    at(T0 - dt.timedelta(days=31))
    login(client, user)
    client.post("/logout")
    at(T0 - dt.timedelta(days=29))
    login(client, user)
    at(T0)
    login(client, user)  # a third login, 29 and 31 days after the first two
    assert [r.created_at for r in rows(user)] == [T0 - dt.timedelta(days=29), T0]


def test_limits_must_be_positive(make_app, clean_env):
    with pytest.raises(ConfigError, match="SESSION_IDLE_MINUTES"):
        make_app({"TESTING": True, "SESSION_IDLE_MINUTES": 0})


def test_limits_come_from_the_environment(make_app, clean_env, monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "45")
    monkeypatch.setenv("SESSION_ABSOLUTE_HOURS", "8")
    new_app = make_app({"TESTING": True})
    assert (new_app.config["SESSION_IDLE_MINUTES"], new_app.config["SESSION_ABSOLUTE_HOURS"]) == (45, 8)


def test_the_bookkeeping_tables_are_the_session_attempt_and_token_use_tables():
    assert set(BOOKKEEPING_TABLES) == {UserSession.__tablename__, LoginAttempt.__tablename__,
                                       ApiTokenUse.__tablename__}
