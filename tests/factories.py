"""Factories: make_user and friends build real rows through the services, with overrides."""
from __future__ import annotations

import datetime as dt
import itertools

from core import clock
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


def sanming(month: int, day: int, hour: int = 0, minute: int = 0, *, year: int = 2026) -> dt.datetime:
    """A wall-clock moment in Sanming (China time) as the UTC instant the app stores and clock.now() gives."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=clock.LOCAL_TZ).astimezone(dt.UTC)


def seed_project_reference() -> None:
    """Counties, parks, industries and the standard approval item types, idempotently (no commit)."""
    from core.auth.models import County
    from core.auth.services import seed_counties
    from parks.services import seed_reference
    from projects.services import seed_approval_types

    if db.session.get(County, "350404") is None:
        seed_counties()
        seed_reference()
    seed_approval_types()


def make_project(by: User | None = None, **overrides):
    """A valid signed project, created through projects.services.create_project and committed.

    Needs the reference data (the `project_ref` fixture, or `seeded`: approval types are seeded here
    idempotently). ``stage`` may be given as an override (NEGOTIATING or SIGNED)."""
    import datetime as dt
    from decimal import Decimal

    from projects.services import create_project
    from projects.stages import SignType, Stage

    seed_project_reference()
    if by is None:
        by = make_user(Role.COMMERCE)
    n = next(_counter)
    stage = overrides.pop("stage", Stage.SIGNED)
    data = {
        "name": f"测试项目{n}",
        "investor_name": f"测试投资方{n}有限公司",
        "county_code": "350404",
        "sign_type": SignType.CONTRACT,
        "sign_date": dt.date(2025, 3, 1),
        "total_investment": Decimal("10000"),
    }
    data.update(overrides)
    project = create_project(data, by=by, stage=stage)
    db.session.commit()
    return project


def make_lead(by: User | None = None, **overrides):
    """A valid new lead (新线索) logged through projects.services.create_lead and committed.

    Needs the reference data (seeded here idempotently, as make_project does). A
    ``duplicate_reason`` override is passed to create_lead, not stored as a field."""
    from projects.leads.models import LeadSource
    from projects.leads.services import create_lead

    seed_project_reference()
    if by is None:
        by = make_user(Role.COMMERCE)
    n = next(_counter)
    reason = overrides.pop("duplicate_reason", "")
    data = {
        "investor_name": f"测试线索投资方{n}有限公司",
        "county_code": "350404",
        "source": LeadSource.VISIT,
    }
    data.update(overrides)
    lead = create_lead(data, by=by, duplicate_reason=reason)
    db.session.commit()
    return lead


def make_event(by: User | None = None, **overrides):
    """A signing event (签约活动), saved through projects.services.save_signing_event and committed."""
    import datetime as dt

    from projects.events.services import save_signing_event

    seed_project_reference()
    if by is None:
        by = make_user(Role.COMMERCE)
    n = next(_counter)
    data = {"name": f"测试签约活动{n}", "date": dt.date(2025, 6, 18), "place": "福州", "organiser": "福建省人民政府",
            "county_code": None, "notes": ""}
    data.update(overrides)
    event = save_signing_event(None, by=by, **data)
    db.session.commit()
    return event


def park_data(park, **changes) -> dict:
    """A park's editable fields as parks.editing.save_park takes them, with ``changes`` applied."""
    data = {"name": park.name, "county_code": park.county_code, "zone_id": park.zone_id,
            "industry_id": park.industry_id, "kind": park.kind, "description": park.description}
    data.update(changes)
    return data


def rename_park(park, new_name: str, by: User):
    """Rename a park through parks.editing.save_park (the old name becomes a former name), committed."""
    from parks.editing import save_park

    save_park(park, park_data(park, name=new_name), by=by)
    db.session.commit()
    return park


def make_token(user: User, *, read_only: bool = False, name: str = "测试令牌") -> str:
    """A live API token of ``user``, committed; returns its secret."""
    from core.auth.tokens import create_token

    _, secret = create_token(user, name, read_only=read_only)
    db.session.commit()
    return secret


def bearer(secret: str, **headers) -> dict:
    """Request headers that sign an API call in with ``secret`` (plus any others, e.g. If-Match)."""
    return {"Authorization": f"Bearer {secret}", **{name.replace("_", "-"): value for name, value in headers.items()}}
