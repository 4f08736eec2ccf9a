"""Reading accounts and counties: users by name or id, counties by name or code (old and new), a user's county choices."""
from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.inputs import has_control_characters

from .models import County, Role, User


def current_counties_select():
    return select(County).where(County.successor_code.is_(None)).order_by(County.position, County.code)


def current_counties() -> list[County]:
    return list(db.session.scalars(current_counties_select()))


def counties_for(user: User) -> list[County]:
    """The counties a user may pick: a county official only their own."""
    counties = current_counties()
    if user.role is Role.COUNTY:
        counties = [c for c in counties if c.code == user.county_code]
    return counties


def user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def users_in_order() -> list[User]:
    """Every account, enabled first, by role and name (the administrators' user list)."""
    return list(db.session.scalars(select(User).order_by(User.is_enabled.desc(), User.role, User.username)))


def user_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)


def resolve_county(text: str | None) -> County | None:
    """The current county meant by a code or a name, including pre-2021 ones (梅列区 → 三元区)."""
    key = "".join((text or "").split())
    if not key or has_control_characters(key):  # a NUL reaching PostgreSQL is a 500, and names no county anyway
        return None
    county = db.session.get(County, key) if key.isdigit() else None
    if county is None:
        rows = db.session.scalars(
            select(County).where((County.name == key) | (County.short_name == key))
            # Prefer a current county when an old and a new one share a name (三元区).
            .order_by(County.successor_code.is_not(None))
        )
        county = next(iter(rows), None)
    while county is not None and county.successor is not None:
        county = county.successor
    return county
