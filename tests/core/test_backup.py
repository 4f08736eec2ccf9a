"""Backup and restore: `flask backup` and `flask restore` round-trip every table, refuse what they must, run live."""
from __future__ import annotations

import contextlib
import datetime as dt
import http.cookiejar
import io
import sqlite3
import stat
import tarfile
import threading
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from core import backup as backups
from core import clock
from core.auth import tokens
from core.auth.models import Role
from core.db import db
from parks.models import CapacityMeasure, Park
from parks.services import confirm_capacity
from projects.attachments import services as attachment_services
from projects.attachments import storage
from projects.attachments.models import Attachment
from projects.leads.models import FollowUpKind
from projects.leads.services import add_follow_up
from projects.ledgers import importer
from projects.reports.models import BlockerCategory
from projects.reports.services import add_blocker, save_report
from projects.services import add_milestone
from tests.conftest import csrf_token_from
from tests.factories import (
    DEFAULT_PASSWORD,
    bearer,
    make_event,
    make_lead,
    make_project,
    make_token,
    make_user,
    rename_park,
)
from tests.harness import Server, live_env, run_cli
from tests.projects.attachments import files as attachment_files
from tests.projects.ledgers.files import ledger_bytes
from tests.projects.ledgers.files import row as ledger_row
from tests.projects.web import new_client, snapshot

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
WAIT_SECONDS = 60  # the longest the live test waits for the writer to make progress


def fill_every_table(app) -> None:
    """At least one row in every table, each made the way users make it; the comments name the tables filled.

    Needs the project_ref fixture (county, industry, chain, chain_node, zone, park, enterprise, approval_item_type).
    A new table needs a line here: test_every_table_survives_a_backup_and_restore fails on an empty one."""
    commerce = make_user(Role.COMMERCE)  # app_user, audit_entry
    new_client(app, commerce)  # a login: user_session, login_attempt
    app.test_client().get("/api/v1/projects", headers=bearer(make_token(commerce)))  # api_token, api_token_use
    event = make_event(by=commerce)  # signing_event
    project = make_project(by=commerce, signing_event_id=event.id)  # project, approval_item, project_event
    add_milestone(project, name="开工", planned_date=dt.date(2025, 9, 1), version=project.version,
                  by=commerce)  # milestone
    save_report(project, dt.date(2025, 4, 1), investment=Decimal("1200.50"), funds_arrived=Decimal("800"),
                note="厂房基础施工", no_change=False, version=project.version, by=commerce)  # progress_report
    add_blocker(project, category=BlockerCategory.LAND, description="用地指标未落实", department="市自然资源局",
                due_date=dt.date(2025, 12, 31), escalated=True, version=project.version, by=commerce)  # blocker
    lead = make_lead(by=commerce)  # lead
    add_follow_up(lead, date=clock.today(), kind=FollowUpKind.VISIT, summary="上门拜访，对方有意向",
                  next_step="寄送园区资料", next_due=None, by=commerce)  # follow_up
    importer.import_ledger(ledger_bytes([ledger_row(name="台账导入项目")]), by=commerce,
                          filename="台账.xlsx")  # import_batch
    admin = make_user(Role.ADMIN)
    park = db.session.scalar(select(Park).order_by(Park.id))
    rename_park(park, "改名后的园区", by=admin)  # park_alias
    confirm_capacity(park, {CapacityMeasure.FREE_LAND: Decimal("260")}, confirmed_on=clock.today(),
                     by=admin, note="实地核查")  # park_capacity
    with app.test_request_context():
        attachment_services.upload(project, attachment_services.Target(), [("现场.jpg", attachment_files.photo()),
                                                                           ("批复.pdf", attachment_files.pdf())],
                                   by=commerce)  # attachment (and its files on disk)
    _token, secret = tokens.create_token(commerce, "数据共享平台")  # api_token
    db.session.commit()
    response = app.test_client().get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200  # api_token_use


def empty_tables() -> list[str]:
    db.session.rollback()
    return [table.name for table in db.metadata.sorted_tables
            if db.session.scalar(select(func.count()).select_from(table)) == 0]


def every_row(url: str) -> tuple[set[str], dict[str, list]]:
    """The database's table names, and every table's rows (all columns, by primary key) plus alembic_version."""
    db.session.rollback()  # outside a request the test's own transaction holds SQLite's write lock
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            rows = {table.name: conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                    for table in db.metadata.sorted_tables}
            rows["alembic_version"] = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    return names, rows


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def cli_env(tmp_path, url: str, attachment_dir=None) -> dict[str, str]:
    env = live_env(tmp_path)
    env["DATABASE_URL"] = url
    if attachment_dir is not None:
        env["ATTACHMENT_DIR"] = str(attachment_dir)
    return env


def refused(result) -> str:
    """What a flask command that must fail printed."""
    assert result.exit_code == 1, f"the command should have failed:\n{result.output}"
    return result.stderr


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@pytest.fixture
def empty_database(app, database_url, tmp_path):
    """The URL of a database with no tables for a restore: a new SQLite file, or a freshly created PostgreSQL database
    (never the suite's own, which the other tests share)."""
    if is_sqlite(database_url):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_restore"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")  # CREATE DATABASE runs outside a transaction
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def empty_runner(make_app, empty_database):
    """A CLI runner of an app whose DATABASE_URL names the empty database."""
    return make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database}).test_cli_runner()


def test_every_table_survives_a_backup_and_restore(app, project_ref, database_url, empty_database, tmp_path,
                                                   monkeypatch):
    # A folder of its own: other tests' uploads stay in the session's, whatever order the tests run in.
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "attachments"))
    fill_every_table(app)
    assert empty_tables() == [], "fill_every_table must put a row in every table"
    backup = tmp_path / "sanming.backup"

    out = run_cli(cli_env(tmp_path, database_url, app.config["ATTACHMENT_DIR"]), "backup", str(backup))
    assert "备份完成" in out and "附件等文件 4 个" in out  # the photo, its served copy and thumbnail; the PDF
    assert backup.read_bytes().startswith(SQLITE_HEADER if is_sqlite(database_url) else PG_DUMP_HEADER)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds every password hash
    assert stat.S_IMODE((tmp_path / "sanming.backup.files.tar").stat().st_mode) == 0o600

    restored_files = tmp_path / "restored-attachments"
    restored_env = cli_env(tmp_path, empty_database, restored_files)
    out = run_cli(restored_env, "restore", str(backup))
    assert "恢复完成" in out and "附件等文件 4 个" in out
    original_tables, original = every_row(database_url)
    restored_tables, restored = every_row(empty_database)
    assert restored_tables == original_tables
    for name, rows in original.items():
        assert restored[name] == rows, f"table {name} differs after the restore"
    # Every attachment's file is back, byte for byte: its SHA-256 is the one its row names.
    restored_rows = restored[Attachment.__tablename__]
    assert len(restored_rows) == 2
    for row in restored_rows:
        original_file = storage.path_of(row.sha256)
        copy = restored_files / original_file.relative_to(app.config["ATTACHMENT_DIR"])
        assert storage.digest(copy.read_bytes()) == row.sha256
    # The restored database takes new rows: on PostgreSQL its id sequences carry on past the restored ids.
    run_cli(restored_env, "users", "create", "after_restore", "--role", "leader", "--password-stdin",
            stdin=DEFAULT_PASSWORD + "\n")


def test_restore_into_a_database_with_tables_is_refused_and_changes_nothing(runner, tmp_path):
    make_user(Role.ADMIN)
    backup = tmp_path / "sanming.backup"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    make_user(Role.LEADER)  # differs from the backup: a restore would lose it
    before = snapshot()

    message = refused(runner.invoke(args=["restore", str(backup)]))

    assert "不是空的" in message and "未作任何改动" in message
    assert snapshot() == before


def test_restore_refuses_a_backup_of_the_other_database_kind(empty_runner, empty_database, tmp_path):
    other = tmp_path / "other.backup"
    if is_sqlite(empty_database):
        other.write_bytes(PG_DUMP_HEADER + bytes(200))  # the head of a pg_dump -Fc archive
    else:
        with contextlib.closing(sqlite3.connect(other)) as conn:
            conn.execute("CREATE TABLE t (x)")

    message = refused(empty_runner.invoke(args=["restore", str(other)]))

    assert "类型不符" in message
    assert table_names(empty_database) == []


@pytest.mark.parametrize("content", [b"", "项目名称,投资方\n".encode(), ledger_bytes([ledger_row()])],
                         ids=["empty", "csv", "xlsx"])
def test_restore_refuses_a_file_that_is_no_backup(empty_runner, empty_database, tmp_path, content):
    junk = tmp_path / "not-a-backup"
    junk.write_bytes(content)

    message = refused(empty_runner.invoke(args=["restore", str(junk)]))

    assert "既不是 SQLite 数据库文件，也不是 pg_dump 自定义格式" in message
    assert table_names(empty_database) == []


def test_restore_of_a_missing_file_says_so(empty_runner, tmp_path):
    message = refused(empty_runner.invoke(args=["restore", str(tmp_path / "nowhere.backup")]))
    assert "备份文件不存在" in message


def test_backup_never_overwrites_the_database_itself(runner, database_url):
    if not is_sqlite(database_url):
        pytest.skip("only a SQLite database is a file that a backup path can name")
    make_user(Role.ADMIN)
    before = snapshot()

    message = refused(runner.invoke(args=["backup", make_url(database_url).database]))

    assert "不能是数据库文件本身" in message
    assert snapshot() == before


def test_backup_without_pg_dump_says_what_to_install(runner, database_url, tmp_path, monkeypatch):
    if is_sqlite(database_url):
        pytest.skip("pg_dump backs up PostgreSQL only")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))

    message = refused(runner.invoke(args=["backup", str(tmp_path / "sanming.backup")]))

    assert "未找到 pg_dump" in message and "postgresql-client" in message
    assert list(tmp_path.iterdir()) == []


class LeadWriter(threading.Thread):
    """Logs new leads through the live server, one POST after another, until told to stop."""

    def __init__(self, base: str, username: str, password: str):
        super().__init__(daemon=True)
        self.base, self.saved, self.errors = base, 0, []
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        url = self.post("/login", {"username": username, "password": password})
        assert urllib.parse.urlsplit(url).path != "/login", "login failed"

    def post(self, path: str, data: dict) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            token = csrf_token_from(response.read().decode())
        body = urllib.parse.urlencode({"csrf_token": token, **data}).encode()
        with self.opener.open(self.base + path, data=body, timeout=30) as response:
            return response.geturl()

    def run(self):
        while not self.stop.is_set():
            try:
                url = self.post("/leads/new", {"version": "0", "investor_name": f"并发写入{self.saved + 1}号有限公司",
                                               "source": "visit", "county_code": "350404"})
            except Exception as exc:  # reported by the test, which the thread cannot fail itself
                self.errors.append(repr(exc))
                return
            if urllib.parse.urlsplit(url).path in ("/leads/new", "/login"):
                self.errors.append(f"lead not saved: ended at {url}")
                return
            with self.progress:
                self.saved += 1
                self.progress.notify_all()

    def wait_for(self, count: int) -> None:
        with self.progress:
            if not self.progress.wait_for(lambda: self.saved >= count or self.errors or not self.is_alive(),
                                          timeout=WAIT_SECONDS):
                pytest.fail(f"the writer saved only {self.saved} leads in {WAIT_SECONDS} s")
        assert not self.errors, self.errors


@pytest.mark.slow
def test_backup_while_gunicorn_serves_concurrent_writes(tmp_path):
    password = "live-backup-" + DEFAULT_PASSWORD
    env = live_env(tmp_path)
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    run_cli(env, "users", "create", "writer", "--role", "commerce", "--password-stdin", stdin=password + "\n")
    backup = tmp_path / "during-writes.backup"

    with Server(env, tmp_path / "gunicorn.log") as live:
        writer = LeadWriter(live.base, "writer", password)
        writer.start()
        try:
            writer.wait_for(3)
            saved_before = writer.saved
            assert "备份完成" in run_cli(env, "backup", str(backup))
            saved_after = writer.saved
            writer.wait_for(saved_after + 3)  # the server still takes writes after the backup
        finally:
            writer.stop.set()
            writer.join(timeout=60)
    assert not writer.errors, writer.errors

    with contextlib.closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        leads = conn.execute("SELECT count(*) FROM lead").fetchone()[0]
        # One snapshot: each lead and the audit entry written in its transaction are both in, or both out.
        logged = conn.execute("SELECT count(*) FROM audit_entry WHERE entity = 'lead' AND action = 'created'"
                              ).fetchone()[0]
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert saved_before <= leads <= saved_after + 1  # +1: a POST may commit before the writer counts it
    assert logged == leads

    restored = tmp_path / "restored.db"
    restored_env = dict(env, DATABASE_URL=f"sqlite:///{restored}")
    assert "恢复完成" in run_cli(restored_env, "restore", str(backup))
    with contextlib.closing(sqlite3.connect(restored)) as conn:
        assert conn.execute("SELECT count(*) FROM lead").fetchone()[0] == leads
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == revision


def test_a_files_archive_reaching_outside_its_folder_is_refused(tmp_path):
    database_backup = tmp_path / "x.backup"
    with tarfile.open(backups.files_archive(database_backup), "w") as archive:
        member = tarfile.TarInfo("attachments/../../escaped.txt")
        member.size = 3
        archive.addfile(member, io.BytesIO(b"bad"))
    with pytest.raises(backups.BackupError, match="无法恢复文件存档"):
        backups.restore_files({"attachments": tmp_path / "files"}, database_backup)
    assert not (tmp_path.parent / "escaped.txt").exists() and not (tmp_path / "files").exists()
