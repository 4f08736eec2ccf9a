"""CLI tests: `flask users create / set-password / disable / demo` and `flask seed`."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.auth.models import Role, User
from core.db import db
from tests.factories import make_user

from .helpers import is_logged_in, login

PASSWORD = "cli-password-123"


def users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


def create(runner, *args, password=PASSWORD):
    return runner.invoke(args=["users", "create", *args, "--password-stdin"], input=f"{password}\n")


def test_create_county_user(runner, counties):
    result = create(runner, "sanyuan_li", "--role", "county", "--county", "350404", "--display-name", "李明")
    assert result.exit_code == 0, result.output
    assert "已创建用户 sanyuan_li" in result.output
    assert "三元区" in result.output
    [user] = users()
    assert (user.username, user.role, user.county_code, user.display_name) == (
        "sanyuan_li", Role.COUNTY, "350404", "李明")
    assert user.check_password(PASSWORD)
    assert user.password_hash.startswith("$argon2id$")


def test_create_user_then_log_in(runner, counties, client):
    assert create(runner, "shangwu", "--role", "commerce").exit_code == 0
    [user] = users()
    assert user.county_code is None
    assert login(client, user, PASSWORD).status_code == 302


def test_legacy_county_code_resolves_to_current_county(runner, counties):
    result = create(runner, "meilie", "--role", "county", "--county", "350402")
    assert result.exit_code == 0, result.output
    assert users()[0].county_code == "350404"


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "county", "--county", "350499"], PASSWORD, "未知的县区代码或名称：“350499”"),
    (["--role", "county"], PASSWORD, "县区用户必须指定所属县区。"),
    (["--role", "commerce", "--county", "350404"], PASSWORD, "只有县区用户才能绑定县区。"),
    (["--role", "leader"], "short", "密码至少需要 10 个字符。"),
    (["--role", "leader", "--display-name", "张\x1b[31m三"], PASSWORD, "“姓名”含有不可见的控制字符（U+001B）"),
    (["--role", "leader", "--display-name", "长" * 65], PASSWORD, "姓名不能超过 64 个字符。"),
])
def test_create_refuses_bad_input_and_creates_nothing(runner, counties, args, password, message):
    result = create(runner, "someone", *args, password=password)
    assert result.exit_code == 1
    assert f"错误：{message}" in result.stderr
    assert "Traceback" not in result.output
    assert users() == []


def test_a_username_with_a_line_break_inside_is_refused(runner, counties):
    result = create(runner, "some\none", "--role", "leader")
    assert result.exit_code == 1 and users() == []


def test_create_refuses_unknown_role(runner, counties):
    result = create(runner, "someone", "--role", "mayor")
    assert result.exit_code == 2
    assert users() == []


def test_create_refuses_duplicate_username(runner, counties):
    make_user(Role.LEADER, username="taken")
    result = create(runner, "taken", "--role", "commerce")
    assert result.exit_code == 1
    assert "已被使用" in result.stderr
    assert [u.role for u in users()] == [Role.LEADER]


def test_create_prompts_for_the_password_twice(runner, counties):
    result = runner.invoke(args=["users", "create", "prompted", "--role", "leader"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    assert users()[0].check_password(PASSWORD)


def test_set_password(runner, client):
    user = make_user(username="zhao")
    login(client, user)
    assert is_logged_in(client)
    result = runner.invoke(args=["users", "set-password", "zhao", "--password-stdin"],
                           input="another-password-1\n")
    assert result.exit_code == 0, result.output
    assert "已更新用户 zhao 的密码" in result.output
    db.session.refresh(user)
    assert user.check_password("another-password-1")
    assert not is_logged_in(client)  # the open session ended
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "password_changed", AuditEntry.entity_id == str(user.id))) == 1


def test_set_password_refuses_short_password_and_unknown_user(runner):
    user = make_user(username="zhao")
    old_hash = user.password_hash
    result = runner.invoke(args=["users", "set-password", "zhao", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "密码至少需要 10 个字符。" in result.stderr
    db.session.refresh(user)
    assert user.password_hash == old_hash

    result = runner.invoke(args=["users", "set-password", "nobody", "--password-stdin"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code == 1 and "没有名为“nobody”的用户。" in result.stderr


def test_disable(runner, client):
    user = make_user(username="qian")
    login(client, user)
    assert is_logged_in(client)
    result = runner.invoke(args=["users", "disable", "qian"])
    assert result.exit_code == 0, result.output
    assert "已停用用户 qian" in result.output
    db.session.refresh(user)
    assert not user.is_enabled
    assert not is_logged_in(client)


def test_disable_unknown_user_fails(runner):
    make_user(username="qian")
    result = runner.invoke(args=["users", "disable", "nobody"])
    assert result.exit_code == 1
    assert "错误：没有名为“nobody”的用户。" in result.stderr
    assert all(u.is_enabled for u in users())


@pytest.fixture
def demo_instance(app, tmp_path, monkeypatch):
    """Point the app's instance folder at a temporary one, so demo credentials land there."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "demo-credentials.txt"


def test_demo_creates_one_account_per_role_once(runner, counties, demo_instance):
    result = runner.invoke(args=["users", "demo"])
    assert result.exit_code == 0, result.output
    accounts = users()
    assert sorted(u.role for u in accounts) == sorted(Role)
    assert next(u for u in accounts if u.role is Role.COUNTY).county_code == "350404"

    assert stat.S_IMODE(os.stat(demo_instance).st_mode) == 0o600
    lines = [line.split("\t") for line in demo_instance.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert len(lines) == 4
    for username, _label, password in lines:
        assert password in result.output  # shown once
        assert next(u for u in accounts if u.username == username).check_password(password)

    hashes = {u.username: u.password_hash for u in accounts}
    content = demo_instance.read_text(encoding="utf-8")
    again = runner.invoke(args=["users", "demo"])
    assert again.exit_code == 0, again.output
    assert "演示账号已存在" in again.output
    db.session.expire_all()
    assert {u.username: u.password_hash for u in users()} == hashes
    assert demo_instance.read_text(encoding="utf-8") == content


def test_demo_without_seeded_counties_fails_cleanly(runner, demo_instance):
    result = runner.invoke(args=["users", "demo"])
    assert result.exit_code == 1
    assert "flask seed" in result.stderr
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
    assert users() == []
    assert not demo_instance.exists()


def table_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_seed_twice_is_idempotent(runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "县区：新增 14 个" in first.output
    counts = table_counts()
    assert counts["county"] == 14 and counts["park"] > 0

    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert "县区：新增 0 个" in second.output
    assert table_counts() == counts
