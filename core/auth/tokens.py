"""API personal access tokens: made (shown once), revoked, checked on each API call, and rate-limited per token.

A token is ``sm_`` + 32 random bytes in URL-safe base64; the database keeps its SHA-256 only, so a copy of the table
opens nothing. Every call counts against its token's window in the database (one UPDATE on a row of its own, so
every gunicorn worker sees the same count, as with login throttling); a call past the limit is refused with 429.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from core import audit, clock
from core.db import db, side_transaction
from core.errors import InvalidInput, NotAllowed
from core.inputs import clean_text

from .models import ApiToken, ApiTokenUse, Role, User

PREFIX = "sm_"


class TokenRefused(InvalidInput):
    """A token that cannot be made as asked (a bad name or life)."""


@dataclass(frozen=True)
class Caller:
    """Who an API call comes from: the token's user, and whether the token may write."""

    user: User
    token_id: int
    read_only: bool


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_manage(by: User, owner: User) -> bool:
    """A user keeps their own tokens; an administrator also those of other accounts (service accounts)."""
    return by.id == owner.id or by.role is Role.ADMIN


def create_token(owner: User, name: str, *, read_only: bool = False, days: int | None = None,
                 by: User | None = None) -> tuple[ApiToken, str]:
    """Make a token for ``owner``; returns the row and the secret, which is shown once and never stored."""
    if by is not None and not may_manage(by, owner):
        raise NotAllowed("只能为自己的账号创建令牌。")
    if not owner.is_enabled:
        raise TokenRefused("该账号已停用，不能创建令牌。")
    try:
        name = clean_text(name or "", "令牌名称").strip()
    except ValueError as problem:
        raise TokenRefused(str(problem), errors={"name": str(problem)}) from None
    if not 1 <= len(name) <= 64:
        raise TokenRefused("令牌名称须为 1–64 个字符。", errors={"name": "令牌名称须为 1–64 个字符。"})
    longest = current_app.config["API_TOKEN_MAX_DAYS"]
    days = current_app.config["API_TOKEN_DAYS"] if days is None else days
    if not 1 <= days <= longest:
        message = f"有效期须为 1–{longest} 天。"
        raise TokenRefused(message, errors={"days": message})
    secret = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(user_id=owner.id, name=name, token_hash=digest(secret), prefix=secret[:10],
                     read_only=read_only, created_at=now, expires_at=now + dt.timedelta(days=days),
                     created_by_id=by.id if by is not None else None)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token", token.id, "create", by=by, owner=owner.username, name=name, read_only=read_only,
                 days=days)
    return token, secret


def revoke_token(token: ApiToken, *, by: User | None = None) -> bool:
    """End ``token`` now; False when it had already ended (revoked before)."""
    if by is not None and not may_manage(by, token.user):
        raise NotAllowed("只能撤销自己的令牌。")
    if token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    db.session.flush()
    audit.record("api_token", token.id, "revoke", by=by, owner=token.user.username, name=token.name)
    return True


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, ended ones included (kept to show when they ended)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id.desc())))


def token_or_none(token_id: int) -> ApiToken | None:
    return db.session.get(ApiToken, token_id)


def rate_window() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["API_RATE_WINDOW_SECONDS"])


def authenticate(secret: str) -> tuple[Caller | None, int]:
    """The caller behind ``secret``, and the seconds to wait when it is over its rate limit (else 0).

    None for an unknown, revoked or expired token, or a disabled user's. Runs on a connection of its own before
    the request opens its transaction (as the login session check does), so the count holds whatever the call
    does next.
    """
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None, 0
    now = clock.now()
    with side_transaction(write=False) as connection:
        row = connection.execute(
            select(ApiToken.id, ApiToken.read_only, ApiToken.user_id, User.is_enabled)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None),
                   ApiToken.expires_at > now)).one_or_none()
    if row is None or not row.is_enabled:
        return None, 0
    count, started = _count_call(row.id, now)
    wait = 0
    if count > current_app.config["API_RATE_LIMIT"]:
        wait = max(1, int((started + rate_window() - now).total_seconds() + 0.999))
    user = db.session.get(User, row.user_id)
    return Caller(user=user, token_id=row.id, read_only=row.read_only), wait


def _count_call(token_id: int, now: dt.datetime) -> tuple[int, dt.datetime]:
    """Count one call in the token's window (a new window once the last has run out); returns (count, start)."""
    fresh_before = now - rate_window()
    with side_transaction(write=True) as connection:
        same_window = (update(ApiTokenUse).where(ApiTokenUse.token_id == token_id,
                                                 ApiTokenUse.window_start > fresh_before)
                       .values(window_count=ApiTokenUse.window_count + 1, last_used_at=now)
                       .returning(ApiTokenUse.window_count, ApiTokenUse.window_start))
        counted = connection.execute(same_window).one_or_none()
        if counted is not None:
            return counted.window_count, counted.window_start
        restarted = connection.execute(
            update(ApiTokenUse).where(ApiTokenUse.token_id == token_id)
            .values(window_count=1, window_start=now, last_used_at=now).returning(ApiTokenUse.window_count)
        ).one_or_none()
        if restarted is None:
            try:
                with connection.begin_nested():
                    connection.execute(insert(ApiTokenUse).values(token_id=token_id, last_used_at=now,
                                                                  window_start=now, window_count=1))
            except IntegrityError:  # another worker made the row a moment ago: count in it
                return connection.execute(same_window).one()
    return 1, now
