"""What the live benches share on top of tests/harness.py: their database, admin, users and projects, and CPU readings.

The live benches (concurrent_edits.py, fault.py, load.py) drive the app as a browser would, through the harness's
gunicorn and form-filling client; this module sets up the world they work in with the real CLI and the app's own
forms. Every request goes to the loopback server the harness started.
"""
from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.app import create_app
from tests.harness import Client, Server, live_env, reset_schema, run_cli

PASSWORD = "bench-" + secrets.token_hex(8)
ADMIN = "bench_admin"
COUNTY = "350404"  # 三元区: the county of every project the benches create


def database_label(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


def fresh_database(workdir: Path, url: str | None) -> str:
    """A SQLite file in ``workdir``, or ``url`` (PostgreSQL) emptied; returns the URL the app will use."""
    if not url:
        return f"sqlite:///{workdir / 'bench.db'}"
    url = bench_app(url).config["SQLALCHEMY_DATABASE_URI"]  # the app's config turns postgres:// into psycopg 3
    reset_schema(url)
    return url


def prepare(workdir: Path, url: str) -> dict[str, str]:
    """Migrate and seed the database and create the admin through the real CLI; returns gunicorn's environment."""
    env = live_env(workdir, DATABASE_URL=url, LEDGER_IMPORT_DIR=str(workdir / "imports"))
    run_cli(env, "db", "upgrade")
    # Independent of each other once the schema stands: two CLI start-ups side by side on two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(run_cli, env, "seed"),
                pool.submit(run_cli, env, "users", "create", ADMIN, "--role", "admin", "--password-stdin",
                            stdin=PASSWORD + "\n")]
        for job in jobs:
            job.result()
    return env


def cpu_seconds(pid: int) -> float:
    """CPU time a running process has had, to the nanosecond (/proc/<pid>/schedstat; 0 once it is gone): the
    clock ticks of cpu_ticks are 10 ms, too coarse to time one request of a millisecond."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except OSError:
        return 0.0


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def create_users(server: Server, counties: int, commerce: int) -> list[str]:
    """County officials of COUNTY and commerce staff, created by the admin through /admin/users."""
    admin = Client(server.base)
    admin.login(ADMIN, PASSWORD)
    names = [f"bench_county_{i}" for i in range(counties)] + [f"bench_commerce_{i}" for i in range(commerce)]
    for name in names:
        role = "county" if name.startswith("bench_county") else "commerce"
        answer = admin.submit("/admin/users", "username", username=name, display_name=name, role=role,
                              county=COUNTY if role == "county" else "", password=PASSWORD, confirm=PASSWORD)
        if answer.status != 302:
            raise RuntimeError(f"creating user {name} failed: HTTP {answer.status}")
    return names


def create_projects(server: Server, username: str, count: int, prefix: str) -> list[int]:
    """``count`` signed projects in COUNTY with a land area of 0, registered through /projects/new."""
    client = Client(server.base)
    client.login(username, PASSWORD)
    ids = []
    for i in range(count):
        answer = client.submit("/projects/new", "version", name=f"{prefix}{i + 1}",
                               investor_name=f"{prefix}投资方{i + 1}有限公司", county_code=COUNTY,
                               total_investment="1000", land_area="0", sign_type="contract", sign_date="2025-03-18")
        project_id = answer.location.rstrip("/").rsplit("/", 1)[-1]
        if answer.status != 302 or not project_id.isdigit():
            raise RuntimeError(f"creating project {i + 1} failed: HTTP {answer.status}")
        ids.append(int(project_id))
    return ids


def bench_app(url: str):
    """The app in this process, for reading the database the server wrote (never for serving)."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
