"""A consistent online backup of the database into one file (the domains' files in a tar beside it), and its restore."""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from psycopg.conninfo import make_conninfo
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine

from core.config import PG_CONNECT_TIMEOUT_S
from core.db import SQLITE_BUSY_TIMEOUT_MS

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
# A backup's kind is read from its first bytes, never from its name.
MAGIC = {SQLITE: b"SQLite format 3\x00", POSTGRESQL: b"PGDMP"}
KIND_LABELS = {SQLITE: "SQLite 数据库文件", POSTGRESQL: "PostgreSQL 备份文件（pg_dump 自定义格式）"}
EMPTY_TARGET_HINTS = {
    SQLITE: "请先停止服务，把现有数据库文件移走（例如 mv {path} {path}.old），再执行恢复。",
    POSTGRESQL: "请新建一个空数据库（例如 createdb 新库名）并把 DATABASE_URL 指向它；"
                "确认不再需要现有数据时，也可以先删除并重建当前数据库（dropdb / createdb）。",
}


FILES_SUFFIX = ".files.tar"  # beside the database's backup: the files the domains keep on disk


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message tells the operator why."""


@dataclass(frozen=True)
class Result:
    kind: str
    path: Path
    size: int
    tables: int = 0
    revision: str = ""


def backend(url: URL) -> str:
    name = url.get_backend_name()
    if name not in MAGIC:
        raise BackupError(f"不支持 {name} 数据库的备份与恢复（只支持 SQLite 和 PostgreSQL）。")
    return name


def describe(url: URL) -> str:
    """The database a URL names, for progress lines (never its password)."""
    if backend(url) == SQLITE:
        return f"SQLite 数据库 {url.database}"
    return f"PostgreSQL 数据库 {url.database}（{url.host or 'localhost'}:{url.port or 5432}）"


def detect_kind(path: Path) -> str:
    try:
        with open(path, "rb") as file:
            head = file.read(len(MAGIC[SQLITE]))
    except FileNotFoundError:
        raise BackupError(f"备份文件不存在：{path}") from None
    except OSError as exc:
        raise BackupError(f"无法读取备份文件 {path}：{exc.strerror}") from None
    for kind, magic in MAGIC.items():
        if head.startswith(magic):
            return kind
    raise BackupError(f"{path} 既不是 SQLite 数据库文件，也不是 pg_dump 自定义格式（-Fc）的备份，不能用于恢复。")


def backup(engine: Engine, dest: Path) -> Result:
    """Copy the database into ``dest`` while the app keeps serving; ``dest`` appears only once complete."""
    kind = backend(engine.url)
    dest = Path(dest).absolute()
    if not dest.parent.is_dir():
        raise BackupError(f"备份目录不存在：{dest.parent}")
    # Private (0600) from the start: a backup holds every password hash.
    handle, partial = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(partial)
    try:
        if kind == SQLITE:
            _sqlite_backup(_sqlite_file(engine.url, must_exist=True), partial, dest)
        else:
            _pg_tool("pg_dump", ["--format=custom", f"--file={partial}"], engine.url)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return Result(kind, dest, dest.stat().st_size)


def restore(engine: Engine, source: Path) -> Result:
    """Load a backup into the engine's database, which must have no tables yet."""
    kind = backend(engine.url)
    source = Path(source).absolute()
    found = detect_kind(source)
    if found != kind:
        raise BackupError(f"{source} 是 {KIND_LABELS[found]}，而当前数据库（DATABASE_URL）是 "
                          f"{'SQLite' if kind == SQLITE else 'PostgreSQL'}：类型不符，不能恢复。")
    target = _sqlite_file(engine.url, must_exist=False) if kind == SQLITE else None
    existing = _table_names(engine, target)
    if existing:
        shown = "、".join(sorted(existing)[:3]) + ("等" if len(existing) > 3 else "")
        raise BackupError(f"目标数据库不是空的（已有 {len(existing)} 张表：{shown}）。为免覆盖现有数据，已拒绝恢复，"
                          f"数据库未作任何改动。" + EMPTY_TARGET_HINTS[kind].format(path=target))
    if kind == SQLITE:
        _sqlite_restore(source, target)
    else:
        # One transaction: a restore that fails part-way leaves the database as empty as it was.
        _pg_tool("pg_restore", ["--no-owner", "--no-privileges", "--single-transaction", str(source)], engine.url)
    tables = _table_names(engine, target)
    revision = ""
    if "alembic_version" in tables:
        with engine.connect() as conn:
            revision = conn.scalar(text("SELECT version_num FROM alembic_version")) or ""
    return Result(kind, source, source.stat().st_size, tables=len(tables), revision=revision)


def _table_names(engine: Engine, sqlite_file: Path | None) -> list[str]:
    if sqlite_file is not None:
        # Plain sqlite3, not the app's engine: that one takes the write lock outside a request.
        with _sqlite_connect(sqlite_file) as conn:
            return [name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
    with engine.connect() as conn:
        return inspect(conn).get_table_names()


def _sqlite_file(url: URL, *, must_exist: bool) -> Path:
    if url.database in (None, "", ":memory:"):
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复：请在 DATABASE_URL 中指定数据库文件。")
    path = Path(url.database).absolute()
    if must_exist and not path.is_file():
        raise BackupError(f"数据库文件不存在：{path}")
    if not path.parent.is_dir():
        raise BackupError(f"数据库所在目录不存在：{path.parent}")
    return path


def _sqlite_connect(target: str | Path, **kwargs) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, **kwargs))


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupError(f"{path} 未通过 SQLite 完整性检查：{'；'.join(problems[:5])}")


def _sqlite_backup(source: Path, partial: Path, dest: Path) -> None:
    if dest.resolve() in {source.resolve(), Path(f"{source.resolve()}-wal"), Path(f"{source.resolve()}-shm")}:
        raise BackupError(f"备份文件不能是数据库文件本身：{dest}")
    try:
        with _sqlite_connect(source) as src, _sqlite_connect(partial) as dst:
            # All pages in one step, i.e. one read transaction: a single consistent snapshot,
            # while in WAL mode the app's writers carry on.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            _check_integrity(dst, dest)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 备份失败：{exc}") from None


def _sqlite_restore(source: Path, target: Path) -> None:
    try:
        with _sqlite_connect(f"{source.as_uri()}?mode=ro", uri=True) as src, _sqlite_connect(target) as dst:
            _check_integrity(src, source)
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite 恢复失败：{exc}") from None


def _pg_tool(tool: str, args: list[str], url: URL) -> None:
    """Run pg_dump or pg_restore against the URL's database; the password travels in PGPASSWORD only."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"未找到 {tool}：请安装与 PostgreSQL 服务器主版本相同的客户端工具"
                          f"（Debian/Ubuntu：apt-get install postgresql-client）。")
    params = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database,
              "connect_timeout": PG_CONNECT_TIMEOUT_S, **url.query}
    password = url.password or params.get("password")
    params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    conninfo = make_conninfo(**{name: value for name, value in params.items() if value is not None})
    result = subprocess.run([executable, "--no-password", f"--dbname={conninfo}", *args], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        detail = result.stderr.strip()
        hint = ("（客户端版本低于服务器版本：请安装与服务器主版本相同的 postgresql-client）"
                if "version mismatch" in detail else "")
        raise BackupError(f"{tool} 失败（退出码 {result.returncode}）{hint}：{detail}")


def add_file_folder(app, name: str, folder: Callable[[], Path]) -> None:
    """Let a domain's files on disk, named by its rows, travel with `flask backup` and `flask restore`: ``folder()``
    gives their directory (read in the app context); ``name`` is its place in the archive."""
    app.extensions.setdefault("backup_folders", {})[name] = folder


def files_archive(database_backup: Path) -> Path:
    return Path(f"{Path(database_backup).absolute()}{FILES_SUFFIX}")


def backup_files(folders: dict[str, Path], database_backup: Path) -> int:
    """Archive the folders beside the database's backup; how many files went in.

    Taken after the database: a file is written before its row commits and never changed, so every row in the
    database's snapshot has its file on disk by then (a later file in the archive is harmless)."""
    dest = files_archive(database_backup)
    handle, partial = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    os.close(handle)
    count = 0
    try:
        with tarfile.open(partial, "w") as archive:
            for name, root in folders.items():
                for path in sorted(Path(root).rglob("*")) if Path(root).is_dir() else ():
                    if path.is_file() and not path.name.startswith("."):  # a half-written file starts with a dot
                        archive.add(path, arcname=f"{name}/{path.relative_to(root).as_posix()}")
                        count += 1
        os.replace(partial, dest)
    finally:
        Path(partial).unlink(missing_ok=True)
    return count


def restore_files(folders: dict[str, Path], database_backup: Path) -> int:
    """Put the archived files back into their folders (files already there are kept); how many were written."""
    source = files_archive(database_backup)
    if not source.is_file():
        return 0
    count = 0
    try:
        with tarfile.open(source) as archive, tempfile.TemporaryDirectory() as staging:
            # The "data" filter refuses absolute paths, "..", links out of the folder and special files.
            archive.extractall(staging, filter="data")
            for name, root in folders.items():
                unpacked = Path(staging) / name
                for path in sorted(unpacked.rglob("*")) if unpacked.is_dir() else ():
                    target = Path(root) / path.relative_to(unpacked)
                    if path.is_file() and not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(path, target)
                        count += 1
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"无法恢复文件存档 {source}：{exc}") from None
    return count
