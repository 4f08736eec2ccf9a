"""Writing signing events, and the rules they add to a project's (first signed there; a new investor, a later event)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import audit
from core.auth.models import County, Role, User
from core.db import db
from core.errors import Conflict, NotAllowed
from core.validators import company_key
from projects import rules
from projects.models import Project
from projects.rules import ProjectInvalid

from . import queries
from .models import SigningEvent


def init_rules() -> None:
    """Teach the project's rules and timeline about signing events."""
    rules.register_lookup("signing_event_id", SigningEvent, "name")
    rules.register_choices("signing_event_id", queries.event_choices)
    rules.register_rule("signing_event", signing_event_problems)


def signing_event_problems(data: dict, current: Project | None) -> dict[str, str]:
    """A project's signing event must exist, and an investor changed later counts under a later event."""
    errors = {}
    if data.get("signing_event_id") and db.session.get(SigningEvent, data["signing_event_id"]) is None:
        errors["signing_event_id"] = "签约活动不存在。"
    if current is not None and current.signing_event_id and data.get("investor_name") \
            and company_key(data["investor_name"]) != current.investor_key:
        # A changed investor counts under the event after the change: a later one, not the same,
        # an earlier one or none (which would drop the project from every cohort).
        first = db.session.get(SigningEvent, current.signing_event_id)
        chosen = db.session.get(SigningEvent, data["signing_event_id"]) if data.get("signing_event_id") else None
        if chosen is None or (first is not None and chosen.date <= first.date):
            errors.setdefault("signing_event_id", "投资方已变更：项目应计入变更后签约的活动，请选择晚于"
                              f"“{first.name if first else ''}”的签约活动。")
    return errors


def save_signing_event(event: SigningEvent | None, *, name: str, date: dt.date, place: str, organiser: str,
                       county_code: str | None, notes: str, by: User, version: int | None = None) -> SigningEvent:
    """Create or correct an event; ``version``, when given, is the one the editor saw (another save since: refused)."""
    if by.role not in (Role.COMMERCE, Role.ADMIN):
        raise NotAllowed("只有市商务局和管理员可以维护签约活动。")
    if event is not None and version is not None and version != event.version:
        raise Conflict("该签约活动已被他人修改，请查看最新内容后重试。")
    name = (name or "").strip()
    if not name:
        raise ProjectInvalid({"name": "请填写活动名称。"})
    clash = db.session.scalar(select(SigningEvent).where(SigningEvent.name == name))
    if clash is not None and clash is not event:
        raise ProjectInvalid({"name": f"签约活动“{name}”已存在。"})
    if county_code and (db.session.get(County, county_code) is None):
        raise ProjectInvalid({"county_code": "请选择有效的县区。"})
    created = event is None
    event = event or SigningEvent()
    event.name, event.date, event.place = name, date, (place or "").strip()
    event.organiser, event.county_code, event.notes = (organiser or "").strip(), county_code or None, (notes or "").strip()
    db.session.add(event)
    db.session.flush()
    audit.record("signing_event", event.id, "created" if created else "updated", by, name=name, date=date)
    return event
