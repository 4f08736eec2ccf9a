"""The ledger imports' table: one row per imported file, with what it changed so it can be undone."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import User
from core.db import UTCDateTime, db, utcnow


class ImportBatch(db.Model):
    """One imported ledger file (台账导入批次): who, when, what it created and changed, so it can be undone."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The file's SHA-256 while the batch stands (unique: the very same file is refused twice);
    # cleared when the batch is reverted, so a reverted file may be imported again.
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)  # kept for the record
    filename: Mapped[str] = mapped_column(String(255), default="")  # for display only, never a path
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    rows_total: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    # JSON: {"created": [ids], "events": [ids], "updated": {id: {"fields": {...}, "stage": ..., "version": n}},
    #        "created_versions": {id: n}, "blockers": [ids]}: what revert needs.
    changes: Mapped[str] = mapped_column(Text, default="{}")
    reverted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    reverted_by: Mapped[User | None] = relationship(foreign_keys=[reverted_by_id])
