"""Benchmark: the map's server build time and page size, against the naive one-folium-Marker-per-project way.

Builds a throw-away database (SQLite file by default, or BENCH_DATABASE_URL) with N demo projects,
times /map/frame through the WSGI app in-process (the server's own work, no network), prints the
page size raw and gzipped, then times the naive build (one folium.Marker with a Popup per project)
on the same rows. Run: .venv/bin/python bench/map_build.py [N ...]
"""
from __future__ import annotations

import gzip
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import folium  # noqa: E402  (the bench measures folium itself; the app imports it only in maps/folium_map.py)

from bench.projects_pages import PASSWORD, build  # noqa: E402
from core import clock  # noqa: E402
from core.auth.models import User  # noqa: E402
from core.db import db  # noqa: E402
from maps import queries  # noqa: E402
from projects.queries import ListFilters  # noqa: E402

ROUNDS = 7
NAIVE_BUDGET_S = 120  # the naive build at 10,000 runs only if 1,000 suggests it ends within this


def time_map(app) -> tuple[float, int, int]:
    """Median seconds of /map/frame as the commerce user, and the page's raw and gzipped bytes."""
    client = app.test_client()
    client.post("/login", data={"username": "bench_commerce", "password": PASSWORD})
    client.get("/map/frame")  # warm-up
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get("/map/frame")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    page = response.get_data()
    return statistics.median(times), len(page), len(gzip.compress(page, 6))


def time_naive(app) -> float:
    """Seconds to build and render the map with one folium.Marker and Popup per project."""
    with app.test_request_context():
        user = db.session.scalar(db.select(User).filter_by(username="bench_commerce"))
        projects = queries.project_map_data(user, ListFilters(), clock.today())["features"]
        started = time.perf_counter()
        fmap = folium.Map(location=[26.3, 117.55], zoom_start=8, tiles=None)
        for feature in projects:
            lon, lat = feature["geometry"]["coordinates"]
            p = feature["properties"]
            folium.Marker([lat, lon], tooltip=p["name"],
                          popup=folium.Popup(f"{p['name']}<br>{p['investor']}<br>{p['investment']} 万元")).add_to(fmap)
        fmap.get_root().render()
        return time.perf_counter() - started


def main(sizes: list[int]) -> None:
    print(f"{'projects':>8}  {'build median s':>14}  {'raw KB':>8}  {'gzip KB':>8}  {'naive s':>9}  {'ratio':>7}")
    naive_per_project = None
    with tempfile.TemporaryDirectory() as workdir:
        for size in sizes:
            app = build(size, workdir)
            median_s, raw, packed = time_map(app)
            note = ""
            if naive_per_project is None or naive_per_project * size < NAIVE_BUDGET_S:
                naive_s = time_naive(app)
                naive_per_project = naive_s / size
            else:
                naive_s = naive_per_project * size
                note = "  (naive extrapolated from the smaller run)"
            print(f"{size:>8}  {median_s:>14.3f}  {raw / 1024:>8.0f}  {packed / 1024:>8.0f}  {naive_s:>9.2f}  "
                  f"{naive_s / median_s:>6.0f}×{note}")
            with app.app_context():
                db.engine.dispose()
    print("\nTargets with 10,000 projects: build < 0.5 s, page < 1 MB gzipped.")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 10000])
