"""Import batches: the list a user may see, and undoing a batch when none of its projects changed since."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import func, select

from core import audit
from core.auth.models import Role, User
from core.db import db, utcnow
from core.errors import InvalidInput, NotAllowed
from projects import rules, services
from projects.events.models import SigningEvent
from projects.models import CONSTRUCTION_PERMIT, EventKind, Project, ProjectEvent
from projects.reports.models import Blocker
from projects.stages import Stage

from .models import ImportBatch


class RevertRefused(InvalidInput):
    """The batch cannot be reverted honestly (already reverted, or its projects changed since)."""


def record_batch(*, digest: str, filename: str, by: User, rows: int, created: list[int], updated: dict[int, dict],
                 unchanged: int, blockers: list[int], events: list[int]) -> ImportBatch:
    """Record an import as a batch: what it created and each updated project's former state, for revert."""
    versions = dict(db.session.execute(select(Project.id, Project.version)
                                       .where(Project.id.in_(created + list(updated) or [0]))).all())
    changes = {"created": created, "updated": {str(k): v for k, v in updated.items()},
               "versions": {str(k): n for k, n in versions.items()}, "blockers": blockers, "events": events}
    batch = ImportBatch(sha256=digest, file_sha256=digest, filename=(filename or "")[:255], user_id=by.id,
                        rows_total=rows, created_count=len(created), updated_count=len(updated),
                        unchanged_count=unchanged, changes=json.dumps(changes, ensure_ascii=False))
    db.session.add(batch)
    db.session.flush()
    audit.record("import_batch", batch.id, "imported", by, filename=batch.filename, sha256=digest,
                 created=len(created), updated=len(updated))
    return batch


def revert_batch(batch: ImportBatch, *, by: User) -> dict[str, int]:
    """Undo a batch: delete the projects it created, restore the fields and stage of those it updated.

    Refused when any of its projects changed after the import (its version moved on): undoing then
    would throw away later work. Restores go through update_project / change_stage, so they are in the
    timeline; deleted projects take their own history with them (the audit log keeps the batch)."""
    if by.role is not Role.ADMIN:
        raise NotAllowed("只有管理员可以撤销导入批次。")
    if batch.reverted_at is not None:
        raise RevertRefused("该批次已经撤销。")
    changes = json.loads(batch.changes or "{}")
    created, updated = changes.get("created", []), changes.get("updated", {})
    versions = changes.get("versions", {})
    ids = [int(i) for i in created] + [int(i) for i in updated]
    projects = {p.id: p for p in db.session.scalars(select(Project).where(Project.id.in_(ids or [0])))}
    touched = [p.name for pid, p in projects.items() if versions.get(str(pid)) != p.version]
    if touched:
        raise RevertRefused("以下项目在导入后又被修改，不能撤销（请在项目页面逐项处理）：" + "、".join(touched[:10])
                            + ("等" if len(touched) > 10 else ""))
    for pid in created:
        project = projects.get(int(pid))
        if project is not None:
            db.session.delete(project)
    db.session.flush()
    for pid, record in updated.items():
        project = projects.get(int(pid))
        if project is None:
            continue
        old_stage = Stage(record["stage"])
        reason = f"撤销台账导入批次 #{batch.id}"
        if project.stage is not old_stage:
            services.change_stage(project, old_stage, version=project.version, by=by, reason=reason)
        if record.get("permit"):
            permit = next((a for a in project.approvals if a.type.name == CONSTRUCTION_PERMIT), None)
            status, done = record["permit"]
            if permit is not None and [permit.status.value, dump(permit.done_date)] != record["permit"]:
                services.update_approval(project, permit, status=status, planned_date=permit.planned_date,
                                         done_date=dt.date.fromisoformat(done) if done else None,
                                         document_no=permit.document_no, version=project.version, by=by)
        if record["fields"]:
            data = {f: getattr(project, f) for f in rules.EDITABLE_FIELDS}
            data.update({f: load(f, value) for f, value in record["fields"].items()})
            services.update_project(project, data, version=project.version, by=by)
    for blocker_id in changes.get("blockers", []):
        blocker = db.session.get(Blocker, blocker_id)
        if blocker is not None:
            db.session.add(ProjectEvent(project_id=blocker.project_id, version=blocker.project.version, user_id=by.id,
                                        kind=EventKind.BLOCKER, field="blocker", label="存在问题（撤销导入）",
                                        old_value=blocker.description, new_value=None,
                                        note=f"撤销台账导入批次 #{batch.id}"))
            db.session.delete(blocker)
    db.session.flush()
    for event_id in changes.get("events", []):
        event = db.session.get(SigningEvent, event_id)
        if event is not None and not db.session.scalar(select(func.count()).select_from(Project)
                                                       .where(Project.signing_event_id == event_id)):
            db.session.delete(event)
    batch.reverted_at, batch.reverted_by_id = utcnow(), by.id
    batch.sha256 = None  # the same file may now be imported again
    db.session.flush()
    audit.record("import_batch", batch.id, "reverted", by, deleted=len(created), restored=len(updated))
    return {"deleted": len(created), "restored": len(updated)}


def load(field_name: str, value):
    if value is None:
        return None
    if field_name in ("total_investment", "fixed_asset_investment", "land_area", "investment_baseline"):
        return Decimal(value)
    if field_name.endswith(("_date", "_start", "_completion", "_production")):
        return dt.date.fromisoformat(value)
    return value


def batches_for(user: User, *, limit: int) -> list[ImportBatch]:
    """The latest batches a user may see: admins and commerce staff all, others their own."""
    query = select(ImportBatch).order_by(ImportBatch.id.desc())
    if user.role not in (Role.ADMIN, Role.COMMERCE):
        query = query.where(ImportBatch.user_id == user.id)
    return list(db.session.scalars(query.limit(limit)))


def batch_or_404(batch_id: int) -> ImportBatch:
    return db.get_or_404(ImportBatch, batch_id)


def dump(value):
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return value.value
    if isinstance(value, str) and hasattr(value, "value"):
        return value.value
    return value
