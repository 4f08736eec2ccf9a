"""API tokens: made on the account page (the secret shown once, only its SHA-256 kept), revoked, expired, a disabled
user's refused, read-only tokens refused writes, last use recorded, who sees whose tokens, and the rate limit."""
from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import select, update

from core import clock
from core.audit import AuditEntry
from core.auth.models import BOOKKEEPING_TABLES, ApiToken, ApiTokenUse, Role, User
from core.db import db
from projects.models import Project
from tests.factories import bearer, make_project, make_token, make_user
from tests.projects.web import changed_tables, new_client, snapshot

from .helpers import flashes, path_of

SECRET_RE = re.compile(r'id="token-secret">(sm_[A-Za-z0-9_-]+)<')
LIST = "/api/v1/projects"


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body
    return body


def refused(client, secret: str) -> None:
    """The call is 401 problem+json asking for a bearer token, as for no token at all."""
    response = client.get(LIST, headers=bearer(secret))
    problem_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def created(response) -> str:
    """The secret shown on the page that made a token."""
    assert response.status_code == 200, response.get_data(as_text=True)
    found = SECRET_RE.findall(response.get_data(as_text=True))
    assert len(found) == 1, "the new token's secret is shown exactly once"
    return found[0]


def token_named(name: str) -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).where(ApiToken.name == name))


@pytest.fixture
def commerce(counties):
    return make_user(Role.COMMERCE, display_name="王科长")


@pytest.fixture
def admin(counties):
    return make_user(Role.ADMIN)


def test_the_account_page_shows_who_the_user_is_and_links_from_every_page(app, counties):
    official = make_user(Role.COUNTY, county="350404", display_name="李干事")
    client = new_client(app, official)
    page = client.get("/account").get_data(as_text=True)
    for text in (official.username, "李干事", "县区", "三元区", "还没有令牌", 'name="days"', 'value="90"'):
        assert text in page, text
    home = client.get("/").get_data(as_text=True)
    assert 'id="account-link" href="/account"' in home
    footer = home[home.index('<footer'):]
    assert 'href="/help' in footer and 'href="/api/v1/docs"' in footer


def test_a_new_tokens_secret_is_shown_once_and_only_its_sha256_is_kept(app, commerce):
    client = new_client(app, commerce)
    secret = created(client.post("/account", data={"name": "数据共享平台", "days": "30"}))
    token = token_named("数据共享平台")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and len(token.prefix) < 12
    assert not token.read_only and token.user_id == commerce.id and token.created_by_id == commerce.id
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    stored = repr(snapshot())
    assert secret not in stored and secret[len(token.prefix):] not in stored
    # Never again: not on the next page, not in the session cookie (no flash carries it).
    again = client.get("/account").get_data(as_text=True)
    assert secret not in again and token.prefix in again and "数据共享平台" in again
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert secret not in repr(app.session_interface.get_signing_serializer(app).loads(cookie.value))
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "api_token"))
    assert (audit.action, audit.entity_id, audit.user_id) == ("create", str(token.id), commerce.id)


def test_a_token_made_on_the_page_opens_the_api_and_its_last_use_is_shown(app, client, commerce):
    owner = new_client(app, commerce)
    secret = created(owner.post("/account", data={"name": "BI 报表", "read_only": "y", "days": "7"}))
    assert ">从未<" in owner.get("/account").get_data(as_text=True)
    response = client.get(LIST, headers=bearer(secret))
    assert response.status_code == 200 and response.get_json()["items"] == []
    token = token_named("BI 报表")
    assert token.read_only and token.use is not None
    assert abs(token.use.last_used_at - clock.now()) < dt.timedelta(minutes=1)
    assert clock.format_time(token.use.last_used_at) in owner.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "days": "30"}, "name", "请输入令牌名称。"),
    ({"name": "x" * 65, "days": "30"}, "name", "不能超过 64 个字符"),
    ({"name": "脚本", "days": "366"}, "days", "有效期须为 1–365 天。"),
    ({"name": "脚本", "days": "0"}, "days", "有效期须为 1–365 天。"),
    ({"name": "脚本", "days": "三十"}, "days", "整数"),
    ({"name": "脚本", "days": "9" * 30}, "days", "有效期须为 1–365 天。"),
])
def test_a_refused_token_shows_why_and_saves_nothing(app, commerce, data, field, message):
    client = new_client(app, commerce)
    before = snapshot()
    response = client.post("/account", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="token-secret"' not in page
    assert re.search(rf'id="{field}"[^>]*is-invalid|is-invalid[^>]*id="{field}"', page), field
    assert set(changed_tables(before, snapshot())) <= set(BOOKKEEPING_TABLES)


@pytest.mark.parametrize("role", [Role.LEADER, Role.COUNTY, Role.ADMIN])
def test_every_role_keeps_tokens_of_either_kind(app, counties, role):
    client = new_client(app, make_user(role))
    read_write = created(client.post("/account", data={"name": "读写", "days": "5"}))
    read_only = created(client.post("/account", data={"name": "只读", "read_only": "y", "days": "5"}))
    assert (token_named("读写").read_only, token_named("只读").read_only) == (False, True)
    for secret in (read_write, read_only):
        assert client.get(LIST, headers=bearer(secret)).status_code == 200


def test_an_expired_token_is_401(app, client, commerce, freeze):
    secret = make_token(commerce)
    assert client.get(LIST, headers=bearer(secret)).status_code == 200
    freeze(clock.now() + dt.timedelta(days=app.config["API_TOKEN_DAYS"], seconds=1))
    refused(client, secret)
    assert "已过期" in new_client(app, commerce).get("/account").get_data(as_text=True)


def test_a_token_past_its_expiry_in_the_database_is_401(client, commerce):
    secret = make_token(commerce)
    db.session.execute(update(ApiToken).values(expires_at=clock.now() - dt.timedelta(seconds=1)))
    db.session.commit()
    refused(client, secret)


def test_a_token_revoked_on_the_account_page_is_401_and_audited(app, client, commerce):
    secret = make_token(commerce, name="旧脚本")
    token = token_named("旧脚本")
    owner = new_client(app, commerce)
    page = owner.get("/account").get_data(as_text=True)
    assert 'data-confirm="确定撤销令牌“旧脚本”' in page and f'name="token_id" value="{token.id}"' in page
    response = owner.post("/account/tokens/revoke", data={"token_id": str(token.id)})
    assert path_of(response) == "/account"
    page = owner.get("/account").get_data(as_text=True)
    assert "已撤销令牌“旧脚本”。" in flashes_of(page, "success") and "已撤销" in page
    assert token_named("旧脚本").revoked_at is not None
    refused(client, secret)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "api_token",
                                                       AuditEntry.action == "revoke"))
    assert audit.entity_id == str(token.id) and audit.user_id == commerce.id


def flashes_of(page: str, category: str) -> str:
    return " ".join(re.findall(rf'<div class="alert alert-{category}" role="alert">(.*?)</div>', page, re.S))


def test_a_disabled_users_token_is_401_however_the_account_was_disabled(app, client, admin):
    by_page, by_cli, by_update = (make_user(Role.COMMERCE, username=name) for name in ("svc_page", "svc_cli", "svc_sql"))
    secrets_ = {user.username: make_token(user) for user in (by_page, by_cli, by_update)}
    for secret in secrets_.values():
        assert client.get(LIST, headers=bearer(secret)).status_code == 200
    assert new_client(app, admin).post(f"/admin/users/{by_page.id}/disable").status_code == 302
    assert app.test_cli_runner().invoke(args=["users", "disable", "svc_cli"]).exit_code == 0
    db.session.execute(update(User).where(User.id == by_update.id).values(is_enabled=False))
    db.session.commit()
    for secret in secrets_.values():
        refused(client, secret)


def test_a_read_only_token_gets_403_on_writes_and_writes_nothing(client, project_ref):
    commerce = make_user(Role.COMMERCE)
    project = make_project(commerce)
    secret = make_token(commerce, read_only=True)
    before = snapshot()
    body = {"name": "只读令牌的项目", "investor_name": "某公司", "total_investment": 100, "county_code": "350404",
            "sign_type": "contract", "sign_date": "2025-01-01"}
    assert "只读" in problem_of(client.post(LIST, json=body, headers=bearer(secret)), 403)["detail"]
    problem_of(client.patch(f"{LIST}/{project.id}", json={"notes": "只读令牌改的"},
                            headers=bearer(secret, If_Match='"1"')), 403)
    problem_of(client.post(f"{LIST}/{project.id}/stage", json={"to_stage": "paused"},
                           headers=bearer(secret, If_Match='"1"')), 403)
    assert changed_tables(before, snapshot()) == ["api_token_use"]  # the calls are counted, nothing else
    assert db.session.get(Project, project.id).notes == ""
    assert client.get(f"{LIST}/{project.id}", headers=bearer(secret)).status_code == 200


def test_users_never_see_or_revoke_each_others_tokens(app, client, counties):
    alice, bob = make_user(Role.COMMERCE, username="alice"), make_user(Role.ADMIN, username="bob")
    make_token(alice, name="甲的令牌")
    bobs_secret = make_token(bob, name="乙的令牌")
    bobs = token_named("乙的令牌")
    as_alice = new_client(app, alice)
    page = as_alice.get("/account").get_data(as_text=True)
    assert "甲的令牌" in page and "乙的令牌" not in page and bobs.prefix not in page
    assert as_alice.post("/account/tokens/revoke", data={"token_id": str(bobs.id)}).status_code == 404
    assert as_alice.post("/account/tokens/revoke", data={"token_id": "999999"}).status_code == 404
    for url in (f"/admin/users/{bob.id}/tokens", f"/admin/users/{alice.id}/tokens"):
        assert as_alice.get(url).status_code == 403
        assert as_alice.post(url, data={"name": "冒名令牌", "days": "5"}).status_code == 403
        assert as_alice.post(url + "/revoke", data={"token_id": str(bobs.id)}).status_code == 403
    # An administrator too revokes only their own on their own page: another account's goes by the admin page.
    as_bob = new_client(app, bob)
    alices = token_named("甲的令牌")
    assert as_bob.post("/account/tokens/revoke", data={"token_id": str(alices.id)}).status_code == 404
    assert "甲的令牌" not in as_bob.get("/account").get_data(as_text=True)
    assert token_named("甲的令牌").revoked_at is None and token_named("乙的令牌").revoked_at is None
    assert client.get(LIST, headers=bearer(bobs_secret)).status_code == 200
    assert token_named("冒名令牌") is None


def test_an_admin_makes_and_revokes_tokens_for_any_account(app, client, admin):
    service = make_user(Role.COMMERCE, username="svc_bi", display_name="BI 服务账号")
    other = make_user(Role.COMMERCE, username="someone")
    make_token(other, name="别人的令牌")
    as_admin = new_client(app, admin)
    users_page = as_admin.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{service.id}/tokens"' in users_page
    page = as_admin.get(f"/admin/users/{service.id}/tokens").get_data(as_text=True)
    assert "svc_bi" in page and "还没有令牌" in page and "别人的令牌" not in page
    secret = created(as_admin.post(f"/admin/users/{service.id}/tokens",
                                   data={"name": "BI 同步", "read_only": "y", "days": "365"}))
    token = token_named("BI 同步")
    assert (token.user_id, token.created_by_id, token.read_only) == (service.id, admin.id, True)
    assert client.get(LIST, headers=bearer(secret)).status_code == 200
    assert f"由 {admin.name_for_display} 创建" in as_admin.get(f"/admin/users/{service.id}/tokens").get_data(as_text=True)
    # The admin page revokes only the account's own tokens: another's id there is 404.
    others = token_named("别人的令牌")
    assert as_admin.post(f"/admin/users/{service.id}/tokens/revoke",
                         data={"token_id": str(others.id)}).status_code == 404
    response = as_admin.post(f"/admin/users/{service.id}/tokens/revoke", data={"token_id": str(token.id)})
    assert path_of(response) == f"/admin/users/{service.id}/tokens"
    refused(client, secret)
    assert token_named("别人的令牌").revoked_at is None
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.user_id).where(
        AuditEntry.entity == "api_token", AuditEntry.entity_id == str(token.id)).order_by(AuditEntry.id)).all()
    assert [tuple(row) for row in actions] == [("create", admin.id), ("revoke", admin.id)]
    assert as_admin.get("/admin/users/999999/tokens").status_code == 404


def test_an_admin_cannot_make_a_token_for_a_disabled_account(app, admin):
    dormant = make_user(Role.COMMERCE)
    dormant.is_enabled = False
    db.session.commit()
    response = new_client(app, admin).post(f"/admin/users/{dormant.id}/tokens", data={"name": "停用账号", "days": "5"})
    assert response.status_code == 400 and "该账号已停用，不能创建令牌。" in flashes(response)
    assert token_named("停用账号") is None


def test_a_revoke_without_a_token_id_changes_nothing(app, commerce):
    make_token(commerce, name="留着")
    response = new_client(app, commerce).post("/account/tokens/revoke", data={})
    assert path_of(response) == "/account"
    assert token_named("留着").revoked_at is None


def test_the_rate_limit_answers_429_with_retry_after(app, client, commerce, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 5)
    secret = make_token(commerce)
    for _ in range(5):
        assert client.get(LIST, headers=bearer(secret)).status_code == 200
    response = client.get(LIST, headers=bearer(secret))
    problem_of(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= app.config["API_RATE_WINDOW_SECONDS"]
    assert db.session.scalar(select(ApiTokenUse.window_count)) == 6
    # Another token has a count of its own.
    assert client.get(LIST, headers=bearer(make_token(commerce, name="另一个"))).status_code == 200
