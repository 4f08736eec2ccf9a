"""`flask tokens ...`: make (the secret printed once), revoke and list API tokens, for service accounts and scripts."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from core import clock

from . import tokens
from .cli import committed, fail, get_user
from .queries import users_in_order

tokens_cli = AppGroup("tokens", help="管理接口访问令牌。")


def init_app(app):
    app.cli.add_command(tokens_cli)


def whole_number(text: str, what: str) -> int:
    # Read here, not with click's int type: its refusal is English and exits 2; bad input here exits 1 in Chinese.
    try:
        return int(text.strip())
    except ValueError:
        fail(f"{what}须为整数：“{text}”。")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", default=None, help="令牌名称（说明用途），必填")
@click.option("--read-only", is_flag=True, help="只读令牌（只能调用 GET）")
@click.option("--days", default=None, help="有效期天数（默认 API_TOKEN_DAYS，最多 API_TOKEN_MAX_DAYS）")
def create(username, name, read_only, days):
    """为用户创建令牌：令牌只显示这一次。"""
    user = get_user(username)
    if name is None:  # not click's required=, as in whole_number
        fail("请用 --name 给出令牌名称（说明用途）。")
    with committed():
        token, secret = tokens.create_token(user, name, read_only=read_only,
                                            days=None if days is None else whole_number(days, "有效期天数"))
    click.echo(f"已为用户 {user.username} 创建令牌 #{token.id}“{token.name}”（{'只读' if token.read_only else '读写'}），"
               f"有效期至 {clock.format_time(token.expires_at)}（北京时间）。")
    click.echo("令牌只显示这一次，请立即保存（系统只保存其摘要）：")
    click.echo(secret)


@tokens_cli.command("revoke")
@click.argument("token_id")
def revoke(token_id):
    """撤销令牌（编号见 flask tokens list）。"""
    token = tokens.token_or_none(whole_number(token_id, "令牌编号"))
    if token is None:
        fail(f"没有编号为 {token_id} 的令牌。")
    with committed():
        revoked = tokens.revoke_token(token)
    click.echo(f"已撤销令牌 #{token.id}“{token.name}”（用户 {token.user.username}）。" if revoked
               else f"令牌 #{token.id}“{token.name}”此前已撤销。")


@tokens_cli.command("list")
@click.argument("username", required=False)
def list_tokens(username):
    """列出令牌（给出用户名时只列该用户的），含已过期和已撤销的。"""
    users = [get_user(username)] if username else users_in_order()
    now, shown = clock.now(), 0
    for user in users:
        for token in tokens.tokens_of(user):
            last_used = clock.format_time(token.use.last_used_at) if token.use else "从未"
            click.echo(f"#{token.id}\t{user.username}\t{token.name}\t{token.prefix}…\t"
                       f"{'只读' if token.read_only else '读写'}\t到期 {clock.format_time(token.expires_at)}\t"
                       f"最近使用 {last_used}\t{token.state(now)}")
            shown += 1
    if not shown:
        click.echo("没有令牌。")
