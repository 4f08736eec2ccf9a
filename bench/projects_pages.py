"""Benchmark: median server time and query count of the project list and detail pages.

Builds a throw-away database (SQLite file by default, or BENCH_DATABASE_URL, whose schema is dropped and
recreated), loads the reference data and N demo projects, then times the pages through the WSGI app
in-process, so the figures are the server's own work without network noise.
Run: .venv/bin/python bench/projects_pages.py [N ...]
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_login import login_required  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth.services import create_user, seed_counties  # noqa: E402
from core.db import db  # noqa: E402
from parks.services import seed_reference  # noqa: E402
from projects.demo import generate  # noqa: E402
from projects.services import seed_approval_types  # noqa: E402
from tests.harness import reset_schema  # noqa: E402

ROUNDS = 60
PASSWORD = "bench-password-123"


def build(size: int, workdir: str):
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir}/bench-{size}.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "CACHE_DIR": f"{workdir}/cache-{size}"})
    with app.app_context():
        reset_schema(db.engine)
        upgrade()
        seed_counties()
        seed_reference()
        seed_approval_types()
        create_user("bench_commerce", "commerce", PASSWORD)
        create_user("bench_county", "county", PASSWORD, county="350481")
        db.session.commit()
        generate(size, random_seed=42)
        db.session.commit()
    app.add_url_rule("/_bench_bare", "bench_bare", login_required(lambda: "ok"))
    return app


def measure(app, username: str, urls: list[str], before=lambda: None, headers: dict | None = None
            ) -> tuple[float, float, float]:
    """Median milliseconds (wall and CPU) and median SQL statements (BEGIN included, as the cursor sees them) over
    ROUNDS requests cycling through ``urls``; ``before`` runs ahead of each timed request, untimed (say, emptying
    the cache). With ``headers`` (an API token's) the requests carry them instead of a login session."""
    client = app.test_client()
    if headers is None:
        client.post("/login", data={"username": username, "password": PASSWORD})
    else:
        client.environ_base.update({f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})
    counts = [0]  # the first slot absorbs the warm-up requests
    with app.app_context():
        engine = db.engine

    def count_query(*_args, **_kwargs):
        counts[-1] += 1

    event.listen(engine, "before_cursor_execute", count_query)
    try:
        for url in urls[:5]:  # warm caches, templates and the connection pool
            client.get(url)
        times, cpu = [], []
        for index in range(ROUNDS):
            before()
            counts.append(0)
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(urls[index % len(urls)])
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, (urls[index % len(urls)], response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", count_query)
    return statistics.median(times), statistics.median(cpu), statistics.median(counts[1:])


def main(sizes: list[int]) -> None:
    rng = random.Random(7)
    print(f"{'projects':>8}  {'page':<34} {'median ms':>9}  {'CPU ms':>6}  {'queries':>7}")
    with tempfile.TemporaryDirectory() as workdir:
        for size in sizes:
            app = build(size, workdir)
            with app.app_context():
                ids = [row[0] for row in db.session.execute(text("SELECT id FROM project ORDER BY id"))]
                county_ids = [row[0] for row in db.session.execute(
                    text("SELECT id FROM project WHERE county_code = '350481'"))]
            pages = [
                ("list, default (commerce)", "bench_commerce", ["/projects/"]),
                ("list, filtered + search", "bench_commerce",
                 ["/projects/?industry=1&stage=started&sort=investment", "/projects/?county=350404&light=red",
                  "/projects/?q=%E7%A7%91%E6%8A%80&major=y&page=2", "/projects/?year=2024&sign_type=contract"]),
                ("list, county official (lights)", "bench_county", ["/projects/"]),
                ("detail (commerce)", "bench_commerce",
                 [f"/projects/{pid}" for pid in rng.sample(ids, min(30, len(ids)))]),
                ("detail (county official)", "bench_county",
                 [f"/projects/{pid}" for pid in rng.sample(county_ids, min(30, len(county_ids)))]),
                ("edit form (commerce)", "bench_commerce",
                 [f"/projects/{pid}/edit" for pid in rng.sample(ids, min(30, len(ids)))]),
                ("a bare logged-in route", "bench_commerce", ["/_bench_bare"]),
            ]
            for label, user, urls in pages:
                median_ms, cpu_ms, queries = measure(app, user, urls)
                print(f"{size:>8}  {label:<34} {median_ms:>9.1f}  {cpu_ms:>6.1f}  {queries:>7.0f}")
            with app.app_context():
                db.engine.dispose()
    print("\nTargets with 10,000 projects (issue #14): list, detail and edit form ≤ 6 ms of CPU and ≤ 6 statements; "
          "the count must not grow with N. The bare route is the login check and Flask alone: what no page can go "
          "below.")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 10000])
