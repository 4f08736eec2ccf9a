"""Live: two gunicorn servers of two workers over one database, each with a cached map and dashboard; a write
through either is seen on the next request through the other, with the default shared cache and a per-process one."""
from __future__ import annotations

import json
import secrets

import pytest

from tests.bench.test_bench_short import bench_database_url  # noqa: F401  (a fresh PostgreSQL database, or None)
from tests.harness import Client, Server, live_env, run_cli

pytestmark = pytest.mark.slow

PASSWORD = "live-cache-" + secrets.token_hex(8)
COUNTY = "350404"
GEOJSON = "/api/v1/projects.geojson"
DASHBOARD = "/dashboard?date_from=&date_to="  # all time: the projects are signed in 2025


def names(client: Client) -> set[str]:
    answer = client.get(GEOJSON)
    assert answer.status == 200 and answer.headers["Cache-Control"] == "private, no-cache"
    return {feature["properties"]["name"] for feature in json.loads(answer.text)["features"]}


@pytest.mark.parametrize("cache_type", ["filesystem", "simple"])
def test_a_write_through_one_process_is_seen_through_every_other(tmp_path, bench_database_url, cache_type):  # noqa: F811
    # Two servers of two workers each, the writer and the reader on different ones: the kernel hands a
    # server's connections to whichever of its workers it likes, so only separate ports make certain
    # that the process which reads is not the one which wrote.
    env = live_env(tmp_path, CACHE_TYPE=cache_type,
                   **({"DATABASE_URL": bench_database_url} if bench_database_url else {}))
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    run_cli(env, "users", "create", "cache_commerce", "--role", "commerce", "--password-stdin", stdin=PASSWORD + "\n")
    with Server(env, tmp_path / "a.log", workers=2) as first, Server(env, tmp_path / "b.log", workers=2) as second:
        clients = [Client(server.base, headers={"Accept-Encoding": "gzip"}) for server in (first, second)]
        for client in clients:
            client.login("cache_commerce", PASSWORD)
        seen: set[str] = set()
        for round_ in range(4):
            writer, reader = clients[round_ % 2], clients[(round_ + 1) % 2]
            for client in clients:  # both caches hold the current map and dashboard before the write
                assert names(client) == seen
            etag = reader.get(DASHBOARD).headers["ETag"]
            name = f"两进程缓存项目{round_}"
            answer = writer.submit("/projects/new", "version", name=name, investor_name=f"{name}投资有限公司",
                                   county_code=COUNTY, total_investment="1000", sign_type="contract",
                                   sign_date="2025-03-18")
            assert answer.status == 302, answer.status
            seen.add(name)
            assert names(reader) == seen, "stale map data in the other process"
            reader.headers["If-None-Match"] = etag
            dashboard = reader.get(DASHBOARD)
            del reader.headers["If-None-Match"]
            assert dashboard.status == 200 and f'id="figure-signed">{len(seen)} 个<' in dashboard.text, "stale"
