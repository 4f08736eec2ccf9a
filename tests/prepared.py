"""Prepared rows: committed data built once, captured, and inserted again for every test that starts from it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Table, select

from core.data_version import DataVersion
from core.db import db

T = TypeVar("T")


@dataclass(frozen=True)
class PreparedRows:
    """Every row of some tables as it was committed, in an order the foreign keys accept."""

    rows: dict[Table, list[dict]]

    @classmethod
    def capture(cls, tables: list[Table] | None = None) -> PreparedRows:
        """The committed rows of ``tables`` (default: all of them); a table with none is left out."""
        db.session.rollback()
        wanted = db.metadata.sorted_tables if tables is None else [t for t in db.metadata.sorted_tables if t in tables]
        # The data version is never copied: inserting the rows bumps it, as every write does (core.data_version).
        wanted = [t for t in wanted if t is not DataVersion.__table__]
        rows = {}
        with db.engine.connect() as conn:
            for table in wanted:
                found = [dict(zip(table.columns.keys(), row)) for row in conn.execute(select(table))]
                if found:
                    rows[table] = _referenced_first(table, found)
        return cls(rows)

    def insert(self) -> None:
        """Put the rows back into tables that hold none of them (as every test finds its tables: empty).

        Plain inserts on a connection of their own, committed, the same on SQLite and PostgreSQL: far cheaper
        than running the services that built them again. Keys are inserted as captured, so ids recorded while
        building (a World's) name the same rows; new rows still get fresh ids, the sequences being past them."""
        with db.engine.begin() as conn:
            for table, rows in self.rows.items():
                conn.execute(table.insert(), rows)


def _referenced_first(table: Table, rows: list[dict]) -> list[dict]:
    """Rows ordered so that a row naming another of its own table (a county's successor) comes after it: rows are
    inserted one statement each, and each row's foreign key is checked at once."""
    links = [(fk.parent.key, fk.column.key) for fk in table.foreign_keys if fk.column.table is table]
    if not links:
        return rows
    ordered, waiting = [], rows
    while waiting:
        placed = {key: {row[key] for row in ordered} for _, key in links}
        ready = [row for row in waiting if all(row[own] is None or row[own] in placed[key] for own, key in links)]
        assert ready, f"{table.name}: rows naming each other in a cycle"
        ordered += ready
        waiting = [row for row in waiting if row not in ready]
    return ordered


def prepare(app, build: Callable[[], T], *base: PreparedRows) -> tuple[T, PreparedRows]:
    """Run ``build`` once on the ``base`` rows, capture every row, and leave the tables empty for the tests.

    For a module-scoped fixture: set up before any of its test's own fixtures, so the tables are empty here."""
    with app.app_context():
        for rows in base:
            rows.insert()
        built = build()
        captured = PreparedRows.capture()
        db.session.remove()
        delete_every_row()
    return built, captured


def delete_every_row() -> None:
    """Empty every table (alembic_version, not in the metadata, keeps its row), children first."""
    deletes = [table.delete() for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # One round trip instead of one a table: after every test, that is most of what emptying costs there.
            # (sqlite3 runs one statement per call, and in-process, a call costs next to nothing.)
            conn.exec_driver_sql("; ".join(str(delete.compile(conn)) for delete in deletes))
        else:
            for delete in deletes:
                conn.execute(delete)
