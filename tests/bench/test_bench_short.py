"""Short CI versions of the live benches, run as the scripts: concurrent edits (with their control) and killed workers.

On PostgreSQL (TEST_DATABASE_URL set) each run gets a database of its own, created and dropped here: the
benches drop and recreate their database's schema, so they never touch the suite's database.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.harness import ROOT

pytestmark = pytest.mark.slow

BENCH_TIMEOUT_S = 600


@pytest.fixture
def bench_database_url():
    """None (the benches' own SQLite file), or a fresh PostgreSQL database on TEST_DATABASE_URL's server."""
    suite_url = os.environ.get("TEST_DATABASE_URL")
    if not suite_url:
        yield None
        return
    name = f"bench_ci_{secrets.token_hex(6)}"
    server = create_engine(make_url(suite_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(suite_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def run_bench(script: str, *args: str, url: str | None) -> str:
    command = [sys.executable, str(ROOT / "bench" / script), *args, *(["--database-url", url] if url else [])]
    # A session of its own, so a timeout ends the bench and the gunicorn it started together.
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=BENCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{script} still running after {BENCH_TIMEOUT_S} s:\n{output}")
    print(output)
    assert process.returncode == 0, f"{script} failed ({process.returncode}):\n{output}"
    return output


def figures(output: str, label: str) -> list[int]:
    """The value column of every table row starting with ``label``."""
    return [int(match) for match in re.findall(rf"^\s+{re.escape(label)}\s+(\d+)", output, re.MULTILINE)]


def test_concurrent_edits_lose_nothing_and_the_unchecked_control_does(bench_database_url):
    output = run_bench("concurrent_edits.py", "--clients", "10", "--projects", "3", "--seconds", "8", "--with-control",
                       url=bench_database_url)
    checked_lost, control_lost = figures(output, "LOST UPDATES")
    assert checked_lost == 0
    assert control_lost > 0, "the control run (no version check) must lose updates, or the bench proves nothing"
    assert figures(output, "5xx responses")[0] == 0
    assert figures(output, '"database is locked" in the gunicorn log')[0] == 0
    saved = int(re.search(r"^\s+successful edits\s+(\d+)", output, re.MULTILINE).group(1))
    assert saved > 0
    assert figures(output, "audit rows (land_area ProjectEvent)")[0] == saved
    assert output.count("RESULT: PASS") == 2


def test_killed_workers_leave_no_half_import_nor_half_saved_project(bench_database_url):
    output = run_bench("fault.py", "--rows", "2000", "--edit-seconds", "6", "--kills", "1", "--clients", "8",
                       "--projects", "3", url=bench_database_url)
    for check in ("the worker running the import was killed once it was writing projects",
                  "the confirm POST lost its connection (the kill came mid-import)",
                  "the aborted import left nothing",
                  "no half-saved project",
                  "the same ledger imports",
                  "one complete batch: every row's project is there"):
        assert re.search(rf"^\s+ok\s+{re.escape(check)}", output, re.MULTILINE), check
    assert "FAIL" not in output
    assert output.rstrip().endswith("RESULT: PASS")


def test_api_lists_take_the_same_statements_whatever_their_size():
    """bench/api.py on a small database: the API's list of 500 rows takes as many statements as the list of 50
    (no query per row), and every request it times answers 200 (the script asserts that)."""
    output = run_bench("api.py", "120", url=None)
    statements = {label: int(count) for label, count in re.findall(
        r"^\s+120\s+(API: \S+(?: \(50 rows\))?)\s+[\d.]+\s+[\d.]+\s+(\d+)$", output, re.MULTILINE)}
    assert statements["API: /api/v1/projects (50 rows)"] == statements["API: /api/v1/projects?per_page=500"], output
    assert statements["API: /api/v1/projects (50 rows)"] <= 8, output
