"""The audit trail: a row per change outside a project's own timeline (users, parks, leads, events), in the change's transaction."""
from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from core.db import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from core.auth.models import User


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="{}")

    user: Mapped[User | None] = relationship()

    @property
    def data(self) -> dict:
        return json.loads(self.detail or "{}")


def record(entity: str, entity_id, action: str, by=None, **detail) -> AuditEntry:
    """Add an audit row to the current transaction; it commits or rolls back with the change."""
    entry = AuditEntry(entity=entity, entity_id=str(entity_id), action=action,
                       user_id=getattr(by, "id", None),
                       detail=json.dumps(detail, ensure_ascii=False, default=str))
    db.session.add(entry)
    return entry


def entries_for(entity: str, entity_id) -> list[AuditEntry]:
    """The audit rows of one record, newest first."""
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.entity == entity,
                                                           AuditEntry.entity_id == str(entity_id))
                                   .options(selectinload(AuditEntry.user)).order_by(AuditEntry.id.desc())))
