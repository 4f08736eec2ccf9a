"""Benchmark: gunicorn under 20 clients without think time, 80 % reads and 20 % edits; per-page latency and throughput.

Builds a throw-away database with the real CLI through tests/harness.py (flask db upgrade, seed, users
create, demo-data; a SQLite file in a temp dir, or --database-url, whose public schema is DROPPED and
recreated), serves it with gunicorn.conf.py and its own worker count on a loopback port, logs every client
in through the login form (CSRF on, as in production), then, each phase ending by itself:
  0. calibration: one client, forty of each operation, gunicorn's CPU per request of each page from /proc
     (the bare route's too, in its own phase). Unlike the latencies this ignores other load on the machine,
     and gives the mix's ceiling on an idle machine; issue #14's CPU targets are checked against it;
  1. the mix, --seconds long; of every 100 operations: 20 list pages (a page number or a filter),
     20 project details (random ids), 20 dashboards, 10 map frames, 10 project GeoJSON downloads and
     20 edits (the edit form, then its POST with the form's version; a 409 is counted, not retried);
  2. the project list alone, --baseline-seconds long;
  3. with --rate R, an open loop: operations of the mix due on a fixed schedule of R requests/s, served by
     up to 64 clients, each request timed from when it was due (so a queue in front of the server counts);
  4. a bare Flask route (bench/bare_wsgi.py) under the same gunicorn.conf.py and clients, as long.
Prints count, rps, p50/p95/p99 and statuses per page, gunicorn's CPU per request, PASS/FAIL per target,
and the list's throughput as a share of the bare route's. One client in four is a county official
(reads and edits their county). Clients send Accept-Encoding: gzip as browsers do and share the
machine's cores with the server, so on a busy machine the latencies are noisy. Exit code 0 unless
--strict and a target fails.
Run: .venv/bin/python bench/load.py [--projects 10000] [--seconds 120] [--baseline-seconds 30]
     [--clients 20] [--mix list=40,detail=40,edit=20] [--rate 50] [--database-url URL] [--strict]
Quick try: .venv/bin/python bench/load.py --quick   (1,000 projects, 20 s, 10 s baselines)
"""
from __future__ import annotations

import argparse
import http.client
import os
import queue
import random
import runpy
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for bench, core and tests

from sqlalchemy import select  # noqa: E402

from bench import common  # noqa: E402
from core.db import db  # noqa: E402
from parks.models import Industry  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.queries import PAGE_SIZE  # noqa: E402
from tests import harness  # noqa: E402  (gunicorn, the CLI set-up and the form-filling client)

COUNTY = "350481"  # 永安市: the county official's own county
CLIENTS = 20
OPEN_LOOP_CLIENTS = 64  # enough that the schedule, not the clients, sets the pace
# Of every 100 operations; an edit is two requests (the form, then the save).
MIX = {"list": 20, "detail": 20, "dashboard": 20, "map frame": 10, "map GeoJSON": 10, "edit": 20}
PAGES = ["list", "detail", "dashboard", "map frame", "map GeoJSON", "edit form", "save"]
READ_PATHS = {"map frame": "/map/frame", "map GeoJSON": "/api/v1/projects.geojson"}
CALIBRATION_ROUNDS = 40
PAGE_TARGET_MS, HEAVY_TARGET_MS = 200, 500
HEAVY = {"dashboard", "map frame", "map GeoJSON"}
# Issue #14's CPU targets, gunicorn's milliseconds per request with one client; pages also ≥ 10 % of the bare route.
CPU_TARGETS_MS = {"list": 6, "detail": 6, "edit form": 6, "save": 15, "map frame": 5, "map GeoJSON": 5,
                  "dashboard": 10}
BARE_SHARE = 0.10
LIST_QUERIES = ["stage=started", "stage=approval&sort=investment", "light=red", "major=y", "sort=light",
                "q=%E7%A7%91%E6%8A%80", "sign_type=contract&sort=sign_date", "county=350404&page=2"]


@dataclass
class Results:
    """Every timed request of one phase: (page, status, milliseconds); status 0 is a connection error."""

    samples: list[tuple[str, int, float]] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: float = 0.0  # seconds of CPU gunicorn used meanwhile (other load on the machine not counted)

    @property
    def rps(self) -> float:
        return len(self.samples) / self.elapsed

    @property
    def cpu_ms(self) -> float:
        """gunicorn's CPU milliseconds per request."""
        return self.cpu * 1000 / max(1, len(self.samples))

    @property
    def errors(self) -> int:
        return sum(1 for _page, status, _ms in self.samples if status >= 500)


@dataclass
class World:
    """What the clients pick from: project ids (all, and the county official's), industries, list pages."""

    ids: list[int]
    county_ids: list[int]
    industries: list[int]
    pages: int


class Worker:
    """One client thread: its user, what it may read and edit, and the requests it timed."""

    def __init__(self, number: int, base: str, world: World):
        self.number, self.world = number, world
        county = number % 4 == 3  # one client in four is a county official
        self.username = "bench_county" if county else "bench_commerce"
        self.ids = world.county_ids if county else world.ids
        self.rng = random.Random(number)
        self.client = harness.Client(base, headers={"Accept-Encoding": "gzip"})  # as browsers ask
        self.samples: list[tuple[str, int, float]] = []
        self.saves = 0
        self.cpu_of = None  # during calibration: each worker's CPU, read around each request
        self.cpu: dict[str, list[float]] = {}

    def send(self, page: str, path: str, fields: dict | None = None) -> harness.Response | None:
        """GET ``path``, or POST ``fields`` to it, and time it (to the last byte); only the edit form's body is
        decoded. A refused or cut connection counts as status 0."""
        decode = page == "edit form"
        cpu_before = self.cpu_of() if self.cpu_of else {}
        started = time.perf_counter()
        try:
            answer = (self.client.get(path, decode=decode) if fields is None
                      else self.client.post(path, fields, decode=decode))
        except (OSError, http.client.HTTPException):
            answer = None
        self.samples.append((page, answer.status if answer else 0,
                             (time.perf_counter() - (self.scheduled or started)) * 1000))
        self.scheduled = None  # an edit's save is timed from its own start
        if self.cpu_of:
            grown = [seconds - cpu_before.get(pid, 0.0) for pid, seconds in self.cpu_of().items()]
            self.cpu.setdefault(page, []).append(max(grown, default=0.0))
        return answer

    scheduled: float | None = None  # open loop: the time the operation was due, so waiting in line counts

    def list_path(self) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return f"/projects/?page={self.rng.randint(1, self.world.pages)}"
        if roll < 0.7:
            return f"/projects/?industry={self.rng.choice(self.world.industries)}&page={self.rng.randint(1, 3)}"
        return "/projects/?" + self.rng.choice(LIST_QUERIES)

    def edit(self) -> None:
        project_id = self.rng.choice(self.ids)
        page = self.send("edit form", f"/projects/{project_id}/edit")
        form = next((f for f in harness.forms_of(page.text) if "version" in f.fields), None) if page else None
        if form is None:
            return
        self.saves += 1
        form.fields["liaison"] = f"压测{self.number}-{self.saves}"
        self.send("save", f"/projects/{project_id}/edit", form.fields)

    def operation(self, kind: str) -> None:
        if kind == "edit":
            self.edit()
        elif kind == "list":
            self.send("list", self.list_path())
        elif kind == "detail":
            self.send("detail", f"/projects/{self.rng.choice(self.ids)}")
        elif kind == "dashboard":
            self.send("dashboard", "/dashboard" if self.rng.random() < 0.7 else "/dashboard?date_from=&date_to=")
        else:
            self.send(kind, READ_PATHS[kind])

    def run(self, mix: dict[str, int], start: threading.Barrier, deadline: list[float]) -> None:
        kinds, weights = list(mix), list(mix.values())
        start.wait()
        while time.monotonic() < deadline[0]:
            self.operation(self.rng.choices(kinds, weights)[0])


class BareWorker(Worker):
    """A client of the bare route: no login, one page."""

    def operation(self, kind: str) -> None:
        self.send("bare", "/")


def server_cpu(server: harness.Server) -> float:
    """CPU seconds gunicorn has used so far: the master, its live workers and those it has recycled
    (max_requests) and reaped, which /proc counts in the master's cutime and cstime."""
    fields = Path(f"/proc/{server.master}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = int(fields[13]) + int(fields[14])
    ticks = common.cpu_ticks(server.master) + reaped + sum(common.cpu_ticks(pid) for pid in server.workers())
    return ticks / os.sysconf("SC_CLK_TCK")


def run_phase(server: harness.Server, workers: list[Worker], mix: dict[str, int], seconds: float) -> Results:
    """All clients at once, no think time, for ``seconds``; requests that start before the end count."""
    cpu_before = server_cpu(server)
    start = threading.Barrier(len(workers) + 1)
    deadline = [0.0]
    threads = [threading.Thread(target=w.run, args=(mix, start, deadline), daemon=True) for w in workers]
    for worker, thread in zip(workers, threads):
        worker.samples = []
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    return Results([sample for worker in workers for sample in worker.samples], time.monotonic() - began,
                   server_cpu(server) - cpu_before)


def percentile(values: list[float], share: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def report(results: Results, pages: list[str]) -> dict[str, dict]:
    print(f"{'page':<12} {'count':>7} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'5xx':>5} "
          f"{'409':>5} {'other':>6}")
    stats = {}
    for page in pages:
        rows = [(status, ms) for name, status, ms in results.samples if name == page]
        times = [ms for status, ms in rows]
        expected = (302,) if page == "save" else (200,)
        row = {"count": len(rows), "rps": len(rows) / results.elapsed,
               "p50": percentile(times, 50), "p95": percentile(times, 95), "p99": percentile(times, 99),
               "5xx": sum(1 for status, _ in rows if status >= 500),
               "409": sum(1 for status, _ in rows if status == 409),
               "other": sum(1 for status, _ in rows if status not in expected and status != 409 and status < 500)}
        stats[page] = row
        print(f"{page:<12} {row['count']:>7} {row['rps']:>7.1f} {row['p50']:>8.0f} {row['p95']:>8.0f} "
              f"{row['p99']:>8.0f} {row['5xx']:>5} {row['409']:>5} {row['other']:>6}")
    print(f"{'all':<12} {len(results.samples):>7} {results.rps:>7.1f}   over {results.elapsed:.1f} s; "
          f"server CPU {results.cpu_ms:.1f} ms per request")
    return stats


def configured_workers() -> int:
    """The worker count gunicorn.conf.py picks on this machine (WEB_CONCURRENCY, else its default)."""
    return runpy.run_path(str(harness.ROOT / "gunicorn.conf.py"))["workers"]


def build(args, workdir: Path) -> tuple[dict, World]:
    """Migrate, seed, add the two users and the demo projects with the real CLI; gunicorn's env and the ids."""
    url = common.fresh_database(workdir, args.database_url)
    started = time.monotonic()
    env = common.prepare(workdir, url)
    for name, role in (("bench_commerce", "commerce"), ("bench_county", "county")):
        harness.run_cli(env, "users", "create", name, "--role", role,
                        *(["--county", COUNTY] if role == "county" else []), "--password-stdin",
                        stdin=common.PASSWORD + "\n")
    harness.run_cli(env, "demo-data", "--projects", str(args.projects), "--seed", "42")
    app = common.bench_app(url)
    with app.app_context():
        ids = list(db.session.scalars(select(Project.id).order_by(Project.id)))
        county_ids = list(db.session.scalars(select(Project.id).where(Project.county_code == COUNTY)))
        industries = list(db.session.scalars(select(Industry.id)))
        db.engine.dispose()
    print(f"database: {common.database_label(url)}, {len(ids):,} projects ({len(county_ids):,} in {COUNTY}), "
          f"built with the CLI in {time.monotonic() - started:.0f} s")
    return env, World(ids, county_ids, industries, max(1, -(-len(ids) // PAGE_SIZE)))


def pages_of(mix: dict[str, int]) -> list[str]:
    """The pages a mix requests: an edit is its form and its save."""
    return [page for page in PAGES if page in mix or (page in ("edit form", "save") and "edit" in mix)]


def parse_mix(value: str) -> dict[str, int]:
    """``list=20,detail=20,...`` → weights; names from MIX, weights whole numbers."""
    try:
        mix = {name.strip(): int(weight) for name, weight in (part.split("=") for part in value.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError("expected name=weight,name=weight,...") from None
    unknown = set(mix) - set(MIX)
    if unknown or not any(mix.values()):
        raise argparse.ArgumentTypeError(f"names are {', '.join(MIX)}; at least one weight above 0")
    return mix


def check(label: str, ok: bool, detail: str) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}  {label}: {detail}")
    return ok


def workers_cpu(server: harness.Server) -> dict[int, float]:
    """CPU seconds each live worker has had, to the nanosecond."""
    return {pid: common.cpu_seconds(pid) for pid in server.workers()}


def calibrate(server: harness.Server, worker: Worker, mix: dict[str, int]) -> dict[str, float]:
    """CPU milliseconds of the worker that served each request (the mean of CALIBRATION_ROUNDS per page), one
    request at a time: what a page costs, whatever else the machine is doing. Only the serving worker (the one
    whose CPU grew most) is counted: with one client the other workers also wake for every connection only to
    find it taken, a cost of idleness (a bare route's 0.7 ms becomes 4 ms) that a busy server hardly pays."""
    worker.cpu_of, worker.cpu = (lambda: workers_cpu(server)), {}
    for kind in mix:
        for _ in range(CALIBRATION_ROUNDS):
            worker.operation(kind)
    worker.cpu_of, worker.samples = None, []
    return {page: statistics.fmean(seconds) * 1000 for page, seconds in worker.cpu.items()}


def print_capacity(costs: dict[str, float], mix: dict[str, int], clients: int, cores: int, postgres: bool) -> None:
    """What the calibration implies on an otherwise idle machine: the mix's ceiling and, as the clients
    never pause, the mean wait it forces on every request (Little's law)."""
    weight = sum(mix.values())
    operation_ms = {kind: costs["edit form"] + costs["save"] if kind == "edit" else costs[kind] for kind in mix}
    cpu_per_operation = sum(operation_ms[kind] * share for kind, share in mix.items()) / weight
    requests_per_operation = sum((2 if kind == "edit" else 1) * share for kind, share in mix.items()) / weight
    ceiling = cores * 1000 / cpu_per_operation * requests_per_operation
    print(f"gunicorn's CPU per request, one client, {CALIBRATION_ROUNDS} operations of each kind"
          f"{' (PostgreSQL’s own CPU not included)' if postgres else ''}: "
          + ", ".join(f"{page} {ms:.1f} ms" for page, ms in costs.items()))
    print(f"the mix: {cpu_per_operation:.0f} ms of CPU per operation → at most {ceiling:.0f} requests/s on "
          f"{cores} cores; {clients} clients without think time then wait ≥ {clients / ceiling * 1000:.0f} ms "
          f"per request on average, whatever the page\n")


def app_phases(args, env: dict, world: World, log_path: Path, size: int) -> tuple[dict, Results, dict, dict | None]:
    """Calibration, the mixed phase, the list alone, then (with --rate) the open loop, on the app under
    gunicorn.conf.py with ``size`` workers."""
    with harness.Server(env, log_path, workers=size) as server:
        workers = [Worker(n, server.base, world) for n in range(max(args.clients, OPEN_LOOP_CLIENTS if args.rate else 0))]
        for worker in workers:
            worker.client.login(worker.username, common.PASSWORD)
            for kind in args.mix:  # warm templates, caches and connection pools; not timed
                worker.operation(kind)
        booted = len(server.workers())
        print(f"gunicorn: gunicorn.conf.py, {booted} workers; {args.clients} clients without think time")
        costs = calibrate(server, workers[0], args.mix)
        print_capacity(costs, args.mix, args.clients, min(booted, os.cpu_count() or 1),
                       postgres=bool(args.database_url))
        closed = workers[:args.clients]
        print(f"mixed load, {args.seconds:.0f} s (operations by weight: "
              f"{', '.join(f'{k} {v}' for k, v in args.mix.items())})")
        mixed = report(run_phase(server, closed, args.mix, args.seconds), pages_of(args.mix))
        print(f"\nproject list alone, {args.baseline_seconds:.0f} s")
        alone = run_phase(server, closed, {"list": 1}, args.baseline_seconds)
        report(alone, ["list"])
        opened = None
        if args.rate:
            print(f"\nopen loop: {args.rate:g} requests/s arriving on a fixed schedule, {args.seconds:.0f} s, the mix "
                  f"above; a request's time counts from when it was due, so waiting for a free client counts too")
            opened = report(run_open_loop(server, workers, args.mix, args.rate, args.seconds), pages_of(args.mix))
    return mixed, alone, costs, opened


def run_open_loop(server: harness.Server, workers: list[Worker], mix: dict[str, int], rate: float,
                  seconds: float) -> Results:
    """Operations due at a fixed rate (an edit is two requests, so operations come at rate ÷ requests per
    operation) whatever the answers' speed: unlike the closed loop, a slow server does not slow the arrivals."""
    kinds, weights = list(mix), list(mix.values())
    requests_per_operation = sum((2 if kind == "edit" else 1) * share for kind, share in mix.items()) / sum(weights)
    interval = requests_per_operation / rate
    due: queue.Queue = queue.Queue()
    rng = random.Random(1)
    cpu_before = server_cpu(server)
    began = time.monotonic()
    count = int(seconds / interval)
    for index in range(count):
        due.put((began + index * interval, rng.choices(kinds, weights)[0]))

    def client(worker: Worker) -> None:
        worker.samples = []
        while True:
            try:
                at, kind = due.get_nowait()
            except queue.Empty:
                return
            time.sleep(max(0.0, at - time.monotonic()))
            worker.scheduled = time.perf_counter() - max(0.0, time.monotonic() - at)
            worker.operation(kind)
            worker.scheduled = None

    threads = [threading.Thread(target=client, args=(worker,), daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Results([sample for worker in workers for sample in worker.samples], time.monotonic() - began,
                   server_cpu(server) - cpu_before)


def bare_phase(args, env: dict, world: World, log_path: Path, size: int) -> tuple[Results, float]:
    """The same clients against bench/bare_wsgi.py under the same gunicorn.conf.py and worker count, and its CPU
    per request with one client, calibrated like the app's pages."""
    with harness.Server(env, log_path, app="bench.bare_wsgi:app", workers=size) as server:
        workers = [BareWorker(n, server.base, world) for n in range(args.clients)]
        bare_cpu = calibrate(server, workers[0], {"bare": 1})["bare"]
        print(f"\nbare Flask route: {bare_cpu:.2f} ms of gunicorn's CPU per request, one client")
        print(f"\nbare Flask route (bench/bare_wsgi.py, {len(server.workers())} workers), "
              f"{args.baseline_seconds:.0f} s")
        bare = run_phase(server, workers, {"bare": 1}, args.baseline_seconds)
        report(bare, ["bare"])
    return bare, bare_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 projects, 20 s, 10 s baselines (to try it out)")
    parser.add_argument("--projects", type=int, help="demo projects to generate (default 10000)")
    parser.add_argument("--seconds", type=float, help="length of the mixed phase (default 120)")
    parser.add_argument("--baseline-seconds", type=float, help="length of the list-only and bare phases (default 30)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent clients (default 20)")
    parser.add_argument("--database-url", help="PostgreSQL URL (postgresql+psycopg://...); its schema is DROPPED")
    parser.add_argument("--mix", type=parse_mix, default=MIX,
                        help="operation weights, e.g. list=40,detail=40,edit=20 (default: the issue's mix)")
    parser.add_argument("--rate", type=float, help="also an open loop: this many requests/s on a fixed schedule "
                                                   "(the issue's target: 50)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args()
    quick = args.quick
    args.projects = args.projects or (1000 if quick else 10_000)
    args.seconds = args.seconds or (20 if quick else 120)
    args.baseline_seconds = args.baseline_seconds or (10 if quick else 30)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
          "(other work on the machine makes the figures noisy)")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        env, world = build(args, workdir)
        size = configured_workers()
        mixed, alone, costs, opened = app_phases(args, env, world, workdir / "gunicorn.log", size)
        bare, bare_cpu = bare_phase(args, env, world, workdir / "bare.log", size)
    print(f"\nload average now {os.getloadavg()[0]:.2f}")

    print(f"\nproject list alone / bare Flask route: {alone.rps:.1f} / {bare.rps:.1f} rps = {alone.rps / bare.rps:.1%} "
          f"of the framework's own limit under the same gunicorn settings (by server CPU per request: "
          f"{bare.cpu_ms:.1f} / {alone.cpu_ms:.1f} ms = {bare.cpu_ms / alone.cpu_ms:.1%})")
    print(f"\ntargets ({args.projects:,} projects, {args.clients} clients):")
    results = []
    for page, limit in CPU_TARGETS_MS.items():
        if page in costs:
            results.append(check(f"{page} ≤ {limit} ms of CPU per request", costs[page] <= limit,
                                 f"{costs[page]:.1f} ms = {bare_cpu / costs[page]:.1%} of the bare route's "
                                 f"{bare_cpu:.2f} ms"))
            if page in ("list", "detail", "edit form"):
                results.append(check(f"{page} ≥ {BARE_SHARE:.0%} of the bare route", bare_cpu / costs[page] >= BARE_SHARE,
                                     f"{bare_cpu / costs[page]:.1%}"))
    for page in mixed:
        limit = HEAVY_TARGET_MS if page in HEAVY else PAGE_TARGET_MS
        results.append(check(f"{page} p95 < {limit} ms", mixed[page]["p95"] < limit,
                             f"{mixed[page]['p95']:.0f} ms"))
    errors = sum(row["5xx"] for row in mixed.values()) + alone.errors
    results.append(check("no 5xx", errors == 0, f"{errors}"))
    if opened:
        worst = max(opened, key=lambda page: opened[page]["p95"])
        results.append(check(f"open loop at {args.rate:g} requests/s: p95 < {PAGE_TARGET_MS} ms on every page",
                             opened[worst]["p95"] < PAGE_TARGET_MS, f"worst {worst} {opened[worst]['p95']:.0f} ms"))
        failed = sum(row["5xx"] for row in opened.values())
        results.append(check("open loop: no 5xx", failed == 0, f"{failed}"))
    unexpected = sum(row["other"] for row in mixed.values())
    if unexpected:
        print(f"  NOTE  {unexpected} answers with an unexpected status (not 200/302/409/5xx): see the 'other' column")
    failures = results.count(False)
    print(f"{failures} of {len(results)} targets missed" if failures else "all targets met")
    return 1 if args.strict and failures else 0


if __name__ == "__main__":
    sys.exit(main())
