"""Writing accounts: create, disable and re-key user accounts, ending their sessions (flush, never commit)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from core import audit, logs
from core.db import db
from core.errors import InvalidInput
from core.inputs import clean_text

from . import sessions
from .models import County, Role, SessionEnd, User
from .queries import resolve_county, user_by_username
from .reference_data import CURRENT_COUNTIES, LEGACY_COUNTIES, OUTLINES_FILE

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,64}$")
MIN_PASSWORD_LENGTH = 10


class AccountRefused(InvalidInput):
    """A user-account change that cannot be made; the message is for the user, in Chinese."""


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountRefused(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。")


def create_user(username: str, role: Role | str, password: str, *, county: str | None = None,
                display_name: str = "", by: User | None = None) -> User:
    username = (username or "").strip()
    if not USERNAME_RE.fullmatch(username):  # fullmatch: "$" would let a trailing newline through
        raise AccountRefused("用户名须为 2–64 个字符，只能包含字母、数字、汉字、下划线、点或连字符。")
    if user_by_username(username) is not None:
        raise AccountRefused(f"用户名“{username}”已被使用。")
    try:
        role = Role(role)
    except ValueError:
        raise AccountRefused("未知的角色。") from None
    county_code = None
    if role is Role.COUNTY:
        resolved = resolve_county(county)
        if resolved is None:
            raise AccountRefused(f"未知的县区代码或名称：“{county or ''}”。" if county else "县区用户必须指定所属县区。")
        county_code = resolved.code
    elif county:
        raise AccountRefused("只有县区用户才能绑定县区。")
    check_password_strength(password)
    try:  # the CLI passes the name as typed; the form's own filter has already checked it
        display_name = clean_text(display_name or "", "姓名").strip()
    except ValueError as exc:
        raise AccountRefused(str(exc)) from None
    if len(display_name) > 64:
        raise AccountRefused("姓名不能超过 64 个字符。")
    user = User(username=username, role=role, county_code=county_code, display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    _log("user created", user, by, role=role.value, county=county_code)
    return user


def set_password(user: User, password: str, *, by: User | None = None) -> None:
    check_password_strength(password)
    user.set_password(password)
    ended = sessions.end_all(user, SessionEnd.PASSWORD)
    db.session.flush()
    _log("password changed", user, by, sessions_ended=ended)


def disable_user(user: User, *, by: User | None = None) -> None:
    if by is not None and by.id == user.id:
        raise AccountRefused("不能停用自己的账号。")
    user.is_enabled = False
    ended = sessions.end_all(user, SessionEnd.DISABLED)
    db.session.flush()
    _log("user disabled", user, by, sessions_ended=ended)


def enable_user(user: User, *, by: User | None = None) -> None:
    user.is_enabled = True
    db.session.flush()
    _log("user enabled", user, by)


def _log(what: str, user: User, by: User | None, *, sessions_ended: int | None = None, **extra) -> None:
    action = what.replace(" ", "_")
    audit.record("user", user.id, action, by, username=user.username, **extra)
    fields = {f"target_{name}": value for name, value in extra.items()}  # "role", "county" are the actor's
    if sessions_ended is not None:
        fields["sessions_ended"] = sessions_ended
    logs.event(action, target=user.username, by=by.username if by else "cli", **fields)


def seed_counties() -> int:
    """Insert or refresh the counties; returns how many rows were added."""
    added = 0
    outlines = county_outlines()
    # Current divisions first: legacy rows point at them.
    for position, row in enumerate(CURRENT_COUNTIES + LEGACY_COUNTIES):
        code, name, short_name, successor, lat, lon = row
        county = db.session.get(County, code)
        if county is None:
            county = County(code=code)
            db.session.add(county)
            added += 1
        county.name, county.short_name, county.successor_code = name, short_name, successor
        county.seat_lat, county.seat_lon, county.position = lat, lon, position
        county.outline_geojson = outlines.get(code)
        db.session.flush()
    return added


def county_outlines() -> dict[str, str]:
    """The current counties' outlines from the committed file: code → GeoJSON geometry text (WGS-84)."""
    collection = json.loads((Path(__file__).parent / OUTLINES_FILE).read_text(encoding="utf-8"))
    return {feature["properties"]["code"]: json.dumps(feature["geometry"], separators=(",", ":"))
            for feature in collection["features"] if feature["properties"]["level"] == "county"}
