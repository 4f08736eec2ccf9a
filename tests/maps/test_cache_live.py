"""Live: gunicorn with two workers, each with a cached map and dashboard; a write through either is seen on the next
request, whichever worker serves it, with the default shared cache and with a per-process one."""
from __future__ import annotations

import json
import re
import secrets

import pytest

from tests.bench.test_bench_short import bench_database_url  # noqa: F401  (a fresh PostgreSQL database, or None)
from tests.harness import Client, Server, live_env, run_cli

pytestmark = pytest.mark.slow

PASSWORD = "live-cache-" + secrets.token_hex(8)
COUNTY = "350404"
GEOJSON = "/api/v1/projects.geojson"
DASHBOARD = "/dashboard?date_from=&date_to="  # all time: the projects are signed in 2025
PID_RE = re.compile(r'"pid": (\d+), "event": "geojson_downloaded"')


def names(client: Client) -> set[str]:
    answer = client.get(GEOJSON)
    assert answer.status == 200 and answer.headers["Cache-Control"] == "private, no-cache"
    return {feature["properties"]["name"] for feature in json.loads(answer.text)["features"]}


def from_both_workers(server: Server, client: Client, check) -> None:
    """Ask until both workers have answered (each answer logs its worker's pid), checking every answer."""
    start = len(PID_RE.findall(server.log()))
    for _ in range(80):
        check(names(client))
        if len(set(PID_RE.findall(server.log())[start:])) == 2:
            return
    raise AssertionError("one worker answered every request")


@pytest.mark.parametrize("cache_type", ["filesystem", "simple"])
def test_a_write_through_one_worker_is_seen_through_every_worker(tmp_path, bench_database_url, cache_type):  # noqa: F811
    env = live_env(tmp_path, CACHE_TYPE=cache_type,
                   **({"DATABASE_URL": bench_database_url} if bench_database_url else {}))
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    run_cli(env, "users", "create", "cache_commerce", "--role", "commerce", "--password-stdin", stdin=PASSWORD + "\n")
    with Server(env, tmp_path / "gunicorn.log", workers=2) as server:
        client = Client(server.base, headers={"Accept-Encoding": "gzip"})
        client.login("cache_commerce", PASSWORD)
        seen: set[str] = set()
        for round_ in range(3):
            from_both_workers(server, client, lambda shown: shown == seen or pytest.fail(f"{shown} != {seen}"))
            etag = client.get(DASHBOARD).headers["ETag"]
            name = f"两进程缓存项目{round_}"
            answer = client.submit("/projects/new", "version", name=name, investor_name=f"{name}投资有限公司",
                                   county_code=COUNTY, total_investment="1000", sign_type="contract",
                                   sign_date="2025-03-18")
            assert answer.status == 302, answer.status
            seen.add(name)
            from_both_workers(server, client, lambda shown: shown == seen or pytest.fail(f"stale: {shown} != {seen}"))
            client.headers["If-None-Match"] = etag
            dashboard = client.get(DASHBOARD)
            del client.headers["If-None-Match"]
            assert dashboard.status == 200 and f'id="figure-signed">{len(seen)} 个<' in dashboard.text, "stale"
