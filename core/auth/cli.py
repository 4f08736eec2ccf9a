"""`flask users ...`: create, re-key and disable accounts, and make the demo accounts."""
from __future__ import annotations

import contextlib
import os
import secrets
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from core.errors import UserError
from core.transaction import transaction

from . import services
from .models import Role
from .queries import user_by_username

users_cli = AppGroup("users", help="管理用户账号。")

DEMO_ACCOUNTS = [
    ("demo_commerce", Role.COMMERCE, None, "演示·市商务局"),
    ("demo_county", Role.COUNTY, "350404", "演示·三元区"),
    ("demo_leader", Role.LEADER, None, "演示·市领导"),
    ("demo_admin", Role.ADMIN, None, "演示·管理员"),
]


def init_app(app):
    app.cli.add_command(users_cli)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")


def fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(1)


@contextlib.contextmanager
def committed():
    """Save the command's change in one transaction; a refusal prints its message and exits 1."""
    try:
        with transaction():
            yield
    except UserError as exc:
        fail(exc.message)


def get_user(name: str):
    user = user_by_username(name)
    if user is None:
        fail(f"没有名为“{name}”的用户。")
    return user


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="角色")
@click.option("--county", default=None, help="县区代码（县区用户必填），如 350404")
@click.option("--display-name", default="", help="显示的姓名")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（一行）")
def create(name, role, county, display_name, password_stdin):
    """创建用户。"""
    password = _read_password(password_stdin)
    with committed():
        user = services.create_user(name, role, password, county=county, display_name=display_name)
    where = f"，县区 {user.county.name}（{user.county_code}）" if user.county else ""
    click.echo(f"已创建用户 {user.username}（{user.role.label}{where}）。")


@users_cli.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（一行）")
def set_password(name, password_stdin):
    """设置用户密码（并结束该用户的其他会话）。"""
    user = get_user(name)
    with committed():
        services.set_password(user, _read_password(password_stdin))
    click.echo(f"已更新用户 {user.username} 的密码。")


@users_cli.command("disable")
@click.argument("name")
def disable(name):
    """停用用户（其已登录会话随即失效）。"""
    user = get_user(name)
    with committed():
        services.disable_user(user)
    click.echo(f"已停用用户 {user.username}。")


@users_cli.command("demo")
def demo():
    """创建演示账号（每个角色一个），密码只显示一次并写入 instance/demo-credentials.txt。"""
    path = os.path.join(current_app.instance_path, "demo-credentials.txt")
    known = _read_credentials(path)
    fresh = {}
    with committed():
        for username, role, county, display_name in DEMO_ACCOUNTS:
            user = user_by_username(username)
            if user is not None and username in known:
                continue
            password = secrets.token_urlsafe(12)
            if user is None:
                try:
                    services.create_user(username, role, password, county=county, display_name=display_name)
                except services.AccountRefused as exc:  # the county account needs `flask seed` first
                    raise services.AccountRefused(f"{exc.message}请先运行 flask seed 载入县区。") from None
            else:
                services.set_password(user, password)
            fresh[username] = (role, password)
    if not fresh:
        click.echo(f"演示账号已存在，密码见 {path}")
        return
    known.update({name: f"{name}\t{role.label}\t{password}" for name, (role, password) in fresh.items()})
    os.makedirs(current_app.instance_path, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# 演示账号（仅用于演示环境）：用户名\t角色\t密码\n")
        out.write("\n".join(known[name] for name, *_ in DEMO_ACCOUNTS if name in known) + "\n")
    click.echo("已创建演示账号（密码只显示这一次，也已写入 %s）：" % path)
    for name, (role, password) in fresh.items():
        click.echo(f"  {role.label:<4} {name:<15} {password}")


def _read_credentials(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as src:
            lines = [line.rstrip("\n") for line in src if line.strip() and not line.startswith("#")]
    except FileNotFoundError:
        return {}
    return {line.split("\t", 1)[0]: line for line in lines}
