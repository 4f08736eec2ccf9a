"""The attachments table: a project's photos and documents, each pointing at its stored file by SHA-256."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from core.auth.models import User
from core.db import UTCDateTime, db, enum_type, utcnow
from core.enums import LabeledEnum
from projects.models import ApprovalItem, Milestone, Project
from projects.reports.models import Blocker


class FileKind(LabeledEnum):
    PHOTO = "photo", "照片"
    DOCUMENT = "document", "文件"


class Attachment(db.Model):
    """One upload: on the project itself, or on one of its milestones, approval items or blockers."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_project_kind", "project_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"), index=True)
    approval_item_id: Mapped[int | None] = mapped_column(ForeignKey("approval_item.id", ondelete="SET NULL"),
                                                         index=True)
    blocker_id: Mapped[int | None] = mapped_column(ForeignKey("blocker.id", ondelete="SET NULL"), index=True)
    kind: Mapped[FileKind] = mapped_column(enum_type(FileKind))
    file_format: Mapped[str] = mapped_column(String(8))  # jpeg, png, webp, pdf, docx, xlsx, doc, xls: by content
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    filename: Mapped[str] = mapped_column(String(200))  # the browser's name: a label, never a path
    width: Mapped[int | None]
    height: Mapped[int | None]
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # from EXIF
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # WGS-84, from EXIF
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Removal keeps the row and the file (evidence is not destroyed); the attachment is no longer shown or served.
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    removal_reason: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(backref=backref("attachments", cascade="all, delete-orphan",
                                                            order_by="Attachment.id"))
    milestone: Mapped[Milestone | None] = relationship()
    approval_item: Mapped[ApprovalItem | None] = relationship()
    blocker: Mapped[Blocker | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def is_photo(self) -> bool:
        return self.kind is FileKind.PHOTO

    @property
    def target_label(self) -> str:
        """What the file supports, as the page and the timeline name it."""
        if self.milestone is not None:
            return f"节点“{self.milestone.name}”"
        if self.approval_item is not None:
            return f"前期手续“{self.approval_item.type.name}”"
        if self.blocker is not None:
            return f"存在问题“{self.blocker.description[:20]}”"
        return "项目"
