"""Server-side login sessions, one per login: started, checked, kept alive and ended here."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, flash, g, redirect, request, session
from flask_login import current_user, login_url, logout_user
from sqlalchemy import delete, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core import clock, logs
from core.db import db, side_transaction
from core.extensions import login_manager

from .models import SessionEnd, User, UserSession

SESSION_KEY = "_login_key"  # the Flask session's field holding this login's key
EXPIRED = "会话已过期，请重新登录。"
# last_seen_at is written at most this often: one small write a minute per active user, not one a page.
TOUCH_EVERY = dt.timedelta(minutes=1)
# Ended and expired sessions are kept this long (who was logged in when), then deleted at a login.
KEEP_FOR = dt.timedelta(days=30)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def idle_limit() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def absolute_limit() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])


def start(user: User) -> None:
    """Open a server-side session for ``user`` and put its key in the Flask session (cleared first
    by the caller, so nothing from before the login is carried over)."""
    key = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(UserSession(token_hash=_digest(key), user_id=user.id, created_at=now, last_seen_at=now,
                               address=(request.remote_addr or "")[:45],
                               user_agent=request.user_agent.string[:120]))
    db.session.flush()
    session[SESSION_KEY] = key


def end_current(reason: SessionEnd) -> None:
    """End the session of this request's cookie (and no other)."""
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        db.session.execute(_ending(reason).where(UserSession.token_hash == _digest(key)))


def end_all(user: User, reason: SessionEnd) -> int:
    """End every open session of ``user``; returns how many there were."""
    return db.session.execute(_ending(reason).where(UserSession.user_id == user.id)).rowcount


def _ending(reason: SessionEnd):
    return (update(UserSession).where(UserSession.ended_at.is_(None))
            .values(ended_at=clock.now(), end_reason=reason).execution_options(synchronize_session=False))


def prune() -> None:
    """Delete sessions begun more than KEEP_FOR ago (by then ended or expired): keeps the table bounded."""
    cutoff = clock.now() - max(KEEP_FOR, absolute_limit())
    db.session.execute(delete(UserSession).where(UserSession.created_at < cutoff))


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of this cookie's live server-side session, or None.

    The session row is read, touched or ended on a connection of its own (core.db.side_transaction)
    before the request's session opens a transaction; that is why enforce() loads the user first
    thing. On SQLite a page view's transaction is a deferred read: writing last_seen_at inside it
    could fail at once with "database is locked" when another worker wrote in between. Touching it
    at most once a minute (TOUCH_EVERY) keeps those writes rare; the idle limit is therefore
    measured to within a minute.
    """
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or not user_id.isdigit():
        return None
    with side_transaction(write=False) as connection:
        row = connection.execute(
            select(UserSession.id.label("session_id"), UserSession.created_at.label("session_created_at"),
                   UserSession.last_seen_at, UserSession.ended_at, *User.__table__.c)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == _digest(key))).one_or_none()
    if row is None or row.id != int(user_id) or row.ended_at is not None:
        return None
    now = clock.now()
    reason = None
    if not row.is_enabled:  # disabled by a plain UPDATE, without disable_user ending its sessions
        reason = SessionEnd.DISABLED
    elif now - row.session_created_at >= absolute_limit():
        reason = SessionEnd.ABSOLUTE
    elif now - row.last_seen_at >= idle_limit():
        reason = SessionEnd.IDLE
    if reason is not None:
        with side_transaction(write=True) as connection:
            connection.execute(_ending(reason).where(UserSession.id == row.session_id))
        if reason is not SessionEnd.DISABLED:
            g.login_expired = True
            logs.event("session_expired", "ended", user=row, reason=reason.value)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        with side_transaction(write=True) as connection:
            connection.execute(update(UserSession).where(UserSession.id == row.session_id,
                                                         UserSession.last_seen_at <= now - TOUCH_EVERY)
                               .values(last_seen_at=now))
    return _attached(row)


def _attached(row) -> User:
    """The row's user in the request's session, as if the session had loaded it: one query a request, not two."""
    known = db.session.identity_map.get(db.session.identity_key(User, row.id))
    if known is not None:
        return known
    user = User.__mapper__.class_manager.new_instance()
    for attribute in User.__mapper__.column_attrs:
        set_committed_value(user, attribute.key, row._mapping[attribute.columns[0]])
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def enforce():
    """Before every view: check the login now, forget a dead one, and send an expired one to the login page."""
    if request.endpoint == "static" or (request.endpoint or "").endswith(".static"):
        return None  # stylesheets and scripts: no user, no query
    if "_user_id" not in session or current_user.is_authenticated:
        return None
    expired = g.pop("login_expired", False)
    logout_user()  # a dead session's ids leave the cookie (and Flask-Login clears any remember cookie)
    session.pop(SESSION_KEY, None)
    if not expired or (request.endpoint == login_manager.login_view and request.method == "POST"):
        return None
    flash(EXPIRED, "warning")
    if request.endpoint == login_manager.login_view:
        return None
    return redirect(login_url(login_manager.login_view, request.url if request.method == "GET" else None))
