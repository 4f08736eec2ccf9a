"""API test helpers for a project's items: a token per role, a project in and out of the county, problem checks."""
from __future__ import annotations

from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from projects.models import Project, ProjectEvent
from tests.factories import bearer, make_project, make_token, make_user
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


def check_role_access(client, world, operations, operation: str, role: str, writes) -> None:
    """One of a project's item operations as ``role`` (or "county/other": a county official on another county's
    project): the status the pages give that role, the project's ETag on success, nothing saved on a refusal."""
    _, keys, own, other = world
    project = other if role == "county/other" else own
    method, path, body, allowed = operations(project)[operation]
    key = keys["county" if role == "county/other" else role]
    before = data_snapshot()
    response = getattr(client, method)(path, json=body, headers=bearer(key, If_Match=etag(project.id)))
    if role == "county/other":
        assert "永安" not in problem_of(response, 404)["detail"]  # as if it did not exist
    elif role == "leader" and operation in writes:
        problem_of(response, 403)
    else:
        assert response.status_code == allowed, response.get_data(as_text=True)
        assert response.headers["ETag"] == etag(project.id)
        return
    assert data_snapshot() == before
