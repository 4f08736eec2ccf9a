"""Benchmark: the API's reads beside the pages that show the same rows, and what signing in by token costs.

Builds the same throw-away database as bench/projects_pages.py (SQLite file, or BENCH_DATABASE_URL) with N demo
projects, makes an API token, and times in-process (the server's own work): the project list and a project as
pages (login session) and as JSON (token), and a bare route under each. Every API call also counts itself
against its token's rate limit: one short write of its own, which the "bare" lines isolate.
Run: .venv/bin/python bench/api.py [N ...]
"""
from __future__ import annotations

import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import select, text  # noqa: E402

from bench.projects_pages import build, measure  # noqa: E402
from core.api import base  # noqa: E402
from core.auth.models import User  # noqa: E402
from core.auth.tokens import create_token  # noqa: E402
from core.db import db  # noqa: E402
from core.transaction import transaction  # noqa: E402


def main(sizes: list[int]) -> None:
    rng = random.Random(7)
    print(f"{'projects':>8}  {'request':<40} {'median ms':>9}  {'CPU ms':>6}  {'queries':>7}")
    with tempfile.TemporaryDirectory() as workdir:
        for size in sizes:
            app = build(size, workdir)
            # An API route doing nothing, signed in by token: the frame's own cost (token check, rate count, JSON).
            app.add_url_rule(f"{base.PREFIX}/_bench_bare", "api_projects._bench_bare", lambda: {"ok": True})
            with app.app_context():
                ids = [row[0] for row in db.session.execute(text("SELECT id FROM project ORDER BY id"))]
                with transaction():
                    user = db.session.scalar(select(User).where(User.username == "bench_commerce"))
                    _, secret = create_token(user, "bench")
            app.config["API_RATE_LIMIT"] = 10**9
            token = {"Authorization": f"Bearer {secret}"}
            sample = [pid for pid in rng.sample(ids, min(30, len(ids)))]
            rows = [
                ("page: /projects/ (50 rows)", None, ["/projects/"]),
                ("API: /api/v1/projects (50 rows)", token, ["/api/v1/projects"]),
                ("API: /api/v1/projects?per_page=500", token, ["/api/v1/projects?per_page=500"]),
                ("page: /projects/<id>", None, [f"/projects/{pid}" for pid in sample]),
                ("API: /api/v1/projects/<id>", token, [f"/api/v1/projects/{pid}" for pid in sample]),
                ("bare route, login session", None, ["/_bench_bare"]),
                ("bare API route, token", token, [f"{base.PREFIX}/_bench_bare"]),
            ]
            for label, headers, urls in rows:
                median_ms, cpu_ms, queries = measure(app, "bench_commerce", urls, headers=headers)
                print(f"{size:>8}  {label:<40} {median_ms:>9.1f}  {cpu_ms:>6.1f}  {queries:>7.0f}")
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000])
