"""The data version: one row, bumped in the same transaction as every write to the app's data; it keys the caches."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.models import BOOKKEEPING_TABLES
from core.db import db

ROW_ID = 1
# Writes that never change what a cached response shows: login bookkeeping, the accounts (a user's name, role and
# county are read on every request, never from a cache entry) and the audit log. Every other table of the app bumps
# the version, so a table added later is covered without anyone remembering to.
UNTRACKED = frozenset({*BOOKKEEPING_TABLES, "app_user", "audit_entry", "data_version"})
# The table an INSERT, UPDATE or DELETE writes, as SQLAlchemy (ORM, Core, text() or a driver string) sends it,
# several statements in one string included.
_WRITE = re.compile(r'(?:^|;)\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.I)
_BUMPED = "sanming.data_version_bumped"  # in the connection's info: this transaction has bumped already
# A connection with this execution option never bumps: migrations/env.py sets it (a migration imports no app code).
SKIP_OPTION = "skip_data_version"


class DataVersion(db.Model):
    """The one row. ``version`` counts the transactions that wrote data; ``stamp`` is new at each of them, so
    a version number seen before a restore, or in another database, never names other data."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    stamp: Mapped[str] = mapped_column(String(32), default="")


def current() -> str | None:
    """The version as this request's transaction sees it (read it before the data it keys), or None when the
    row is missing: then nothing may be cached."""
    row = db.session.execute(select(DataVersion.version, DataVersion.stamp).where(DataVersion.id == ROW_ID)).first()
    return None if row is None else f"{row.version}.{row.stamp}"


def writes_tracked_table(statement: str) -> bool:
    return any(db.metadata.tables.get(name.lower()) is not None and name.lower() not in UNTRACKED
               for name in _WRITE.findall(statement))


@event.listens_for(Engine, "begin")
def _transaction_begins(connection) -> None:
    connection.info.pop(_BUMPED, None)


@event.listens_for(Engine, "rollback_savepoint")
def _savepoint_undone(connection, name, context) -> None:
    # The bump may have been inside it: the next write bumps again (a second bump is harmless, a lost one is not).
    connection.info.pop(_BUMPED, None)


@event.listens_for(Engine, "before_cursor_execute")
def _bump_before_first_write(connection, cursor, statement, parameters, context, executemany) -> None:
    """Bump once per transaction, before its first write to a tracked table, whatever path the write took.

    Before, not after: on PostgreSQL the bump locks the version row until the commit, so writers queue on that
    row before they hold any other lock, and two of them can never wait for each other. A reader reads the
    version first and the data after it, so it never files new data under an old version or old data under a
    new one (the bump and the data commit together)."""
    if (_BUMPED in connection.info or not writes_tracked_table(statement)
            or connection.get_execution_options().get(SKIP_OPTION)):
        return
    connection.info[_BUMPED] = True
    stamp = secrets.token_hex(8)  # hex only: safe as a literal, and one statement on every driver's paramstyle
    raw = connection.connection.dbapi_connection.cursor()
    try:
        raw.execute(f"UPDATE data_version SET version = version + 1, stamp = '{stamp}' WHERE id = {ROW_ID}")
        if raw.rowcount == 0:  # emptied (a test's reset): start again; the stamp keeps it apart from before
            raw.execute(f"INSERT INTO data_version (id, version, stamp) VALUES ({ROW_ID}, 1, '{stamp}')")
    finally:
        raw.close()
