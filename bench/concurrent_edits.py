"""Benchmark: many users saving the same few projects at once through gunicorn's real edit form; no update may be lost.

Sets up a throw-away database with the real CLI (flask db upgrade, seed, users create), serves it with gunicorn
(gunicorn.conf.py, WEB_CONCURRENCY=3, CSRF on), creates county officials of one county and commerce staff through
/admin/users and the projects through /projects/new. Then each client thread logs in and, until the time is up,
picks a project, GETs its edit page, reads the form (CSRF token, version, every field), adds 1 to the land area it
read (a read-modify-write) and POSTs the form back; a 409 (someone saved first) reloads the form and tries again.

Afterwards it compares what the clients were told with what the database holds: every successful save must have
left exactly one audit row (ProjectEvent for the land area, old → old + 1), each project's version must have moved
once per row, and each project's final land area must equal the number of saves that succeeded on it. A shortfall
is a lost update. It also greps the gunicorn log for "database is locked".

--control serves bench/unchecked_wsgi.py instead of wsgi:app: the same app with the version check defeated.
That run must report lost updates (exit 0 only if it does), which shows the bench can fail. --with-control
does the checked run and then the control run on the same database (one set-up; the CI's short version).

A PostgreSQL URL given with --database-url has its public schema DROPPED and recreated: use a scratch database.
Exit status 0 when every target holds. Run: .venv/bin/python bench/concurrent_edits.py [--clients 50]
[--projects 10] [--seconds 60] [--database-url URL [--both]] [--control | --with-control]
"""
from __future__ import annotations

import argparse
import http.client
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for bench, core and tests

from sqlalchemy import func, select  # noqa: E402

from bench import common  # noqa: E402
from core.db import db  # noqa: E402
from projects.models import EventKind, Project, ProjectEvent  # noqa: E402
from tests import harness  # noqa: E402

FIELD = "land_area"  # the counter each save increments: a number read from the form, so a stale read shows
CHECKED_APP = "wsgi:app"
CONTROL_APP = "bench.unchecked_wsgi:app"
WORKERS = 3
COUNTY_USERS = 3
COMMERCE_USERS = 3
LOCKED = "database is locked"


@dataclass
class Tally:
    """What the clients were told, added up across threads."""

    saved: Counter = field(default_factory=Counter)  # project id → saves answered with the redirect to it
    conflicts: int = 0
    server_errors: int = 0
    cut: int = 0  # requests whose connection broke (a killed worker) before any answer
    errors: list[str] = field(default_factory=list)
    save_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, status: int, what: str) -> None:
        with self.lock:
            if status >= 500:
                self.server_errors += 1
            else:
                self.errors.append(f"{what}: HTTP {status}")


def edit_until(client: harness.Client, projects: list[int], deadline: float, tally: Tally, rng: random.Random) -> None:
    """Save +1 on random projects until ``deadline``; a 409 reloads the same project's form and retries."""
    while time.monotonic() < deadline:
        project_id = rng.choice(projects)
        path = f"/projects/{project_id}/edit"
        while time.monotonic() < deadline:
            try:
                page, form = client.form(path, "version")
                if form is None:
                    tally.failed(page.status, f"GET {path}")
                    break
                form.fields[FIELD] = str(Decimal(form.fields.get(FIELD) or "0") + 1)
                started = time.perf_counter()
                answer = client.post(path, form.fields)
                elapsed_ms = (time.perf_counter() - started) * 1000
            except (OSError, http.client.HTTPException):
                with tally.lock:
                    tally.cut += 1
                break
            with tally.lock:
                tally.save_ms.append(elapsed_ms)
                if answer.status == 409:
                    tally.conflicts += 1
                    continue
                if answer.status == 302 and answer.location == f"/projects/{project_id}":
                    tally.saved[project_id] += 1
                    break
            tally.failed(answer.status, f"POST {path}")
            break


def logged_in(base: str, users: list[str], count: int) -> list[harness.Client]:
    """``count`` clients, each logged in (in parallel) as one of ``users`` in turn."""
    clients = [harness.Client(base) for _ in range(count)]
    with ThreadPoolExecutor(max_workers=min(count, 16)) as pool:
        list(pool.map(lambda pair: pair[0].login(pair[1], common.PASSWORD),
                      [(client, users[i % len(users)]) for i, client in enumerate(clients)]))
    return clients


def burst(clients: list[harness.Client], projects: list[int], seconds: float, seed: int = 1,
          tally: Tally | None = None) -> Tally:
    """Every client edits until ``seconds`` have passed; returns the tally once all threads are done (``tally``, when
    given, is the one counted into: another thread may watch it while the edits run)."""
    tally = tally if tally is not None else Tally()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=edit_until, args=(client, projects, deadline, tally, random.Random(seed + i)))
               for i, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


@dataclass
class ProjectState:
    value: Decimal
    version: int
    events: list[tuple[int, str | None, str | None]]  # (version, old, new) of the FIELD's audit rows
    last_event_version: int  # the highest version any audit row of the project records


def snapshot(app, project_ids: list[int]) -> dict[int, ProjectState]:
    """Each project's counter, version and the counter's audit rows, read straight from the database."""
    with app.app_context():
        rows = db.session.execute(select(Project.id, Project.land_area, Project.version)
                                  .where(Project.id.in_(project_ids))).all()
        last = dict(db.session.execute(select(ProjectEvent.project_id, func.max(ProjectEvent.version))
                                       .where(ProjectEvent.project_id.in_(project_ids))
                                       .group_by(ProjectEvent.project_id)).all())
        events = db.session.execute(select(ProjectEvent.project_id, ProjectEvent.version, ProjectEvent.old_value,
                                           ProjectEvent.new_value)
                                    .where(ProjectEvent.project_id.in_(project_ids), ProjectEvent.field == FIELD,
                                           ProjectEvent.kind == EventKind.UPDATED)
                                    .order_by(ProjectEvent.project_id, ProjectEvent.version)).all()
        db.engine.dispose()  # hold no connection (nor SQLite snapshot) while the server works
    states = {pid: ProjectState(value or Decimal(0), version, [], last.get(pid, 0)) for pid, value, version in rows}
    for pid, version, old, new in events:
        states[pid].events.append((version, old, new))
    return states


def chain_problems(before: ProjectState, after: ProjectState) -> list[str]:
    """What breaks "every audit row is one +1 step, and the project sits at the last one"."""
    problems = []
    rows = after.events[len(before.events):]
    expected_value, expected_version = before.value, before.version
    for version, old, new in rows:
        if version != expected_version + 1:
            problems.append(f"audit row for version {version} follows version {expected_version}")
        if Decimal(old or 0) != expected_value or Decimal(new or 0) != expected_value + 1:
            problems.append(f"version {version}: {old} → {new}, expected {expected_value} → {expected_value + 1}")
        expected_value, expected_version = Decimal(new or 0), version
    if after.value != expected_value:
        problems.append(f"final value {after.value} differs from the last audit row's {expected_value}")
    if after.version != expected_version or after.last_event_version != after.version:
        problems.append(f"version {after.version}, last audit row for the field at {expected_version}, "
                        f"last audit row at {after.last_event_version}")
    return problems


def lost_updates(tally: Tally, before: dict[int, ProjectState], after: dict[int, ProjectState]) -> int:
    """Saves the clients were told succeeded that the final values do not contain."""
    return sum(max(0, tally.saved[pid] - int(after[pid].value - before[pid].value)) for pid in before)


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def run(url: str | None, *, clients: int, projects: int, seconds: float, modes: list[bool]) -> list[bool]:
    """Runs on one fresh database, one per mode (False: version check on, True: control); returns each verdict."""
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="bench-edits-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        url = common.fresh_database(workdir, url)
        env = common.prepare(workdir, url)
        app = common.bench_app(url)
        users: list[str] = []
        for number, control in enumerate(modes, 1):
            log_path = workdir / f"gunicorn-{number}.log"
            with harness.Server(env, log_path, app=CONTROL_APP if control else CHECKED_APP,
                                workers=WORKERS) as server:
                users = users or common.create_users(server, COUNTY_USERS, COMMERCE_USERS)
                project_ids = common.create_projects(server, users[-1], projects, f"并发编辑基准项目{number}-")
                sessions = logged_in(server.base, users, clients)
                setup_s = time.monotonic() - started
                before = snapshot(app, project_ids)
                tally = burst(sessions, project_ids, seconds)
                after = snapshot(app, project_ids)
            print(f"\nconcurrent edits on {common.database_label(url)}: gunicorn {WORKERS} workers, "
                  f"{clients} clients × {projects} projects × {seconds:g} s, "
                  f"{'CONTROL: version check defeated (bench/unchecked_wsgi.py)' if control else 'version check on'} "
                  f"(set-up {setup_s:.0f} s)")
            verdicts.append(report(tally, before, after, log_path.read_text(errors="replace"), seconds, control))
            started = time.monotonic()
    return verdicts


def report(tally: Tally, before: dict[int, ProjectState], after: dict[int, ProjectState], log: str, seconds: float,
           control: bool) -> bool:
    """Print the run's table; returns whether its targets hold (for the control: whether it lost updates)."""
    project_ids = list(before)
    saved = sum(tally.saved.values())
    audit_rows = sum(len(after[pid].events) - len(before[pid].events) for pid in project_ids)
    increase = int(sum(after[pid].value - before[pid].value for pid in project_ids))
    lost = lost_updates(tally, before, after)
    problems = {pid: chain_problems(before[pid], after[pid]) for pid in project_ids}
    broken = [pid for pid, found in problems.items() if found]
    locked = log.lower().count(LOCKED)
    errors = len(tally.errors) + tally.cut
    rows = [
        ("successful edits", f"{saved} ({saved / seconds:.1f}/s)", "> 0", saved > 0),
        ("409 conflicts (form reloaded, retried)", tally.conflicts, "", None),
        ("5xx responses", tally.server_errors, "0", tally.server_errors == 0),
        ("other errors (4xx, broken connections)", errors, "0", errors == 0),
        ("save latency p50 / p95 (ms)", f"{percentile(tally.save_ms, 50):.0f} / {percentile(tally.save_ms, 95):.0f}",
         "", None),
        (f'"{LOCKED}" in the gunicorn log', locked, "0", locked == 0),
        (f"audit rows ({FIELD} ProjectEvent)", audit_rows, "= successful edits", audit_rows == saved),
        (f"{FIELD} increase (final − initial)", increase, "= successful edits", increase == saved),
        ("projects whose audit trail disagrees", len(broken), "0", not broken),
        ("LOST UPDATES", lost, "> 0 (control)" if control else "0", lost > 0 if control else lost == 0),
    ]
    print(f"  {'measure':<42} {'value':>16}  {'target':<20} ok")
    for label, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"  {label:<42} {value!s:>16}  {target:<20} {mark}")
    for message in sorted(set(tally.errors))[:5]:
        print(f"  error: {message}")
    for pid in broken[:3]:
        print(f"  project {pid}: {'; '.join(problems[pid][:3])}")
    if control:
        passed = lost > 0
        print(f"RESULT: {'PASS' if passed else 'FAIL'}: the unchecked handler "
              f"{'lost' if passed else 'did not lose'} {lost} updates, so the bench can tell")
        return passed
    passed = all(ok for *_, ok in rows if ok is not None)
    print(f"RESULT: {'PASS' if passed else 'FAIL'}")
    if not passed and "Traceback" in log:
        print(log[log.index("Traceback"):][:3000])
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (its public schema is dropped)")
    parser.add_argument("--both", action="store_true", help="run on SQLite, then on --database-url")
    parser.add_argument("--control", action="store_true",
                        help="only the control run: the app without the version check")
    parser.add_argument("--with-control", action="store_true",
                        help="the checked run, then the control run on the same database")
    args = parser.parse_args(argv)
    if args.both and not args.database_url:
        parser.error("--both needs --database-url")
    urls = [None, args.database_url] if args.both else [args.database_url]
    modes = [True] if args.control else [False, True] if args.with_control else [False]
    verdicts = [verdict for url in urls for verdict in run(url, clients=args.clients, projects=args.projects,
                                                           seconds=args.seconds, modes=modes)]
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
