"""Database tests: SQLite tuning (WAL, foreign keys, busy timeout, BEGIN IMMEDIATE) and UTC timestamps."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from core.audit import AuditEntry
from core.db import db

LOCK_WAIT_S = 0.3  # long enough to see that a second writer waits instead of failing at once


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite tuning")


@pytest.fixture
def statements(app):
    """The SQL the app sends, as a list that fills while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_sqlite_connection_is_tuned(sqlite_only):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_foreign_keys_are_enforced(app):
    with pytest.raises(IntegrityError):
        db.session.execute(insert(AuditEntry).values(
            at=dt.datetime.now(dt.UTC), user_id=999_999, entity="user", entity_id="1", action="x"))
        db.session.flush()
    db.session.rollback()


def test_get_begins_deferred_and_post_begins_immediate(sqlite_only, client, statements):
    db.session.close()  # requests share the test's session: start each from no open transaction
    assert client.get("/healthz").status_code == 200
    assert statements[:2] == ["BEGIN", "SELECT 1"]

    db.session.close()
    statements.clear()
    client.post("/login", data={"username": "nobody", "password": "whatever-password"})
    assert statements[0] == "BEGIN IMMEDIATE"
    assert any("FROM app_user" in s for s in statements[1:])


def test_cli_and_scripts_write_with_begin_immediate(sqlite_only, statements):
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert statements[0] == "BEGIN IMMEDIATE"


def test_concurrent_writers_both_succeed(sqlite_only, app):
    """Two read-then-write transactions at once: the second waits for the first, none is refused."""
    errors: list[BaseException] = []

    def audit_row(conn, action):
        conn.execute(select(func.count()).select_from(AuditEntry))  # read first, like a real view
        conn.execute(insert(AuditEntry).values(at=dt.datetime.now(dt.UTC), entity="test",
                                               entity_id="1", action=action))

    def second_writer():
        try:
            # A POST in its own thread and connection, as a second gunicorn worker would be.
            with app.test_request_context("/", method="POST"), db.engine.begin() as conn:
                audit_row(conn, "second")
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    with app.test_request_context("/", method="POST"), db.engine.connect() as first:
        first.begin()
        audit_row(first, "first")
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(LOCK_WAIT_S)
        assert not errors, errors  # e.g. "database is locked" instead of waiting
        assert thread.is_alive(), "the second writer should wait for the first one's lock"
        first.commit()
    thread.join(10)
    assert not thread.is_alive()
    assert not errors, errors
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "test"))
    assert sorted(actions) == ["first", "second"]


def test_utc_datetime_round_trips_aware_values(app):
    beijing = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2024, 6, 18, 9, 30, 15, tzinfo=beijing)
    entry = AuditEntry(at=at, entity="test", entity_id="1", action="x")
    db.session.add(entry)
    db.session.commit()
    entry_id = entry.id
    db.session.expire_all()

    loaded = db.session.get(AuditEntry, entry_id)
    assert loaded.at == at  # the same instant
    assert loaded.at.utcoffset() == dt.timedelta(0)
    assert loaded.at.replace(tzinfo=None) == dt.datetime(2024, 6, 18, 1, 30, 15)
    # Comparisons in SQL use the UTC instant too.
    later = dt.datetime(2024, 6, 18, 2, 0, tzinfo=dt.UTC)
    assert db.session.scalar(select(func.count()).where(AuditEntry.at < later)) == 1


def test_utc_datetime_ignores_the_postgresql_session_time_zone(app):
    """Servers in China often run with TimeZone = 'PRC'; stored instants must not shift."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL time zones")
    db.session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))  # undone with the transaction
    at = dt.datetime(2024, 6, 18, 1, 30, 15, tzinfo=dt.UTC)
    db.session.add(AuditEntry(at=at, entity="test", entity_id="1", action="x"))
    db.session.flush()
    assert db.session.scalar(select(AuditEntry.at)) == at
    stored = text("SELECT to_char(at AT TIME ZONE 'UTC', 'HH24:MI') FROM audit_entry")
    assert db.session.scalar(stored) == "01:30"
    db.session.rollback()


def test_utc_datetime_refuses_naive_values(app):
    db.session.add(AuditEntry(at=dt.datetime(2024, 6, 18, 9, 30), entity="test", entity_id="1", action="x"))
    with pytest.raises(StatementError, match="naive"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_default_timestamps_are_aware_utc(app):
    before = dt.datetime.now(dt.UTC)
    entry = AuditEntry(entity="test", entity_id="1", action="x")
    db.session.add(entry)
    db.session.commit()
    db.session.expire_all()
    assert before <= entry.at <= dt.datetime.now(dt.UTC)
