"""Login and logout tests: messages, disabled accounts, ended sessions, safe redirects, cookies, CSRF."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from core.auth import models as auth_models
from core.auth import services
from core.auth.models import Role
from core.auth.views import LOGIN_FAILED
from core.db import db
from tests.conftest import csrf_token_from
from tests.factories import DEFAULT_PASSWORD, make_user

from .helpers import flashes, home_path, is_logged_in, login, path_of


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def test_login_page_is_chinese(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for text in ("登录", "用户名", "密码", "三明市招商引资项目与产业园区管理平台"):
        assert text in html


def test_successful_login_redirects_home(app, client):
    user = make_user(Role.LEADER)
    response = login(client, user)
    assert response.status_code == 302
    assert path_of(response) == home_path(app)
    assert is_logged_in(client)
    db.session.refresh(user)
    assert user.last_login_at is not None and user.last_login_at.utcoffset().total_seconds() == 0


def test_username_is_trimmed(client):
    make_user(username="trim_me")
    response = client.post("/login", data={"username": "  trim_me ", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and is_logged_in(client)


def test_logged_in_user_visiting_login_goes_home(app, client):
    login(client, make_user())
    response = client.get("/login")
    assert response.status_code == 302 and path_of(response) == home_path(app)


def test_unknown_user_wrong_password_and_disabled_account_look_the_same(client):
    user = make_user(username="known")
    disabled = make_user(username="gone")
    services.disable_user(disabled)
    db.session.commit()

    responses = [
        client.post("/login", data={"username": "nobody", "password": DEFAULT_PASSWORD}),
        client.post("/login", data={"username": "known", "password": "wrong-password-1"}),
        client.post("/login", data={"username": "gone", "password": DEFAULT_PASSWORD}),
    ]
    assert {r.status_code for r in responses} == {200}
    assert [flashes(r) for r in responses] == [[LOGIN_FAILED]] * 3
    assert LOGIN_FAILED == "用户名或密码错误，或账号已停用。"
    assert not is_logged_in(client)
    assert user.is_enabled


def test_every_failed_login_costs_one_password_hash(client, monkeypatch):
    """Unknown, wrong and disabled all spend one argon2 verification, so timing tells nothing."""
    make_user(username="known")
    disabled = make_user(username="gone")
    services.disable_user(disabled)
    db.session.commit()

    real = auth_models._hasher
    calls = []

    class CountingHasher:
        def verify(self, hash_, password):
            calls.append(hash_)
            return real.verify(hash_, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(auth_models, "_hasher", CountingHasher())
    for username, password in [("nobody", DEFAULT_PASSWORD), ("known", "wrong-password-1"),
                               ("gone", DEFAULT_PASSWORD)]:
        calls.clear()
        client.post("/login", data={"username": username, "password": password})
        assert len(calls) == 1, username


def test_disabled_user_cannot_log_in(client):
    user = make_user()
    services.disable_user(user)
    db.session.commit()
    response = login(client, user)
    assert response.status_code == 200
    assert flashes(response) == [LOGIN_FAILED]
    assert not is_logged_in(client)


def test_open_session_of_a_disabled_user_ends_on_next_request(client):
    user = make_user()
    login(client, user)
    assert is_logged_in(client)

    services.disable_user(user)
    db.session.commit()
    response = client.get("/parks/")
    assert response.status_code == 302 and path_of(response) == "/login"

    # Re-enabling the account does not bring the old session back.
    services.enable_user(user)
    db.session.commit()
    assert not is_logged_in(client)
    login(client, user)
    assert is_logged_in(client)


def test_account_disabled_by_a_plain_update_has_no_session(client):
    user = make_user()
    login(client, user)
    user.is_enabled = False  # as a database script would, without rotating the session token
    db.session.commit()
    assert not is_logged_in(client)


def test_set_password_ends_the_users_sessions(app):
    user = make_user()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)

    services.set_password(user, "a-brand-new-password")
    db.session.commit()
    assert not is_logged_in(laptop)
    assert not is_logged_in(phone)
    assert flashes(login(laptop, user)) == [LOGIN_FAILED]  # the old password is gone
    assert login(laptop, user, "a-brand-new-password").status_code == 302
    assert is_logged_in(laptop)


def test_logout_ends_the_session(client):
    login(client, make_user())
    response = client.post("/logout")
    assert response.status_code == 302 and path_of(response) == "/login"
    assert "您已退出登录。" in flashes(client.get("/login"), "info")
    assert not is_logged_in(client)


def test_login_clears_what_the_session_held_before(client):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client, make_user())
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_local_path_is_followed(client):
    user = make_user(Role.ADMIN)
    response = login(client, user, next="/admin/users?page=2")
    target = urlsplit(response.headers["Location"])
    assert (target.path, target.query) == ("/admin/users", "page=2")


def test_login_required_page_comes_back_after_login(client):
    user = make_user(Role.ADMIN)
    response = client.get("/admin/users")
    assert response.status_code == 302 and path_of(response) == "/login"
    login_url = response.headers["Location"]
    assert 'value="/admin/users"' in client.get(login_url).get_data(as_text=True)
    response = client.post(login_url, data={"username": user.username, "password": DEFAULT_PASSWORD})
    assert path_of(response) == "/admin/users"


@pytest.mark.parametrize("target", [
    "//evil.example", "///evil.example", "https://evil.example", "http:evil.example", "/\\evil.example",
    "\\\\evil.example", "/\t/evil.example", "javascript:alert(1)", "evil.example",
])
def test_next_elsewhere_is_ignored(app, client, target):
    response = login(client, make_user(), next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == home_path(app)


def test_session_cookie_is_httponly_and_lax(client):
    cookie = session_cookie(login(client, make_user()))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    cookie = session_cookie(login(client, make_user()))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_is_stored_as_argon2id(app):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in user.password_hash


def test_login_needs_the_csrf_token(client, csrf_on):
    user = make_user()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))

    refused = login(client, user)
    assert refused.status_code == 400
    assert "请求有误" in refused.get_data(as_text=True)
    assert not is_logged_in(client)

    accepted = login(client, user, csrf_token=token)
    assert accepted.status_code == 302
    assert is_logged_in(client)


def test_logout_needs_the_csrf_token(client, csrf_on):
    user = make_user()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    login(client, user, csrf_token=token)
    assert client.post("/logout").status_code == 400
    assert is_logged_in(client)
