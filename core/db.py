"""The database: the declarative base, naming convention, shared column types and SQLite tuning."""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> dt.datetime:
    """Now, from the app's one clock (core.clock, which tests freeze); the column default of every timestamp."""
    from core import clock  # at call time: core.clock imports core.errors, which imports this module

    return clock.now()


class UTCDateTime(TypeDecorator):
    """A timestamp that is always UTC-aware in Python, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(dt.UTC)
        # SQLite has no time zones: keep naive UTC there so values sort and compare as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_type(enum_cls) -> Enum:
    """Store a StrEnum by its value in a plain string column (no native enum to migrate)."""
    return Enum(enum_cls, native_enum=False, length=max(len(m.value) for m in enum_cls),
                values_callable=lambda cls: [m.value for m in cls])


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not _is_sqlite(dbapi_connection):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself, so writes can ask for IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection):
    if connection.dialect.name != "sqlite":
        return
    # A deferred transaction that reads and then writes can fail with "database is locked"
    # when another gunicorn worker wrote in between; taking the write lock up front makes
    # such a writer wait (busy_timeout) instead. Plain page views stay deferred so readers
    # never queue behind writers.
    immediate = connection.get_execution_options().get("sqlite_immediate")
    if immediate is None:
        immediate = not (has_request_context() and request.method in _READ_ONLY_METHODS)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextlib.contextmanager
def side_transaction(*, write: bool) -> Iterator[Connection]:
    """A short transaction on a connection of its own, outside the request's session; commits on leaving.

    For bookkeeping done before a view runs (a login session's last-seen time): a page view's own
    read transaction never turns into a writer, which on SQLite could fail with "database is
    locked". ``write`` takes SQLite's write lock up front (waiting busy_timeout for it); a read
    stays deferred, even on a POST. Use it only while the request's session has no transaction
    open: on SQLite a POST's session holds the write lock, and this would wait for it.
    """
    with db.engine.connect() as connection:
        connection.execution_options(sqlite_immediate=write)
        with connection.begin():
            yield connection
