"""`flask tokens create / revoke / list`: the secret printed once (its SHA-256 kept), Chinese refusals with exit 1."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from core import clock
from core.auth.models import ApiToken, Role
from core.db import db
from tests.factories import bearer, make_token, make_user

LIST = "/api/v1/projects"


def tokens() -> list[ApiToken]:
    db.session.expire_all()
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))


@pytest.fixture
def service(counties):
    return make_user(Role.COMMERCE, username="svc_platform")


def test_create_prints_the_secret_once_with_the_id_and_expiry(runner, client, service):
    result = runner.invoke(args=["tokens", "create", "svc_platform", "--name", "数据共享平台", "--read-only",
                                 "--days", "30"])
    assert result.exit_code == 0, result.output
    [token] = tokens()
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("sm_") and result.output.count(secret) == 1
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert f"#{token.id}" in result.output and clock.format_time(token.expires_at) in result.output
    assert "只显示这一次" in result.output and "只读" in result.output
    assert (token.user_id, token.created_by_id, token.read_only, token.name) == (service.id, None, True, "数据共享平台")
    assert (token.expires_at - token.created_at).days == 30
    assert client.get(LIST, headers=bearer(secret)).status_code == 200
    assert client.post(LIST, json={}, headers=bearer(secret)).status_code == 403


def test_create_defaults_to_a_read_write_token_of_the_configured_life(app, runner, service):
    assert runner.invoke(args=["tokens", "create", "svc_platform", "--name", "脚本"]).exit_code == 0
    [token] = tokens()
    assert not token.read_only and (token.expires_at - token.created_at).days == app.config["API_TOKEN_DAYS"]


@pytest.mark.parametrize("args, message", [
    (["nobody", "--name", "x"], "没有名为“nobody”的用户。"),
    (["svc_platform"], "请用 --name 给出令牌名称"),
    (["svc_platform", "--name", "  "], "令牌名称须为 1–64 个字符。"),
    (["svc_platform", "--name", "x", "--days", "abc"], "有效期天数须为整数：“abc”。"),
    (["svc_platform", "--name", "x", "--days", "366"], "有效期须为 1–365 天。"),
    (["svc_platform", "--name", "x", "--days", "0"], "有效期须为 1–365 天。"),
    (["svc_platform", "--name", "坏\x07名"], "控制字符"),
])
def test_create_refuses_bad_input_with_exit_1_and_makes_nothing(runner, service, args, message):
    result = runner.invoke(args=["tokens", "create", *args])
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "错误：" in result.stderr
    assert "Traceback" not in result.output and "sm_" not in result.output
    assert tokens() == []


def test_create_refuses_a_disabled_account(runner, service):
    assert runner.invoke(args=["users", "disable", "svc_platform"]).exit_code == 0
    result = runner.invoke(args=["tokens", "create", "svc_platform", "--name", "x"])
    assert result.exit_code == 1 and "该账号已停用" in result.stderr and tokens() == []


def test_revoke_ends_the_token_at_once(runner, client, service):
    secret = make_token(service, name="旧脚本")
    [token] = tokens()
    result = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert result.exit_code == 0 and f"已撤销令牌 #{token.id}“旧脚本”（用户 svc_platform）。" in result.output
    assert tokens()[0].revoked_at is not None
    response = client.get(LIST, headers=bearer(secret))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    again = runner.invoke(args=["tokens", "revoke", str(token.id)])
    assert again.exit_code == 0 and "此前已撤销" in again.output


@pytest.mark.parametrize("token_id, message", [("999999", "没有编号为 999999 的令牌。"), ("x1", "令牌编号须为整数")])
def test_revoke_refuses_an_unknown_id(runner, service, token_id, message):
    make_token(service)
    result = runner.invoke(args=["tokens", "revoke", token_id])
    assert result.exit_code == 1 and message in result.stderr
    assert tokens()[0].revoked_at is None


def test_list_shows_every_token_or_one_users(runner, client, service):
    other = make_user(Role.LEADER, username="leader_wang")
    used = make_token(service, name="在用")
    make_token(service, name="已撤", read_only=True)
    make_token(other, name="领导的")
    assert runner.invoke(args=["tokens", "revoke", str(tokens()[1].id)]).exit_code == 0
    client.get(LIST, headers=bearer(used))
    output = runner.invoke(args=["tokens", "list"]).output
    assert used not in output and f"\t{used[:10]}…\t" in output  # the prefix only, never the secret
    lines = output.strip().splitlines()
    assert len(lines) == 3 and all(line.count("\t") == 7 for line in lines)
    by_name = {line.split("\t")[2]: line for line in lines}
    assert by_name["在用"].endswith("有效") and "最近使用 从未" not in by_name["在用"]
    assert "只读" in by_name["已撤"] and by_name["已撤"].endswith("已撤销")
    assert "leader_wang" in by_name["领导的"] and "最近使用 从未" in by_name["领导的"]
    mine = runner.invoke(args=["tokens", "list", "leader_wang"]).output.strip().splitlines()
    assert [line.split("\t")[2] for line in mine] == ["领导的"]
    assert runner.invoke(args=["tokens", "list", "nobody"]).exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 3


def test_list_says_when_there_are_none(runner, service):
    result = runner.invoke(args=["tokens", "list"])
    assert result.exit_code == 0 and result.output.strip() == "没有令牌。"
