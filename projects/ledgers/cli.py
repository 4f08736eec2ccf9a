"""`flask ledger import|export`: a county's ledger in and out from the command line."""
from __future__ import annotations

import os

import click
from sqlalchemy import select

from core.auth.models import Role, User
from core.auth.queries import resolve_county
from core.db import db
from core.spreadsheets import MAX_FILE_BYTES, ExcelUnreadable
from core.transaction import transaction

from . import export, importer
from .excel import export_ledger


def init_app(app) -> None:
    app.cli.add_command(ledger)


@click.group("ledger")
def ledger():
    """导入（.xlsx、.xls、.csv）、导出（.xlsx）项目台账。"""


def _ledger_user(username: str | None):
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_enabled:
            raise click.ClickException(f"用户“{username}”不存在或已停用。")
        return user
    user = db.session.scalar(select(User).where(User.role == Role.ADMIN, User.is_enabled).order_by(User.id))
    if user is None:
        raise click.ClickException("请用 --user 指定导入人（系统中没有启用的管理员账号）。")
    return user


def _read(path: str) -> bytes:
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            raise ExcelUnreadable(f"文件过大，上限为 {MAX_FILE_BYTES // 1024 // 1024} MB。")
        with open(path, "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        click.echo(f"无法读取文件：{exc.strerror or exc}", err=True)
    except ExcelUnreadable as exc:
        click.echo(exc.message, err=True)
    raise SystemExit(2)


@ledger.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只校验并预览，不写入数据库")
@click.option("--user", "username", default=None, help="以该用户的名义导入（默认：第一个管理员）")
@click.option("--strict", is_flag=True, help="严格校验：按阶段门槛逐级推进，缺少阶段资料的行整表拒绝（默认记为资料缺项）")
def ledger_import(path, dry_run, username, strict):
    """导入台账：整表校验，任何一行有误则全部不导入（逐行列出问题，退出码 1）；文件无法读取退出码 2。

    项目按台账所载阶段记录；该阶段应有而台账没有的资料（项目代码、施工许可、实际日期等）记为资料缺项并列出。"""
    data = _read(path)
    user = _ledger_user(username)
    try:
        with transaction(commit=not dry_run):
            outcome = importer.import_ledger(data, by=user, filename=os.path.basename(path), dry_run=dry_run,
                                             strict=strict)
    except importer.SheetRefused as refused:
        _notices(refused.outcome)
        for line in refused.outcome.report.lines():
            click.echo(line)
        click.echo(f"共 {len(refused.outcome.report.problems)} 处问题，未导入任何数据。", err=True)
        raise SystemExit(1) from None
    except (ExcelUnreadable, importer.LedgerRefused) as exc:
        click.echo(exc.message, err=True)
        raise SystemExit(2 if isinstance(exc, ExcelUnreadable) else 1) from None
    _notices(outcome)
    created, updated, unchanged = outcome.count("create"), outcome.count("update"), outcome.count("unchanged")
    summary = f"新建 {created} 个项目，更新 {updated} 个，无变化 {unchanged} 个，跳过 {len(outcome.report.skipped_rows)} 行（空行、合计行）。"
    if dry_run:
        click.echo("预览（未写入）：" + summary)
        return
    click.echo(f"已导入（批次 #{outcome.batch.id}）：" + summary)


def _notices(outcome) -> None:
    for notice in outcome.report.notices:
        click.echo(f"提示：{notice}")


@ledger.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--county", "county", default=None, help="只导出该县区（代码或名称，旧区划亦可）")
def ledger_export(path, county):
    """导出项目台账（标题行、两行表头、每个项目一行、合计行）。"""
    code = None
    if county:
        found = resolve_county(county)
        if found is None:
            raise click.ClickException(f"未知的县区：{county}")
        code = found.code
    rows = export.export_rows(code)
    with open(path, "wb") as handle:
        handle.write(export_ledger(rows, title=export.export_title(code)))
    click.echo(f"已导出 {len(rows)} 个项目到 {path}")
