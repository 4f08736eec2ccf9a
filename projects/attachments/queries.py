"""Reading attachments: scoped to the projects a user may see, grouped for the page, and the photos' quick checks."""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core import clock
from core.auth.models import User
from core.db import db
from core.errors import NotFound
from projects.models import ApprovalItem, Project
from projects.queries import not_found, visible_projects

from .models import Attachment, FileKind

FAR_KM = 5.0  # a photo taken farther than this from the project's position is marked
EARTH_RADIUS_KM = 6371.0


def attachment_or_404(attachment_id: int, user: User) -> Attachment:
    """An attachment of a project the user may see, not removed; anything else is 404 (ids cannot be probed)."""
    row = db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.removed_at.is_(None),
        Attachment.project_id.in_(visible_projects(user).with_only_columns(Project.id))))
    if row is None:
        not_found(Attachment, attachment_id, user)
    return row


def project_attachment_or_404(project: Project, attachment_id: int) -> Attachment:
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.project_id != project.id or row.removed_at is not None:
        raise NotFound()
    return row


def shown(project: Project) -> list[Attachment]:
    """The project's attachments still in place, newest first, with what the page names loaded."""
    return list(db.session.scalars(
        select(Attachment).where(Attachment.project_id == project.id, Attachment.removed_at.is_(None))
        .options(selectinload(Attachment.milestone), selectinload(Attachment.blocker),
                 selectinload(Attachment.approval_item).selectinload(ApprovalItem.type),
                 selectinload(Attachment.uploaded_by))
        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())))


def photo_day(photo: Attachment) -> dt.date:
    """The China day a photo shows: when it was taken, else when it was uploaded."""
    return clock.local_date(photo.taken_at or photo.uploaded_at)


def gallery(attachments: list[Attachment]) -> list[tuple[dt.date, list[Attachment]]]:
    """The photos by day, newest day first."""
    days: dict[dt.date, list[Attachment]] = defaultdict(list)
    for photo in attachments:
        if photo.kind is FileKind.PHOTO:
            days[photo_day(photo)].append(photo)
    return sorted(days.items(), reverse=True)


def by_target(attachments: list[Attachment]) -> dict[tuple[str, int], list[Attachment]]:
    """Each milestone's, approval item's and blocker's own files, keyed ("milestone", id) and so on."""
    grouped: dict[tuple[str, int], list[Attachment]] = defaultdict(list)
    for row in attachments:
        for kind in ("milestone", "approval_item", "blocker"):
            if getattr(row, f"{kind}_id") is not None:
                grouped[(kind, getattr(row, f"{kind}_id"))].append(row)
    return grouped


def project_position(project: Project) -> tuple[float, float, str] | None:
    """Where the project is taken to be, as the map places it: its park, else its county seat."""
    if project.park is not None and project.park.lat is not None and project.park.lon is not None:
        return project.park.lat, project.park.lon, "园区"
    county = project.county
    if county is not None and county.seat_lat is not None and county.seat_lon is not None:
        return county.seat_lat, county.seat_lon, "县城"
    return None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): ample for a check at the scale of kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def marks(photo: Attachment, project: Project) -> list[str]:
    """Quick checks, not proofs: a photo taken far from the project, or before the milestone it supports was done."""
    found = []
    position = project_position(project)
    if photo.latitude is not None and photo.longitude is not None and position is not None:
        km = distance_km(float(photo.latitude), float(photo.longitude), position[0], position[1])
        if km > FAR_KM:
            found.append(f"拍摄位置与项目位置相距 {km:.0f} km")
    milestone = photo.milestone
    # Against the day the milestone was reported done: progress photos before a planned date are the normal case.
    if photo.taken_at is not None and milestone is not None and milestone.actual_date is not None:
        taken = clock.local_date(photo.taken_at)
        if taken < milestone.actual_date:
            found.append(f"拍摄于 {taken:%Y-%m-%d}，早于节点“{milestone.name}”的完成日期 {milestone.actual_date:%Y-%m-%d}")
    return found


def latest_photo_ids(project_ids: list[int] | None = None) -> dict[int, int]:
    """Each project's newest photo still in place (for the map popup's thumbnail): project id → attachment id."""
    query = (select(Attachment.project_id, func.max(Attachment.id))
             .where(Attachment.kind == FileKind.PHOTO, Attachment.removed_at.is_(None))
             .group_by(Attachment.project_id))
    if project_ids is not None:
        query = query.where(Attachment.project_id.in_(project_ids))
    return dict(db.session.execute(query).all())
