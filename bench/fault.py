"""Fault bench: SIGKILL gunicorn workers mid ledger import and mid burst of edits; nothing may be half-saved.

Sets up a throw-away database with the real CLI and serves it with gunicorn (gunicorn.conf.py, 2 workers), then:
  A. uploads a generated ledger (--rows, 10,000 by default) through /ledgers/import, posts the confirmation and
     SIGKILLs the worker handling it once the import is writing its projects (SQLite: the worker has written
     over 1 MiB since the POST began, i.e. the bulk insert spills the page cache into the WAL; PostgreSQL: its
     backend holds a transaction id and runs the INSERT of projects, approval items or their audit rows).
     The POST must lose its connection (proof the kill came mid-import) and the database must hold nothing
     of that import: every table except the login bookkeeping keeps its row count, and no import batch exists.
  B. runs --clients editors on --projects projects (the same +1 read-modify-write of the land area as
     concurrent_edits.py) for --edit-seconds and SIGKILLs all workers --kills times meanwhile. Every project must
     sit at its last audit row (value and version), every audit row must be one +1 step, no 5xx, no
     "database is locked"; a save whose answer was cut may or may not have landed, one that was answered must.
  C. the master has respawned the workers (new pids, /healthz answers, a login and an edit work) and the same
     import, confirmed again from the preview staged before the kill, goes through completely: one batch whose
     created count and projects match the sheet's rows.
After each step the database passes its integrity checks: SQLite's PRAGMA integrity_check and foreign_key_check;
on PostgreSQL amcheck's bt_index_check(heapallindexed) on every B-tree index of the schema (each index agrees
with its table: a torn page or a row the index lost shows), no constraint left NOT VALID, and on both an
anti-join per foreign key of the models (no orphans), plus every project's version equal to its newest audit row.

A PostgreSQL URL given with --database-url has its public schema DROPPED and recreated: use a scratch database.
Exit status 0 when every check holds. Run: .venv/bin/python bench/fault.py [--rows 10000] [--edit-seconds 15]
[--kills 2] [--clients 20] [--projects 5] [--database-url URL]
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for bench, core and tests

from sqlalchemy import and_, exists, func, select, text  # noqa: E402

from bench import common  # noqa: E402
from bench.concurrent_edits import LOCKED, Tally, burst, chain_problems, logged_in, snapshot  # noqa: E402
from bench.ledger import ledger  # noqa: E402  (the generated 10,000-row sheet of bench/ledger.py)
from core.auth.models import BOOKKEEPING_TABLES  # noqa: E402
from core.db import db  # noqa: E402
from projects.ledgers.models import ImportBatch  # noqa: E402
from projects.models import Project, ProjectEvent  # noqa: E402
from tests import harness  # noqa: E402

WORKERS = 2  # one to kill while the other serves; fewer boots than 3 on a 2-core machine
WAL_SPILL_BYTES = 1 << 20  # a SQLite worker that wrote this much in the import's request is writing its rows
KILL_DEADLINE_S = 600  # the import must reach its writes within this (bounded wait)
FILENAME = "fault-bench.xlsx"


class Checks:
    """Named pass/fail lines, printed as they come."""

    def __init__(self):
        self.failed: list[str] = []

    def __call__(self, name: str, ok: bool, detail: object = "") -> bool:
        print(f"  {'ok ' if ok else 'FAIL'}  {name}{f': {detail}' if detail != '' else ''}")
        if not ok:
            self.failed.append(name)
        return ok


def wchar(pid: int) -> int:
    """Bytes the process has passed to write() so far (SQLite's page writes among them)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def sigkill(pids: list[int]) -> list[int]:
    """SIGKILL the processes (as the OOM killer or a crash would); returns those that were still alive."""
    killed = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def table_counts(app) -> dict[str, int]:
    """Rows per table of the models, the login bookkeeping (written by any request) left out."""
    with app.app_context():
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                  for table in db.metadata.sorted_tables if table.name not in BOOKKEEPING_TABLES}
        db.engine.dispose()
    return counts


def integrity(app, check: Checks, when: str) -> None:
    """The database's own integrity checks, orphan rows per foreign key, and project versions vs their audit rows."""
    with app.app_context():
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                result = conn.exec_driver_sql("PRAGMA integrity_check").scalars().all()
                check(f"{when}: PRAGMA integrity_check", result == ["ok"], "; ".join(result[:3]))
                violations = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                check(f"{when}: PRAGMA foreign_key_check", not violations, f"{len(violations)} violations")
            else:
                pg_checks(conn, check, when)
            orphans = {}
            for table in db.metadata.sorted_tables:
                for fk in table.foreign_key_constraints:
                    parent = fk.referred_table.alias("parent")
                    linked = and_(*[parent.c[element.column.name] == element.parent for element in fk.elements])
                    count = conn.scalar(select(func.count()).select_from(table).where(
                        *[column.is_not(None) for column in fk.columns], ~exists().where(linked)))
                    if count:
                        orphans[f"{table.name}.{','.join(c.name for c in fk.columns)}"] = count
            check(f"{when}: no orphan rows behind any foreign key", not orphans, orphans or "")
            last = select(ProjectEvent.project_id, func.max(ProjectEvent.version).label("version")) \
                .group_by(ProjectEvent.project_id).subquery()
            off = conn.execute(select(Project.id, Project.version, last.c.version)
                               .outerjoin(last, last.c.project_id == Project.id)
                               .where(Project.version != func.coalesce(last.c.version, -1)).limit(5)).all()
            total = conn.scalar(select(func.count()).select_from(Project))
            check(f"{when}: every project's version is its newest audit row's ({total} projects)", not off,
                  [tuple(row) for row in off] or "")
        db.engine.dispose()


def pg_checks(conn, check: Checks, when: str) -> None:
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
        available = True
    except Exception as exc:  # noqa: BLE001 - contrib not installed: say so and go on with the rest
        available = False
        check(f"{when}: amcheck", True, f"not available ({type(exc).__name__}); B-tree verification skipped")
    if available:
        indexes = conn.execute(text(
            "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE am.amname = 'btree' AND n.nspname = current_schema() AND i.indisvalid")).all()
        broken = []
        for oid, name in indexes:
            try:
                with conn.begin_nested():
                    conn.execute(text("SELECT bt_index_check(CAST(:oid AS regclass), true)"), {"oid": oid})
            except Exception as exc:  # noqa: BLE001 - amcheck reports corruption as an error
                broken.append(f"{name}: {exc}")
        check(f"{when}: amcheck bt_index_check(heapallindexed) on {len(indexes)} B-tree indexes", not broken,
              "; ".join(broken[:3]))
    not_valid = conn.execute(text(
        "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = current_schema() AND NOT c.convalidated")).scalars().all()
    check(f"{when}: no constraint left NOT VALID", not not_valid, not_valid or "")
    conn.commit()


def import_writing(app, pid: int, wrote_before: int) -> str | None:
    """What shows the import in worker ``pid`` writing its projects to the database (None while it is not)."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            wrote = wchar(pid) - wrote_before
            return f"{wrote / 1024 / 1024:.1f} MB written to the database" if wrote >= WAL_SPILL_BYTES else None
        with db.engine.connect() as conn:
            query = conn.scalar(text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
                "AND query ~ '^INSERT INTO (project|approval_item|project_event) '"))
        return f"its backend runs {query[:30]}…" if query else None


def upload(client: harness.Client, data: bytes) -> tuple[harness.Form, float]:
    """Upload the ledger (its dry run) and return the confirmation form and the seconds it took."""
    _, form = client.form("/ledgers/import", "csrf_token")
    started = time.monotonic()
    answer = client.post_file("/ledgers/import", {"csrf_token": form.fields["csrf_token"]}, "file", FILENAME, data)
    confirm = next((f for f in harness.forms_of(answer.text) if "sha256" in f.fields), None)
    if answer.status != 200 or confirm is None:
        raise RuntimeError(f"the upload's preview has no confirmation form (HTTP {answer.status})")
    return confirm, time.monotonic() - started


def kill_mid_import(server: harness.Server, app, client: harness.Client, confirm: harness.Form) -> dict:
    """POST the confirmation; SIGKILL the worker running it once it writes projects. Returns what happened."""
    workers = server.workers()
    ticks = {pid: common.cpu_ticks(pid) for pid in workers}
    wrote = {pid: wchar(pid) for pid in workers}
    outcome: dict = {}

    def post():
        try:
            outcome["answer"] = client.post(confirm.action or "/ledgers/import/confirm", confirm.fields)
        except (OSError, http.client.HTTPException) as exc:
            outcome["cut"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=post)
    started = time.monotonic()
    thread.start()
    busy = None
    while thread.is_alive() and time.monotonic() - started < KILL_DEADLINE_S:
        if busy is None:
            grown = {pid: common.cpu_ticks(pid) - ticks[pid] for pid in workers}
            pid = max(grown, key=grown.get)
            busy = pid if grown[pid] >= 5 else None  # the worker whose CPU time runs is the one importing
        elif evidence := import_writing(app, busy, wrote[busy]):
            outcome["killed"] = sigkill([busy])
            outcome["when"] = f"after {time.monotonic() - started:.1f} s, {evidence}"
            break
        time.sleep(0.02)  # bounded poll
    thread.join(timeout=120)
    return outcome


def phase_import_kill(server, app, admin: harness.Client, data: bytes, rows: int, check: Checks) -> harness.Form:
    """Returns the confirmation form of the killed import, for phase C to post again."""
    print(f"\nA. SIGKILL the worker in the middle of a {rows:,}-row ledger import")
    confirm, preview_s = upload(admin, data)
    print(f"  (upload and dry run took {preview_s:.1f} s)")
    before = table_counts(app)
    outcome = kill_mid_import(server, app, admin, confirm)
    killed = outcome.get("killed") or []
    check("the worker running the import was killed once it was writing projects", bool(killed),
          f"pid {killed[0]} {outcome['when']}" if killed else "the import never reached its writes")
    answer = outcome.get("answer")
    check("the confirm POST lost its connection (the kill came mid-import)", "cut" in outcome,
          outcome.get("cut") or (f"it was answered HTTP {answer.status}" if answer else "no outcome"))
    server.wait_ready()
    check("the master respawned the worker", not set(killed) & set(server.workers()), server.workers())
    after = table_counts(app)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    check("the aborted import left nothing (row count of every table unchanged)", not changed, changed or "")
    check("no import batch exists", after.get("import_batch") == 0, after.get("import_batch"))
    integrity(app, check, "after the import kill")
    return confirm


def phase_edit_kills(server, app, users, project_ids, *, clients: int, seconds: float, kills: int,
                     check: Checks) -> None:
    print(f"\nB. SIGKILL all workers {kills}× during {seconds:g} s of edits by {clients} clients on "
          f"{len(project_ids)} projects")
    sessions = logged_in(server.base, users, clients)
    before = snapshot(app, project_ids)
    tally = Tally()
    editing = threading.Thread(target=burst, args=(sessions, project_ids, seconds), kwargs={"tally": tally})
    editing.start()
    killed = []
    started = time.monotonic()
    for round_ in range(1, kills + 1):
        time.sleep(max(0.0, started + round_ * seconds / (kills + 1) - time.monotonic()))
        killed += sigkill(server.workers())
        server.wait_ready()
    # A kill proves something only if it cut a request; on a loaded machine the workers may both be between
    # requests at that instant (it happened in CI): kill again while the edits last, until one is cut.
    while tally.cut == 0 and time.monotonic() < started + seconds - 1:
        time.sleep(0.3)
        killed += sigkill(server.workers())
        server.wait_ready()
    editing.join()
    after = snapshot(app, project_ids)
    saved = sum(tally.saved.values())
    rows = sum(len(after[pid].events) - len(before[pid].events) for pid in project_ids)
    print(f"  {saved} saves answered, {tally.conflicts} conflicts (409), {tally.cut} requests cut by the kills, "
          f"{len(killed)} workers killed")
    check("the kills cut requests in flight", tally.cut > 0, tally.cut)
    check("no 5xx", tally.server_errors == 0, tally.server_errors)
    check("no other error", not tally.errors, sorted(set(tally.errors))[:3] or "")
    check("every answered save is in the audit trail; at most the cut ones besides",
          saved <= rows <= saved + tally.cut, f"{rows} audit rows for {saved} answered saves")
    problems = {pid: chain_problems(before[pid], after[pid]) for pid in project_ids}
    broken = {pid: found[:2] for pid, found in problems.items() if found}
    check("no half-saved project (value and version at the last audit row, each row one +1 step)", not broken,
          broken or "")
    integrity(app, check, "after the edit kills")


def phase_recovery(server, app, users, project_ids, admin, confirm: harness.Form, rows: int, check: Checks) -> None:
    print("\nC. the app still serves, and the same import goes through")
    check("/healthz answers", harness.Client(server.base).get("/healthz").status == 200)
    client = harness.Client(server.base)
    client.login(users[0], common.PASSWORD)
    path = f"/projects/{project_ids[0]}/edit"
    answer = client.submit(path, "version", notes="故障演练后的编辑")
    check("a fresh login and an edit work", answer.status == 302, f"HTTP {answer.status}")
    before = table_counts(app)
    started = time.monotonic()
    # The upload staged before the kill is still there: confirming that same preview again redoes the import.
    answer = admin.post(confirm.action or "/ledgers/import/confirm", confirm.fields)
    check("the same ledger imports", answer.status == 302 and answer.location == "/ledgers/batches",
          f"HTTP {answer.status} in {time.monotonic() - started:.1f} s")
    batch_complete(app, before, rows, check)
    integrity(app, check, "after the re-import")


def batch_complete(app, before: dict[str, int], rows: int, check: Checks) -> None:
    with app.app_context():
        batches = db.session.scalars(select(ImportBatch)).all()
        ok = len(batches) == 1
        detail = f"{len(batches)} batches"
        if ok:
            batch = batches[0]
            created = json.loads(batch.changes)["created"]
            present = db.session.scalar(select(func.count()).select_from(Project).where(Project.id.in_(created)))
            projects = db.session.scalar(select(func.count()).select_from(Project))
            ok = (batch.rows_total == rows == batch.created_count == len(created) == present
                  and projects == before["project"] + rows)
            detail = (f"rows {batch.rows_total}, created {batch.created_count}, its projects present {present}, "
                      f"projects {before['project']} → {projects}")
        db.engine.dispose()
    check("one complete batch: every row's project is there", ok, detail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="ledger rows (enough that the import takes seconds)")
    parser.add_argument("--edit-seconds", type=float, default=15)
    parser.add_argument("--kills", type=int, default=2, help="times all workers are killed during the edits")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (its public schema is dropped)")
    args = parser.parse_args(argv)
    if args.rows < 1000:
        parser.error("--rows must be at least 1000: a smaller import may write nothing before its commit")
    check = Checks()
    data = ledger(args.rows)
    with tempfile.TemporaryDirectory(prefix="bench-fault-") as tmp:
        workdir = Path(tmp)
        url = common.fresh_database(workdir, args.database_url)
        print(f"fault bench on {common.database_label(url)}: gunicorn {WORKERS} workers, ledger of {args.rows:,} rows "
              f"({len(data) / 1024 / 1024:.1f} MB)")
        env = common.prepare(workdir, url)
        app = common.bench_app(url)
        with harness.Server(env, workdir / "gunicorn.log", workers=WORKERS) as server:
            users = common.create_users(server, 2, 2)
            project_ids = common.create_projects(server, users[-1], args.projects, "故障演练项目")
            admin = harness.Client(server.base)
            admin.login(common.ADMIN, common.PASSWORD)
            confirm = phase_import_kill(server, app, admin, data, args.rows, check)
            phase_edit_kills(server, app, users, project_ids, clients=args.clients, seconds=args.edit_seconds,
                             kills=args.kills, check=check)
            phase_recovery(server, app, users, project_ids, admin, confirm, args.rows, check)
            log = server.log()
        print()
        check(f'no "{LOCKED}" in the gunicorn log', LOCKED not in log.lower(), log.lower().count(LOCKED))
        check("gunicorn logged the kills", "was sent SIGKILL" in log, log.count("was sent SIGKILL"))
    print(f"RESULT: {'PASS' if not check.failed else 'FAIL: ' + '; '.join(check.failed)}")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
