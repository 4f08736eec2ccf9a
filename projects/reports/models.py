"""The monthly reports' and blockers' tables: a project's 月度进展 and its 存在问题."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from core.auth.models import User
from core.db import UTCDateTime, db, enum_type, utcnow
from core.enums import LabeledEnum
from projects.models import Money, Project


class ProgressReport(db.Model):
    """One project's monthly report (月度进展): investment completed and funds arrived that month."""

    __tablename__ = "progress_report"
    __table_args__ = (UniqueConstraint("project_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    month: Mapped[dt.date] = mapped_column(Date, index=True)  # the first day of the month
    investment: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    funds_arrived: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    note: Mapped[str] = mapped_column(Text, default="")
    no_change: Mapped[bool] = mapped_column(default=False)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(backref=backref(
        "reports", order_by="ProgressReport.month.desc()", cascade="all, delete-orphan"))
    reported_by: Mapped[User | None] = relationship()


class BlockerCategory(LabeledEnum):
    LAND = "land", "用地"
    EIA = "eia", "环评"
    FUNDING = "funding", "资金"
    APPROVAL = "approval", "审批"
    UTILITIES = "utilities", "配套"
    OTHER = "other", "其他"


class Blocker(db.Model):
    """A problem holding a project back (存在问题) and the department that must act."""

    __tablename__ = "blocker"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    category: Mapped[BlockerCategory] = mapped_column(enum_type(BlockerCategory))
    description: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(100), default="")
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    escalated: Mapped[bool] = mapped_column(default=False)  # raised to the hooked leader
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    closing_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(backref=backref(
        "blockers", order_by="Blocker.id.desc()", cascade="all, delete-orphan"))
    created_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
