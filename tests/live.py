"""Live-test helpers shared by the browser tests: a gunicorn on a free loopback port over a temp SQLite
database set up with the real CLI, and Debian's Chromium driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]  # gunicorn.conf.py and wsgi.py live here
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STARTUP_SECONDS = 30
STEP_MS = 15_000  # the longest any single browser step may take


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def live_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment for the CLI and gunicorn: a fresh SQLite file, whatever the suite itself uses."""
    env = {name: value for name, value in os.environ.items()
           if name not in {"TEST_DATABASE_URL", "BIND", "WEB_CONCURRENCY", "FLASK_DEBUG", "MAP_TILES"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'live.db'}", SECRET_KEY=secrets.token_hex(32),
               FLASK_APP="wsgi", PORT=str(free_port()), WEB_CONCURRENCY="2", PYTHONUNBUFFERED="1", **extra)
    return env


def run_cli(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, input=stdin, text=True,
                            capture_output=True, timeout=180)
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@contextlib.contextmanager
def gunicorn(env: dict, log_path: Path):
    """Serve the app with gunicorn.conf.py; yield the base URL once /healthz answers; always stop it."""
    base = f"http://127.0.0.1:{env['PORT']}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn not healthy after {STARTUP_SECONDS} s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.1)  # bounded poll while the workers boot
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def chromium():
    """Debian's Chromium under Playwright; skips the test when it is not installed."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # headless=False: the headless mode is chosen by --headless=new in the args, not by Playwright.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=False,
                                             timeout=STEP_MS * 2)
        try:
            yield browser
        finally:
            browser.close()
