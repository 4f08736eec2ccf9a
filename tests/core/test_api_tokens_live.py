"""Live: a token's rate limit holds across two gunicorn servers over one database, calls alternating between them;
a token made with `flask tokens create` opens the API and `flask tokens revoke` closes it on both at once."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select

from core.auth.models import ApiTokenUse
from tests.bench.test_bench_short import bench_database_url  # noqa: F401  (a fresh PostgreSQL database, or None)
from tests.harness import Client, Server, live_env, run_cli

pytestmark = pytest.mark.slow

LIMIT = 6
LIST = "/api/v1/projects"


def make_token(env: dict, name: str) -> str:
    """A token of the service account from the CLI, its secret read from the last line it prints."""
    return run_cli(env, "tokens", "create", "svc_live", "--name", name).strip().splitlines()[-1]


def call(server: Server, secret: str):
    return Client(server.base, headers={"Authorization": f"Bearer {secret}"}).get(LIST)


def test_the_rate_limit_and_revocation_hold_across_processes(tmp_path, bench_database_url):  # noqa: F811
    # A long window, so a slow machine's pauses cannot start a new one mid-test.
    env = live_env(tmp_path, API_RATE_LIMIT=str(LIMIT), API_RATE_WINDOW_SECONDS="3600",
                   **({"DATABASE_URL": bench_database_url} if bench_database_url else {}))
    run_cli(env, "db", "upgrade")
    run_cli(env, "users", "create", "svc_live", "--role", "commerce", "--password-stdin", stdin="svc-live-password\n")
    secret, spare = make_token(env, "限流"), make_token(env, "另一个")
    # Two servers on two ports: each call certainly reaches the process it was sent to.
    with Server(env, tmp_path / "a.log", workers=1) as first, Server(env, tmp_path / "b.log", workers=1) as second:
        servers = (first, second)
        assert set(first.workers()).isdisjoint(second.workers())
        for number in range(LIMIT):  # half through each: a count kept in each process would stop at LIMIT each
            answer = call(servers[number % 2], secret)
            assert answer.status == 200, (number, answer.status, answer.text)
            assert json.loads(answer.text)["total"] == 0
        for server in servers:
            refused = call(server, secret)
            assert refused.status == 429 and refused.headers["Content-Type"] == "application/problem+json"
            assert 1 <= int(refused.headers["Retry-After"]) <= 3600
        for server in servers:  # the limit is per token
            assert call(server, spare).status == 200
        engine = create_engine(env["DATABASE_URL"])
        try:
            with engine.connect() as connection:
                counts = sorted(connection.scalars(select(ApiTokenUse.window_count)))
        finally:
            engine.dispose()
        assert counts == [2, LIMIT + 2]
        token_id = next(line.split("\t")[0] for line in run_cli(env, "tokens", "list", "svc_live").splitlines()
                        if "\t另一个\t" in line)
        run_cli(env, "tokens", "revoke", token_id.removeprefix("#"))
        for server in servers:
            answer = call(server, spare)
            assert answer.status == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
