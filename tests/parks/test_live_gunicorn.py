"""Live: migrate, seed and create a user with the real CLI, serve with gunicorn, log in over HTTP."""
from __future__ import annotations

import http.cookiejar
import json
import secrets
import urllib.parse
import urllib.request

import pytest

from tests.conftest import csrf_token_from
from tests.harness import Server, live_env, run_cli
from tests.parks.helpers import attribute_urls, css_urls, is_remote

PASSWORD = "live-test-" + secrets.token_hex(8)

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    """Migrate, seed, add a leader, start gunicorn; yield its base URL; stop it whatever happens."""
    env = live_env(tmp_path)
    run_cli(env, "db", "upgrade")
    assert "园区" in run_cli(env, "seed")
    run_cli(env, "users", "create", "livetester", "--role", "leader", "--password-stdin", stdin=PASSWORD + "\n")
    with Server(env, tmp_path / "gunicorn.log") as live:
        yield live.base


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
