"""Schemathesis against a live gunicorn with a token of each role: no 5xx, every response as the document says, and
nothing written through a read-only token."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from tests.bench.test_bench_short import bench_database_url  # noqa: F401  (a fresh PostgreSQL database, or None)
from tests.harness import BIN, ROOT, Client, Server, live_env, run_cli
from tests.security.helpers import checked_tables, checksum

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15  # per operation and token (the coverage phase adds its own cases)
SEED = 18  # the demo data's
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
SUMMARY_LINE = re.compile(r"\s*(Operations:|Scenarios:|\S+\s+(Examples|Coverage|Fuzzing|Stateful) \(in |\d+ generated)")
COUNTY = "350404"  # 三元区
# caller -> (username, role, county, read-only token?)
CALLERS = {
    "read-only": ("fuzz_reader", "commerce", None, True),  # its run must leave the database as it was
    "commerce": ("fuzz_commerce", "commerce", None, False),
    "county": ("fuzz_county", "county", COUNTY, False),
    "leader": ("fuzz_leader", "leader", None, False),
    "admin": ("fuzz_admin", "admin", None, False),
}
# The callers' accounts and tokens, made in one process through the services (`flask tokens` would be one process
# per token): prints one secret a line, in CALLERS' order.
MAKE_CALLERS = """
import sys
from core.app import create_app
from core.auth.services import create_user
from core.auth.tokens import create_token
from core.transaction import transaction
with create_app().app_context(), transaction():
    for username, role, county, read_only in (line.split(",") for line in sys.argv[1:]):
        user = create_user(username, role, "fuzz-password-" + username, county=county or None)
        print(create_token(user, "schemathesis", read_only=read_only == "1")[1])
"""


def prepared_env(workdir: Path, database_url: str | None) -> tuple[dict, dict[str, str]]:
    """A database as `make run` builds it (migrated, seeded, 40 demo projects), a user of each role, and a token of
    each caller's; the rate limit out of the way (this is not the rate limit's test)."""
    env = live_env(workdir, API_RATE_LIMIT="1000000", **({"DATABASE_URL": database_url} if database_url else {}))
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    run_cli(env, "demo-data", "--projects", "40", "--seed", str(SEED))
    callers = [f"{username},{role},{county or ''},{int(read_only)}"
               for username, role, county, read_only in CALLERS.values()]
    made = subprocess.run([sys.executable, "-c", MAKE_CALLERS, *callers], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=180)
    assert made.returncode == 0, made.stderr
    return env, dict(zip(CALLERS, made.stdout.split()[-len(CALLERS):]))


def live_checksum(database_url: str) -> str:
    """The checksum of every checked table (the session bookkeeping and the tokens' use counts left out)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return checksum({table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                             for table in checked_tables()})
    finally:
        engine.dispose()


def schemathesis(base: str, secret: str, workdir: Path) -> subprocess.CompletedProcess:
    """`st run` on the live document: deterministic (the same cases every run), one request at a time; in
    ``workdir``, where it keeps the failures it replays next time (the repository stays clean, every run fresh)."""
    command = [str(BIN / "st"), "run", f"{base}/api/v1/openapi.json", "--checks", CHECKS,
               "--header", f"Authorization: Bearer {secret}", "--max-examples", str(MAX_EXAMPLES),
               "--generation-deterministic", "--workers", "1", "--request-timeout", "30", "--no-color"]
    return subprocess.run(command, cwd=workdir, text=True, capture_output=True, timeout=600)


def what_it_ran(output: str) -> str:
    """The run's summary: the operations, each phase's outcome, the number of cases."""
    return "\n".join(line.rstrip() for line in output.splitlines() if SUMMARY_LINE.match(line))


def test_schemathesis_finds_nothing_for_any_role(tmp_path, bench_database_url):  # noqa: F811
    started = time.monotonic()
    env, secrets = prepared_env(tmp_path, bench_database_url)
    database_url = env["DATABASE_URL"]
    print(f"\nset up {make_url(database_url).get_backend_name()} in {time.monotonic() - started:.0f} s")
    failures = []
    with Server(env, tmp_path / "gunicorn.log") as live:
        for caller, secret in secrets.items():
            read_only = CALLERS[caller][3]
            if read_only:  # the run below must be able to read: its unchanged checksum is then worth something
                reply = Client(live.base, headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/projects")
                assert reply.status == 200 and '"total":40' in reply.text.replace(" ", ""), reply.text[:300]
            before = live_checksum(database_url)
            started = time.monotonic()
            run = schemathesis(live.base, secret, tmp_path)
            print(f"== schemathesis as {caller}: {time.monotonic() - started:.0f} s, exit {run.returncode}")
            print(what_it_ran(run.stdout))
            if run.returncode != 0:
                failures.append(f"as {caller}:\n{run.stdout[-8000:]}\n{run.stderr[-2000:]}")
            if read_only:
                assert live_checksum(database_url) == before, "a read-only token's calls changed the database"
        log = live.log()
    assert "Traceback" not in log, log[-4000:]
    assert not failures, "\n\n".join(failures)
