"""Live: migrate, seed and create a user with the real CLI, serve with gunicorn, log in over HTTP."""
from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import csrf_token_from
from tests.parks.helpers import attribute_urls, css_urls, is_remote

ROOT = Path(__file__).resolve().parents[2]  # the project: gunicorn.conf.py and wsgi.py live here
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 20
PASSWORD = "live-test-" + secrets.token_hex(8)

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_env(tmp_path) -> dict[str, str]:
    # Always a fresh SQLite file: the session `app` fixture may be using TEST_DATABASE_URL.
    env = {name: value for name, value in os.environ.items()
           if name not in {"TEST_DATABASE_URL", "BIND", "WEB_CONCURRENCY", "FLASK_DEBUG"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'live.db'}", SECRET_KEY=secrets.token_hex(32),
               FLASK_APP="wsgi", PORT=str(free_port()), WEB_CONCURRENCY="2", PYTHONUNBUFFERED="1")
    return env


def run_cli(env, *args, stdin: str | None = None) -> str:
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, input=stdin, text=True,
                            capture_output=True, timeout=120)
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def server(live_env, tmp_path):
    """Migrate, seed, add a leader, start gunicorn; yield its base URL; stop it whatever happens."""
    run_cli(live_env, "db", "upgrade")
    assert "园区" in run_cli(live_env, "seed")
    run_cli(live_env, "users", "create", "livetester", "--role", "leader", "--password-stdin",
            stdin=PASSWORD + "\n")
    base = f"http://127.0.0.1:{live_env['PORT']}"
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                   env=live_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(base, process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_until_healthy(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # bounded poll while the workers boot
    pytest.fail(f"gunicorn not healthy after {STARTUP_SECONDS} s:\n{log_path.read_text(errors='replace')}")


def test_leader_logs_in_and_reads_the_park_list_over_http(server):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def fetch(path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with opener.open(server + path, data=body, timeout=10) as response:
            return response.status, response.geturl(), response.headers, response.read()

    with urllib.request.urlopen(server + "/healthz", timeout=5) as response:
        assert json.loads(response.read())["database"] == "ok"

    status, _url, _headers, body = fetch("/login")
    assert status == 200
    token = csrf_token_from(body.decode())
    status, url, _headers, body = fetch("/login", {"csrf_token": token, "username": "livetester",
                                                   "password": PASSWORD, "next": "/parks/"})
    assert status == 200 and urllib.parse.urlsplit(url).path == "/parks/", "login did not go through"
    page = body.decode()
    assert "livetester" in page
    assert "黄砂氟新材料循环经济产业园" in page and "一区四园" in page

    remote = [url for url in attribute_urls(page) + css_urls(page) if is_remote(url)]
    assert remote == [], f"the page points outside: {remote}"
    stylesheets = [url for url in attribute_urls(page) if url.startswith("/bootstrap/") and url.endswith(".css")]
    assert stylesheets, "no local Bootstrap stylesheet on the page"
    for url in stylesheets + [url for url in attribute_urls(page) if url.startswith("/static/")]:
        status, _url, headers, body = fetch(url)
        assert status == 200 and body, url
    status, _url, headers, css = fetch(stylesheets[0])
    assert headers.get_content_type() == "text/css"
    assert b".btn" in css
