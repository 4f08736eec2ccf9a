"""Role guard and admin user page tests: who may enter, creating, disabling and re-enabling accounts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.auth.models import Role, User
from core.db import db
from tests.conftest import csrf_token_from
from tests.factories import make_user

from .helpers import flashes, is_logged_in, login, path_of

NEW_PASSWORD = "new-user-password"


@pytest.fixture
def admin(client, counties):
    user = make_user(Role.ADMIN, username="root_admin")
    login(client, user)
    return user


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def audit_rows(action: str, user: User) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "user", AuditEntry.action == action, AuditEntry.entity_id == str(user.id))))


def create_form(**overrides) -> dict:
    form = {"username": "wang_wei", "display_name": "王伟", "role": "county", "county": "350404",
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    form.update(overrides)
    return form


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert path_of(response) == "/login"


@pytest.mark.parametrize("role", [Role.COMMERCE, Role.COUNTY, Role.LEADER])
def test_other_roles_are_refused(client, counties, role):
    login(client, make_user(role))
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users", data=create_form()).status_code == 403
    assert client.post(f"/admin/users/{make_user(username='victim').id}/disable").status_code == 403
    assert db.session.scalar(select(User.is_enabled).where(User.username == "victim")) is True
    assert user_count() == 2


def test_admin_sees_every_account(client, admin):
    make_user(Role.LEADER, username="leader_li", display_name="李市长")
    make_user(Role.COUNTY, username="county_sx", county="350405")
    response = client.get("/admin/users")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "用户管理" in html
    for text in ("root_admin", "leader_li", "李市长", "county_sx", "沙县区", "领导", "县区"):
        assert text in html


def test_admin_creates_a_county_user(client, admin):
    response = client.post("/admin/users", data=create_form())
    assert response.status_code == 302 and path_of(response) == "/admin/users"
    user = db.session.scalar(select(User).where(User.username == "wang_wei"))
    assert (user.role, user.county_code, user.display_name) == (Role.COUNTY, "350404", "王伟")
    assert user.check_password(NEW_PASSWORD)
    [entry] = audit_rows("user_created", user)
    assert entry.user_id == admin.id
    assert "已创建用户“wang_wei”。" in flashes(client.get("/admin/users"), "success")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"county": ""}, "县区用户必须指定所属县区。"),
    ({"role": "commerce"}, "只有县区用户才能绑定县区。"),
    ({"password": "short", "confirm": "short"}, "密码至少需要 10 个字符。"),
    ({"confirm": "something-else"}, "两次输入的密码不一致。"),
    ({"username": "x"}, "用户名须为 2–64 个字符"),
])
def test_invalid_user_is_not_created(client, admin, overrides, message):
    before = user_count()
    response = client.post("/admin/users", data=create_form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert user_count() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.user_id == admin.id)) == 0


def test_duplicate_username_is_rejected(client, admin):
    make_user(Role.LEADER, username="wang_wei")
    before = user_count()
    response = client.post("/admin/users", data=create_form())
    assert response.status_code == 400
    assert "用户名“wang_wei”已被使用。" in flashes(response)
    assert user_count() == before
    assert db.session.scalar(select(User.role).where(User.username == "wang_wei")) is Role.LEADER


def test_admin_disables_and_reenables_a_user(app, client, admin):
    user = make_user(Role.COMMERCE, username="zhang")
    their_client = app.test_client()
    login(their_client, user)

    response = client.post(f"/admin/users/{user.id}/disable")
    assert response.status_code == 302 and path_of(response) == "/admin/users"
    db.session.refresh(user)
    assert not user.is_enabled
    assert not is_logged_in(their_client)  # their open session ended
    assert "已停用" in client.get("/admin/users").get_data(as_text=True)
    [entry] = audit_rows("user_disabled", user)
    assert entry.user_id == admin.id

    client.post(f"/admin/users/{user.id}/enable")
    db.session.refresh(user)
    assert user.is_enabled
    [entry] = audit_rows("user_enabled", user)
    assert entry.user_id == admin.id
    assert login(their_client, user).status_code == 302


def test_admin_cannot_disable_themself(client, admin):
    response = client.post(f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert "不能停用自己的账号。" in flashes(response)
    db.session.refresh(admin)
    assert admin.is_enabled
    assert audit_rows("user_disabled", admin) == []
    assert is_logged_in(client)


def test_unknown_user_id_is_404(client, admin):
    assert client.post("/admin/users/999999/disable").status_code == 404


def test_admin_forms_need_the_csrf_token(client, admin, csrf_on):
    user = make_user(username="zhang")
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 400
    assert client.post("/admin/users", data=create_form()).status_code == 400
    db.session.refresh(user)
    assert user.is_enabled
    assert db.session.scalar(select(User).where(User.username == "wang_wei")) is None

    token = csrf_token_from(client.get("/admin/users").get_data(as_text=True))
    assert client.post("/admin/users", data=create_form(csrf_token=token)).status_code == 302
    assert client.post(f"/admin/users/{user.id}/disable", data={"csrf_token": token}).status_code == 302
    db.session.refresh(user)
    assert not user.is_enabled
