"""The signing events' table (签约活动): a project is credited to the event where it was first signed."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import County
from core.db import UTCDateTime, db, utcnow
from projects.models import Project


class SigningEvent(db.Model):
    """A signing event (签约活动): a project is credited to the event where it was first signed."""

    __tablename__ = "signing_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(100), default="")
    organiser: Mapped[str] = mapped_column(String(100), default="")
    county_code: Mapped[str | None] = mapped_column(ForeignKey("county.code"))  # a county's own event
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped by every save (and guarded by the ORM): an edit made from an older copy is refused, never overwrites.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    county: Mapped[County | None] = relationship()
    projects: Mapped[list[Project]] = relationship(backref="signing_event")
