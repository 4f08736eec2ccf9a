"""Login throttling: failed logins counted in the database, per account and per address, so
that every gunicorn worker sees the same counts.

Within LOGIN_THROTTLE_MINUTES, LOGIN_MAX_FAILURES_PER_ACCOUNT failures for one name (an unknown
name too: the refusal must not tell which accounts exist) or LOGIN_MAX_FAILURES_PER_ADDRESS from
one address refuse further logins before any password is hashed. A refused attempt is not
recorded, so the refusal lifts once the failures age out of the window and a flood of refused
attempts writes nothing. A successful login restarts its account's count (a user who mistyped a
few times is not left one typo from the limit) but never its address's: one valid account must
not let an address keep guessing at the others. Concurrent attempts in different workers may
overshoot a limit by the few that were counted at the same moment.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import delete, func, select

from core import clock
from core.db import db

from .models import LoginAttempt

KEEP_FOR = dt.timedelta(days=1)  # attempts older than this (or than the window) are deleted at each login


def window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["LOGIN_THROTTLE_MINUTES"])


def normalise(username: str) -> str:
    """One count per account however its name is typed: trimmed, case-folded, at most 64 characters."""
    return username.strip().casefold()[:64]


def refusal(username: str, address: str) -> str | None:
    """Why a login for ``username`` from ``address`` is refused unheard ("account" or "address"), or None."""
    config = current_app.config
    since = clock.now() - window()
    failures = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since)
    if db.session.scalar(failures.where(LoginAttempt.address == address)) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return "address"
    name = normalise(username)
    # By id, not time: failures after the account's latest success, even within the same second.
    last_success = db.session.scalar(select(func.max(LoginAttempt.id)).where(
        LoginAttempt.username == name, LoginAttempt.succeeded.is_(True)))
    by_account = failures.where(LoginAttempt.username == name, LoginAttempt.id > (last_success or 0))
    if db.session.scalar(by_account) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return "account"
    return None


def record(username: str, address: str, *, succeeded: bool) -> None:
    """Count one heard attempt, and forget attempts too old to count (the table stays a day's worth)."""
    now = clock.now()
    db.session.add(LoginAttempt(username=normalise(username), address=address[:45], attempted_at=now,
                                succeeded=succeeded))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - max(KEEP_FOR, window())))
    db.session.flush()
