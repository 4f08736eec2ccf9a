"""The accounts' tables: roles, counties (current and legacy codes), users, their login sessions and login attempts."""
from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, db, enum_type, utcnow
from core.enums import LabeledEnum

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user does not exist, so unknown names cost as much as wrong passwords.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class Role(LabeledEnum):
    COMMERCE = "commerce", "商务局"
    COUNTY = "county", "县区"
    LEADER = "leader", "领导"
    ADMIN = "admin", "管理员"


class County(db.Model):
    """A county-level division of Sanming; legacy rows point to the division that replaced them."""

    __tablename__ = "county"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    short_name: Mapped[str] = mapped_column(String(20))
    successor_code: Mapped[str | None] = mapped_column(ForeignKey("county.code"))
    seat_lat: Mapped[float | None]
    seat_lon: Mapped[float | None]
    position: Mapped[int] = mapped_column(default=0)
    # The county's outline as a GeoJSON geometry (WGS-84), loaded by `flask seed`; none for a legacy division.
    outline_geojson: Mapped[str | None] = mapped_column(Text)

    successor: Mapped[County | None] = relationship(remote_side=[code])

    @property
    def is_current(self) -> bool:
        return self.successor_code is None

    def __str__(self) -> str:
        return self.name


class User(UserMixin, db.Model):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[Role] = mapped_column(enum_type(Role))
    county_code: Mapped[str | None] = mapped_column(ForeignKey("county.code"))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    county: Mapped[County | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def name_for_display(self) -> str:
        return self.display_name or self.username

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return True

    def may_edit_county(self, county_code: str | None) -> bool:
        if self.role in (Role.COMMERCE, Role.ADMIN):
            return True
        return self.role is Role.COUNTY and county_code is not None and county_code == self.county_code


# Bookkeeping written on every login and (coarsely) every page view: whoever compares the database
# before and after a request to prove it saved nothing leaves these two out.
BOOKKEEPING_TABLES = ("user_session", "login_attempt", "api_token_use")


class SessionEnd(LabeledEnum):
    LOGOUT = "logout", "退出登录"
    IDLE = "idle", "闲置超时"
    ABSOLUTE = "absolute", "超过最长登录时长"
    PASSWORD = "password", "密码已更改"
    DISABLED = "disabled", "账号已停用"


class UserSession(db.Model):
    """One login, held at the server: the session cookie carries only its random key."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the cookie's key: a copy of this table opens no session.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # kept to the minute, see core.auth.sessions
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[SessionEnd | None] = mapped_column(enum_type(SessionEnd))
    address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(120), default="")

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """A login tried with a name and a password, kept for a day for throttling (core.auth.throttle)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_attempted_at", "username", "attempted_at"),
        Index("ix_login_attempt_address_attempted_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed, trimmed and case-folded; may name no account
    address: Mapped[str] = mapped_column(String(45))
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    succeeded: Mapped[bool]


class ApiToken(db.Model):
    """A personal access token for the API (core.auth.tokens): only the SHA-256 of its secret is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret's first characters, shown in lists so its owner can tell which one a script holds.
    prefix: Mapped[str] = mapped_column(String(12))
    read_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    use: Mapped[ApiTokenUse | None] = relationship(lazy="joined", viewonly=True)

    def state(self, now: dt.datetime) -> str:
        """有效, 已过期 or 已撤销 at ``now``, as the account page and `flask tokens list` show it."""
        if self.revoked_at is not None:
            return "已撤销"
        return "有效" if self.expires_at > now else "已过期"


class ApiTokenUse(db.Model):
    """A token's last use and its request count in the current rate-limit window: bookkeeping, one row a token."""

    __tablename__ = "api_token_use"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True)
    last_used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    window_count: Mapped[int] = mapped_column(default=0)


def burn_dummy_hash(password: str) -> None:
    """Spend the time of one verification so a missing account cannot be told apart by timing."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass
