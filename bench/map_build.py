"""Benchmark: the map's server build time and page size, against the naive one-folium-Marker-per-project way;
and the counties layer's GeoJSON, cold and cached.

Builds a throw-away database (SQLite file by default, or BENCH_DATABASE_URL) with N demo projects,
times /map/frame through the WSGI app in-process (the server's own work: CPU time, so other load on a shared machine
does not count; no network) as a browser asks for it
(gzip accepted): cold (the cache emptied first, as after every write: query, build, serialise, gzip), from the
cache, and revalidated (304); prints the page size raw and gzipped, then times the naive build (one
folium.Marker with a Popup per project) on the same rows. Run: .venv/bin/python bench/map_build.py [N ...]
"""
from __future__ import annotations

import gc
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
from core.extensions import cache  # noqa: E402
from maps import queries  # noqa: E402
from projects.queries import ListFilters  # noqa: E402

ROUNDS = 7
NAIVE_BUDGET_S = 120  # the naive build at 10,000 runs only if 1,000 suggests it ends within this


def median_ms(request, before=lambda: None) -> float:
    times = []
    for _ in range(ROUNDS):
        before()
        started = time.process_time()
        request()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def time_endpoint(app, path: str) -> tuple[float, float, float, int, int]:
    """Median CPU milliseconds of ``path`` as the commerce user (gzip accepted, as browsers ask): cold (the cache
    emptied first), cached and revalidated (304); its raw and gzipped bytes."""
    client = app.test_client()
    client.post("/login", data={"username": "bench_commerce", "password": PASSWORD})
    gzipped = {"Accept-Encoding": "gzip"}
    response = client.get(path, headers=gzipped)  # warm-up (templates, connections)
    assert response.status_code == 200

    def empty_cache():
        with app.app_context():
            cache.clear()

    cold_ms = median_ms(lambda: client.get(path, headers=gzipped), before=empty_cache)
    cached_ms = median_ms(lambda: client.get(path, headers=gzipped))
    etag = {**gzipped, "If-None-Match": response.headers["ETag"]}
    assert client.get(path, headers=etag).status_code == 304
    revalidated_ms = median_ms(lambda: client.get(path, headers=etag))
    return cold_ms, cached_ms, revalidated_ms, len(client.get(path).get_data()), len(response.get_data())


def time_naive(app) -> float:
    """CPU seconds to build and render the map with one folium.Marker and Popup per project."""
    with app.test_request_context():
        user = db.session.scalar(db.select(User).filter_by(username="bench_commerce"))
        points, _unplaced = queries.project_points(user, ListFilters(), clock.today())
        started = time.process_time()
        fmap = folium.Map(location=[26.3, 117.55], zoom_start=8, tiles=None)
        for p in points:
            folium.Marker([p.lat, p.lon], tooltip=p.name,
                          popup=folium.Popup(f"{p.name}<br>{p.investor}<br>{p.investment} 万元")).add_to(fmap)
        fmap.get_root().render()
        return time.process_time() - started


def main(sizes: list[int]) -> None:
    print("CPU milliseconds per request (medians), in-process")
    print(f"{'projects':>8}  {'cold ms':>8}  {'cached ms':>9}  {'304 ms':>6}  {'raw KB':>7}  {'gzip KB':>7}  "
          f"{'naive s':>8}  {'naive/cold':>10}")
    naive_per_project = None
    with tempfile.TemporaryDirectory() as workdir:
        for size in sizes:
            app = build(size, workdir)
            # Like a gunicorn worker, which never held the demo data's generation: its leftovers out of the GC's way.
            gc.collect()
            gc.freeze()
            cold_ms, cached_ms, revalidated_ms, raw, packed = time_endpoint(app, "/map/frame")
            note = ""
            if naive_per_project is None or naive_per_project * size < NAIVE_BUDGET_S:
                naive_s = time_naive(app)
                naive_per_project = naive_s / size
            else:
                naive_s = naive_per_project * size
                note = "  (naive extrapolated from the smaller run)"
            print(f"{size:>8}  {cold_ms:>8.0f}  {cached_ms:>9.1f}  {revalidated_ms:>6.1f}  {raw / 1024:>7.0f}  "
                  f"{packed / 1024:>7.0f}  {naive_s:>8.2f}  {naive_s * 1000 / cold_ms:>9.0f}×{note}")
            counties = time_endpoint(app, "/api/v1/counties.geojson")
            counties_cold, counties_cached, counties_bytes = counties[0], counties[1], counties[4]
            print(f"{'':>8}  counties.geojson: cold {counties_cold:.0f} ms, cached {counties_cached:.1f} ms, "
                  f"{counties_bytes / 1024:.0f} KB gzipped")
            with app.app_context():
                db.engine.dispose()
    print("\nTargets with 10,000 projects: cold build ≤ 150 ms (≥ 50× the naive build), cached ≤ 5 ms, "
          "page < 1 MB gzipped.")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 10000])
