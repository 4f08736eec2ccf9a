"""API test helpers for a project's items: a token per role, a project in and out of the county, problem checks."""
from __future__ import annotations

from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from projects.models import Project, ProjectEvent
from tests.factories import make_project, make_token, make_user
from tests.projects.web import snapshot

OWN, OTHER = "350404", "350481"  # 三元区 (the county official's), 永安市
ROLES = ("commerce", "county", "leader", "admin")
# Tables every API call writes (the token's last use and its rate-limit count): not what a refused request saved.
TOKEN_TABLES = {"api_token", "api_token_use"}


def people_and_keys() -> tuple[dict, dict]:
    """A user of each role (the county official in 三元区) and a read-write token of each."""
    people = {"commerce": make_user(Role.COMMERCE), "county": make_user(Role.COUNTY, county=OWN),
              "leader": make_user(Role.LEADER), "admin": make_user(Role.ADMIN)}
    return people, {role: make_token(user) for role, user in people.items()}


def own_and_other(by) -> tuple[Project, Project]:
    """A project in the county official's county and one in another county."""
    return (make_project(by, name="三元区氟化工项目", county_code=OWN),
            make_project(by, name="永安石墨烯项目", county_code=OTHER, park_id=None))


def problem_of(response, status: int) -> dict:
    """The problem+json body of an error response, after checking its status and that it speaks Chinese."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body
    return body


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def data_snapshot() -> dict:
    """Every table but the token bookkeeping, as committed now: compare two to prove a request saved nothing."""
    return {name: rows for name, rows in snapshot().items() if name not in TOKEN_TABLES}


def version_of(project_id: int) -> int:
    db.session.rollback()
    return db.session.get(Project, project_id).version


def etag(project_id: int) -> str:
    return f'"{version_of(project_id)}"'


def events_of(project_id: int) -> list[ProjectEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project_id)
                                   .order_by(ProjectEvent.id)))
