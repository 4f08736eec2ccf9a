"""Writing attachments: judge, check the quota, record in the timeline, store the files; and removal with a reason."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from core import clock
from core.auth.models import Role, User
from core.db import db
from core.errors import InvalidInput, NotAllowed
from core.inputs import clean_text
from projects import services as project_services
from projects.models import ApprovalItem, EventKind, Milestone, Project
from projects.reports.models import Blocker

from . import content, storage
from .models import Attachment, FileKind

REMOVAL_WINDOW = dt.timedelta(hours=24)  # an uploader may take back their own file this long after uploading
MAX_LABEL = 200


@dataclass(frozen=True)
class Target:
    """What an upload supports: the project itself, or one of its milestones, approval items or blockers."""

    milestone: Milestone | None = None
    approval_item: ApprovalItem | None = None
    blocker: Blocker | None = None


def limits() -> dict[FileKind, int]:
    config = current_app.config
    return {FileKind.PHOTO: config["ATTACHMENT_PHOTO_MAX_MB"] * content.MB,
            FileKind.DOCUMENT: config["ATTACHMENT_DOCUMENT_MAX_MB"] * content.MB}


def used_bytes(project: Project) -> int:
    """What the project's attachments take against its quota (removed ones no longer count)."""
    return db.session.scalar(select(func.coalesce(func.sum(Attachment.size), 0)).where(
        Attachment.project_id == project.id, Attachment.removed_at.is_(None)))


def label_of(filename: str | None) -> str:
    """The browser's file name as a label only: its last path part, clean text, never used to find a file."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    try:
        name = clean_text(name, "文件名")
    except ValueError:
        name = ""
    return name[:MAX_LABEL] or "未命名文件"


def upload(project: Project, target: Target, files: list[tuple[str | None, bytes]], *, by: User
           ) -> tuple[list[Attachment], list[Path]]:
    """Add files to a project, all or none: every file is judged first, then the quota; the rows and their timeline
    entries are flushed, then the files written. Returns the rows and the paths newly written (for the caller to
    remove should the commit fail)."""
    project_services.require_editor(project.county_code, by)
    if not files:
        raise InvalidInput(errors={"files": "请选择要上传的照片或文件。"})
    accepted, refused = [], []
    for filename, data in files:
        label = label_of(filename)
        try:
            judged = content.judge(data, label, limits())
        except content.BadFile as exc:
            refused.append(exc.message)
            continue
        accepted.append((label, data, judged))
    if refused:
        # One message per refused file, under the one field; the good files wait for the bad ones to be fixed.
        raise InvalidInput(errors={"files": "\n".join(refused + ["未保存任何文件。"])})
    # Two uploads to one project at once must not both fit under the quota: they queue on the project's row
    # (PostgreSQL; SQLite's writers already take turns with BEGIN IMMEDIATE).
    db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    quota = current_app.config["ATTACHMENT_PROJECT_QUOTA_MB"] * content.MB
    used, adding = used_bytes(project), sum(len(data) for _, data, _ in accepted)
    if used + adding > quota:
        raise InvalidInput(errors={"files": f"超过本项目附件总量上限 {quota // content.MB} MB（已用 {used / content.MB:.1f} MB，"
                                            f"本次 {adding / content.MB:.1f} MB），未保存任何文件。请联系管理员。"})
    rows, variants = [], {}
    for label, data, judged in accepted:
        sha256 = storage.digest(data)
        _refuse_duplicate(project, target, sha256, label)
        row = Attachment(project=project, milestone=target.milestone, approval_item=target.approval_item,
                         blocker=target.blocker, kind=judged.kind, file_format=judged.file_format, sha256=sha256,
                         size=len(data), filename=label, width=judged.width, height=judged.height,
                         taken_at=judged.taken_at, latitude=judged.latitude, longitude=judged.longitude,
                         uploaded_by_id=by.id, uploaded_at=clock.now())
        db.session.add(row)
        rows.append(row)
        files_of = {storage.ORIGINAL: data}
        if judged.kind is FileKind.PHOTO:
            files_of[storage.DISPLAY], files_of[storage.THUMB] = content.clean_copies(data, judged.file_format)
        variants[sha256] = files_of
    db.session.flush()
    for row in rows:
        project_services.record_event(project, by, EventKind.ATTACHMENT, "attachment",
                                      f"上传{row.kind.label}", new=f"{row.filename}（{row.target_label}）")
    db.session.flush()
    written: list[Path] = []
    try:
        for sha256, files_of in variants.items():
            written += storage.store(files_of, sha256)
    except OSError:
        storage.discard(written)
        raise
    return rows, written


def _refuse_duplicate(project: Project, target: Target, sha256: str, label: str) -> None:
    same = db.session.scalar(select(Attachment).where(
        Attachment.project_id == project.id, Attachment.sha256 == sha256, Attachment.removed_at.is_(None),
        Attachment.milestone_id == (target.milestone.id if target.milestone else None),
        Attachment.approval_item_id == (target.approval_item.id if target.approval_item else None),
        Attachment.blocker_id == (target.blocker.id if target.blocker else None)).limit(1))
    if same is not None:
        raise InvalidInput(errors={"files": f"“{label}”：同一文件已于 {clock.format_time(same.uploaded_at)} 上传到"
                                            f"{same.target_label}（“{same.filename}”），无需重复上传。"})


def may_remove(attachment: Attachment, user: User) -> bool:
    """Administrators always; the uploader within 24 hours of the upload, while they may still edit the project."""
    if not user.is_authenticated or attachment.removed_at is not None:
        return False
    if user.role is Role.ADMIN:
        return True
    return (attachment.uploaded_by_id == user.id and attachment.project.editable_by(user)
            and clock.now() - attachment.uploaded_at <= REMOVAL_WINDOW)


def remove(attachment: Attachment, reason: str | None, *, by: User) -> None:
    """Take an attachment off the project with a reason; the row and the file stay as evidence, unserved."""
    if not may_remove(attachment, by):
        raise NotAllowed("只有管理员，或上传者本人在上传后 24 小时内，可以删除附件。")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(errors={"reason": "请填写删除原因。"})
    attachment.removed_at, attachment.removed_by_id, attachment.removal_reason = clock.now(), by.id, reason
    project_services.record_event(attachment.project, by, EventKind.ATTACHMENT, "attachment",
                                  f"删除{attachment.kind.label}",
                                  old=f"{attachment.filename}（{attachment.target_label}）", note=reason)
    db.session.flush()
