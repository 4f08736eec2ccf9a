"""Benchmark: median server time and query count of the dashboard, for a city-wide user and a county official.

Builds a throw-away database (SQLite file by default, or BENCH_DATABASE_URL, whose schema is dropped and
recreated), loads the reference data and N demo projects, then times /dashboard through the WSGI app
in-process, as CPU time (other load on a shared machine does not count): cold (the cache emptied before each
request, as after every write) with its query count; cold for this user while the city-wide tables (ranking,
completeness boards) were just built by another user's view, as for everyone but the first after a write; then
from the cache. Run: .venv/bin/python bench/dashboard.py [N ...]   (default 10000; targets: cold ≤ 60 ms, cached ≤ 10 ms)
"""
from __future__ import annotations

import gc
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.projects_pages import PASSWORD, build, measure  # noqa: E402  (same throw-away database and timing loop)
from core.db import db  # noqa: E402
from core.extensions import cache  # noqa: E402

PAGES = [
    ("dashboard, this year (leader/commerce)", "bench_commerce", ["/dashboard"]),
    ("dashboard, all time + filters (commerce)", "bench_commerce",
     ["/dashboard?date_from=&date_to=", "/dashboard?date_from=&date_to=&industry=1",
      "/dashboard?date_from=2024-01-01&date_to=2024-12-31&county=350404"]),
    ("dashboard, county official", "bench_county", ["/dashboard", "/dashboard?date_from=&date_to="]),
]


def main(sizes: list[int]) -> None:
    print("CPU milliseconds per request (medians), in-process")
    print(f"{'projects':>8}  {'page':<42} {'cold ms':>8}  {'queries':>7}  {'shared kept':>11}  {'cached ms':>9}")
    with tempfile.TemporaryDirectory() as workdir:
        for size in sizes:
            app = build(size, workdir)
            # Like a gunicorn worker, which never held the demo data's generation: its leftovers out of the GC's way.
            gc.collect()
            gc.freeze()

            def empty_cache():
                with app.app_context():
                    cache.clear()

            for label, user, urls in PAGES:
                other = app.test_client()  # a user of another scope, who opens the same views first
                other.post("/login", data={"username": "bench_commerce" if user == "bench_county" else "bench_county",
                                           "password": PASSWORD})

                def after_another_view(urls=urls, other=other):
                    empty_cache()
                    for url in urls:
                        other.get(url)

                _wall, cold_ms, queries = measure(app, user, urls, before=empty_cache)
                _wall, shared_ms, _queries = measure(app, user, urls, before=after_another_view)
                _wall, cached_ms, _queries = measure(app, user, urls)
                print(f"{size:>8}  {label:<42} {cold_ms:>8.1f}  {queries:>7.0f}  {shared_ms:>11.1f}  {cached_ms:>9.1f}")
            with app.app_context():
                db.engine.dispose()
    print("\nTargets with 10,000 projects: cold ≤ 60 ms, cached ≤ 10 ms; the query count must not grow with N.")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10000])
