"""Reading signing events: the list with each event's visible projects, and a cohort's conversion figures."""
from __future__ import annotations

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import selectinload

from core.auth.models import User
from core.db import db
from projects.models import Project
from projects.queries import visible_projects
from projects.stages import SignType, Stage

from .models import SigningEvent


def cohort_figures(user: User, event_id: int) -> dict:
    """Conversion figures for the projects an event signed (only those the user may see)."""
    scoped = visible_projects(user).where(Project.signing_event_id == event_id).subquery()
    p = scoped.c
    contract = p.signed_as == SignType.CONTRACT.value
    agreement = p.signed_as == SignType.AGREEMENT.value
    row = db.session.execute(select(
        func.count(),
        func.coalesce(func.sum(p.total_investment), 0),
        func.count().filter(contract),
        func.count().filter(and_(contract, p.actual_start.is_not(None))),
        func.count().filter(agreement),
        func.count().filter(and_(agreement, p.contract_date.is_not(None))),
        func.count().filter(p.stage == Stage.PRODUCING.value),
        func.count().filter(p.actual_start.is_not(None)),
        func.count().filter(p.is_capital_increase.is_(True)),
    ).select_from(scoped)).one()
    signed, total, contracts, contracts_started, agreements, converted, producing, started, increases = row

    def rate(part, whole):
        return None if not whole else part / whole

    return {"signed": signed, "total_investment": total, "contracts": contracts, "started": started,
            "contracts_started": contracts_started, "agreements": agreements, "converted": converted,
            "producing": producing, "capital_increases": increases,
            "start_rate": rate(contracts_started, contracts), "conversion_rate": rate(converted, agreements),
            "production_rate": rate(producing, signed)}


def event_choices() -> list[tuple[int, str]]:
    """Every signing event, latest first, as a form's picker shows it."""
    events = db.session.scalars(select(SigningEvent).order_by(SigningEvent.date.desc()))
    return [(e.id, f"{e.date:%Y-%m-%d} {e.name}") for e in events]


def event_or_404(event_id: int) -> SigningEvent:
    return db.get_or_404(SigningEvent, event_id)


def events_latest_first() -> Select:
    return select(SigningEvent).order_by(SigningEvent.date.desc(), SigningEvent.id.desc()) \
        .options(selectinload(SigningEvent.county))


def events_with_county() -> list[SigningEvent]:
    return list(db.session.scalars(events_latest_first()))


def signed_counts(user: User) -> dict[int, int]:
    """Event id → how many of the projects ``user`` may see it signed."""
    return dict(db.session.execute(
        visible_projects(user).where(Project.signing_event_id.is_not(None))
        .with_only_columns(Project.signing_event_id, func.count()).group_by(Project.signing_event_id)).all())


def event_projects(user: User, event_id: int) -> list[Project]:
    return list(db.session.scalars(
        visible_projects(user).where(Project.signing_event_id == event_id)
        .order_by(Project.total_investment.desc()).options(selectinload(Project.county))))
