"""Factories: make_user and friends build real rows through the services, with overrides."""
from __future__ import annotations

import itertools

from core.auth import services as auth_services
from core.auth.models import Role, User
from core.db import db

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def make_user(role: Role | str = Role.COMMERCE, *, username: str | None = None,
              county: str | None = None, password: str = DEFAULT_PASSWORD, **overrides) -> User:
    role = Role(role)
    if role is Role.COUNTY and county is None:
        county = "350404"
    user = auth_services.create_user(username or f"{role.value}{next(_counter)}", role, password,
                                     county=county, **overrides)
    db.session.commit()
    return user
