"""Reading leads: scoped to a user's county, with their response clocks, overdue flags and due follow-ups."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from core import clock
from core.auth.models import Role, User
from core.db import db
from core.errors import NotAllowed
from projects.queries import not_found

from .models import FollowUp, Lead, LeadStatus


def visible_leads(user: User) -> Select:
    """Leads ``user`` may see: a county official only those meant for their county."""
    query = select(Lead)
    if user.role is Role.COUNTY:
        query = query.where(Lead.county_code == user.county_code)
    return query


def get_lead_or_404(lead_id: int, user: User, *, for_edit: bool = False) -> Lead:
    lead = db.session.scalar(visible_leads(user).where(Lead.id == lead_id))
    if lead is None:
        not_found(Lead, lead_id, user)
    if for_edit and not lead.editable_by(user):
        raise NotAllowed("您的账号只能查看，不能修改。")
    return lead


@dataclass(frozen=True)
class LeadClocks:
    """Response deadlines for leads, in days (configurable: LEAD_*_DAYS)."""

    first_response: int = 1
    assess: int = 3
    follow_up: int = 14

    @classmethod
    def from_config(cls, config) -> LeadClocks:
        return cls(first_response=config.get("LEAD_FIRST_RESPONSE_DAYS", 1),
                   assess=config.get("LEAD_ASSESS_DAYS", 3),
                   follow_up=config.get("LEAD_FOLLOW_UP_DAYS", 14))


OVERDUE_LABELS = {
    "first_response": "首次响应超时",
    "assess": "研判超时",
    "follow_up": "跟进间隔超时",
    "next_due": "下一步已到期",
}


def lead_overdue_columns(clocks: LeadClocks, today: dt.date) -> dict:
    """SQL flags, one per clock, that are true when a lead has missed that deadline. A clock of N days from a
    moment on China day D runs through day D+N and is overdue from the local midnight that ends it, like the
    date clocks (a follow-up date, a next step's due date)."""
    any_follow_up = exists(select(FollowUp.id).where(FollowUp.lead_id == Lead.id))
    last_follow_up = select(func.max(FollowUp.date)).where(FollowUp.lead_id == Lead.id).scalar_subquery()
    latest_next_due = (select(FollowUp.next_due).where(FollowUp.lead_id == Lead.id)
                       .order_by(FollowUp.date.desc(), FollowUp.id.desc()).limit(1).scalar_subquery())
    is_new = Lead.status == LeadStatus.NEW
    open_status = Lead.status.in_([LeadStatus.NEW, LeadStatus.ASSESSING, LeadStatus.NEGOTIATING])

    def before_day(days: int) -> dt.datetime:
        return clock.day_start(today - dt.timedelta(days=days))

    return {
        "first_response": and_(is_new, ~any_follow_up, Lead.created_at < before_day(clocks.first_response)),
        "assess": and_(is_new, Lead.created_at < before_day(clocks.assess)),
        # Quiet for too long: neither a follow-up nor the move to 在谈 within the window.
        "follow_up": and_(Lead.status == LeadStatus.NEGOTIATING,
                          Lead.status_changed_at < before_day(clocks.follow_up),
                          or_(last_follow_up.is_(None), last_follow_up < today - dt.timedelta(days=clocks.follow_up))),
        "next_due": and_(open_status, latest_next_due.is_not(None), latest_next_due < today),
    }


def flagged_leads(user: User, clocks: LeadClocks, today: dt.date, *,
                  status: LeadStatus | None = None, overdue_only: bool = False, owner_id: int | None = None,
                  q: str = "", lead_id: int | None = None) -> Select:
    """Rows of (lead, one flag per clock) the user may see, newest first, overdue ones first: the list's query."""
    flags = lead_overdue_columns(clocks, today)
    any_overdue = or_(*flags.values())
    query = visible_leads(user).add_columns(*(flag.label(name) for name, flag in flags.items()))
    if status is not None:
        query = query.where(Lead.status == status)
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    if lead_id is not None:
        query = query.where(Lead.id == lead_id)
    if overdue_only:
        query = query.where(any_overdue)
    if q:
        query = query.where(Lead.investor_name.ilike(_like(q), escape="\\"))
    return query.order_by(case((any_overdue, 0), else_=1), Lead.created_at.desc(), Lead.id.desc()) \
        .options(selectinload(Lead.owner), selectinload(Lead.county), selectinload(Lead.industry))


def overdue_of(row) -> list[str]:
    """The clocks (OVERDUE_LABELS' keys) a row of ``flagged_leads`` has missed."""
    return [name for name in OVERDUE_LABELS if row._mapping[name]]


def leads_with_flags(user: User, clocks: LeadClocks, today: dt.date, *, limit: int | None = None, **filters):
    """Rows of (lead, [overdue labels]) the user may see, newest first, overdue ones first."""
    query = flagged_leads(user, clocks, today, **filters)
    if limit:
        query = query.limit(limit)
    return [(row[0], [OVERDUE_LABELS[name] for name in overdue_of(row)]) for row in db.session.execute(query)]


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"


def follow_ups_due(user: User, today: dt.date, *, within_days: int = 3, owner_id: int | None = None):
    """Open leads whose latest follow-up's next step is due within ``within_days`` (or overdue)."""
    inner = aliased(FollowUp)
    latest = (select(inner.id).where(inner.lead_id == Lead.id)
              .order_by(inner.date.desc(), inner.id.desc()).limit(1).correlate(Lead).scalar_subquery())
    query = (visible_leads(user).join(FollowUp, FollowUp.id == latest).add_columns(FollowUp)
             .where(Lead.status.in_([LeadStatus.NEW, LeadStatus.ASSESSING, LeadStatus.NEGOTIATING]),
                    FollowUp.next_due.is_not(None),
                    FollowUp.next_due <= today + dt.timedelta(days=within_days))
             .order_by(FollowUp.next_due))
    if owner_id is not None:
        query = query.where(Lead.owner_id == owner_id)
    return db.session.execute(query).all()


def owner_choices(user: User, lead: Lead | None = None) -> list[User]:
    """Who may own a lead: enabled commerce, county and admin accounts; a county official sees their county's."""
    owners = list(db.session.scalars(select(User).where(User.is_enabled, User.role.in_(
        [Role.COMMERCE, Role.COUNTY, Role.ADMIN])).order_by(User.role, User.username)))
    if user.role is Role.COUNTY:
        owners = [u for u in owners if u.county_code == user.county_code]
        # Keep the lead's owner (often commerce staff) on offer, or the edit form would silently clear it.
        if lead is not None and lead.owner is not None and lead.owner.is_enabled and lead.owner not in owners:
            owners.insert(0, lead.owner)
    return owners
