"""`flask seed` (each domain's reference data, from the steps the domains register), `flask backup`, `flask restore`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from core import backup as backups
from core.auth.services import seed_counties
from core.db import db
from core.transaction import transaction


def init_app(app):
    add_seed_step(app, lambda: f"县区：新增 {seed_counties()} 个")
    app.cli.add_command(seed)
    app.cli.add_command(backup)
    app.cli.add_command(restore)


@click.command("seed")
def seed():
    """载入参考数据：县区（含旧区划代码）、产业与产业链、集聚区、园区与龙头企业、前期手续。可重复运行。"""
    with transaction():
        said = [step() for step in current_app.extensions["seed_steps"]]
    click.echo("；".join(said) + "。")


def add_seed_step(app, step) -> None:
    """Register a domain's part of `flask seed`: ``step()`` loads its reference data (idempotent, flushed,
    not committed) and says what it added, in Chinese. Steps run in the order the domains register."""
    app.extensions.setdefault("seed_steps", []).append(step)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path):
    """在线备份数据库到 PATH，服务运行时也可执行：SQLite 用备份 API 复制一致的快照，PostgreSQL 用 pg_dump 自定义格式（-Fc）；附件等文件存入 PATH.files.tar。"""
    try:
        click.echo(f"正在备份 {backups.describe(db.engine.url)} → {path} …")
        result = backups.backup(db.engine, path)
        files = backups.backup_files(_folders(), result.path)
    except backups.BackupError as exc:
        _fail(str(exc))
    checked = "，已通过完整性检查" if result.kind == backups.SQLITE else ""
    click.echo(f"备份完成：{result.path}（{backups.KIND_LABELS[result.kind]}，{_size(result.size)}{checked}）；"
               f"附件等文件 {files} 个，存于 {backups.files_archive(result.path)}。")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def restore(path):
    """把 flask backup 生成的备份恢复到 DATABASE_URL 指向的数据库（目标必须是空库，否则拒绝且不作改动），并从 PATH.files.tar 恢复附件等文件。"""
    try:
        click.echo(f"正在把 {path} 恢复到 {backups.describe(db.engine.url)} …")
        result = backups.restore(db.engine, path)
        files = backups.restore_files(_folders(), result.path)
    except backups.BackupError as exc:
        _fail(str(exc))
    click.echo(f"恢复完成：{result.tables} 张表，数据库版本 {result.revision or '（无）'}；附件等文件 {files} 个。"
               "如程序已更新，请再运行 flask db upgrade。")


def _folders() -> dict[str, Path]:
    return {name: folder() for name, folder in current_app.extensions.get("backup_folders", {}).items()}


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(1)


def _size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            break
        size /= 1024
    return f"{size:.1f} {unit}"
