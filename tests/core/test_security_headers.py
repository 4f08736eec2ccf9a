"""Security headers: the CSP with its per-request nonce and the other headers on pages, errors, files and the API."""
from __future__ import annotations

import base64
import hashlib
import http.client
import io
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import render_template_string
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core import security
from core.auth.models import Role
from tests.factories import make_project, make_user
from tests.harness import STEP_MS, Server, chromium, live_env, run_cli
from tests.projects.ledgers.files import ledger_bytes, row
from tests.projects.web import new_client

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REQUIRED = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'self'"],
    "form-action": ["'self'"],
}
SCRIPT_RE = re.compile(r"<script\b([^>]*)>", re.I)
NONCE_RE = re.compile(r"""\bnonce=["']?([^"'\s>]+)""", re.I)


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request.path}: no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, f"directive {name} given twice"
        directives[name] = values
    return directives


def assert_secure_headers(response, *, cacheable: bool = False, revalidated: bool = False,
                          script_hashes: tuple[str, ...] = ()) -> str:
    """Every header every response must carry; returns the script nonce the policy names. ``revalidated``: a
    response the browser may keep only to ask again with its ETag (private, no-cache); ``script_hashes``: the
    inline scripts' digests the policy must name besides the nonce (a page served from the cache)."""
    path = response.request.path
    directives = policy(response)
    for name, values in REQUIRED.items():
        assert directives.get(name) == values, (path, name, directives.get(name))
    script = directives["script-src"]
    nonces = [value for value in script if value.startswith("'nonce-")]
    assert len(nonces) == 1 and set(script) == {"'self'", nonces[0], *(f"'sha256-{h}'" for h in script_hashes)}, \
        (path, script)
    assert not any("unsafe" in value for value in script)
    assert directives["img-src"][:2] == ["'self'", "data:"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http
    if revalidated:
        assert response.headers["Cache-Control"] == "private, no-cache", path
    else:
        assert ("no-store" in response.headers.get("Cache-Control", "")) is not cacheable, \
            (path, response.headers.get("Cache-Control"))
    return nonces[0][len("'nonce-"):-1]


def test_logged_out_pages(client):
    assert client.get("/").status_code == 302
    assert_secure_headers(client.get("/"))
    login_page = client.get("/login")
    assert login_page.status_code == 200
    assert_secure_headers(login_page)


def test_logged_in_page(app):
    client = new_client(app, make_user(Role.COMMERCE))
    response = client.get("/projects/")
    assert response.status_code == 200
    assert_secure_headers(response)


def test_templates_get_the_requests_nonce(app):
    with app.test_request_context("/"):
        nonce = security.csp_nonce()
        page = render_template_string('<script nonce="{{ csp_nonce() }}"></script>')
        assert page == f'<script nonce="{nonce}"></script>'
        assert f"'nonce-{nonce}'" in security.content_security_policy(nonce)


def test_each_request_gets_a_fresh_nonce(client):
    nonces = {assert_secure_headers(client.get("/login")) for _ in range(3)}
    assert len(nonces) == 3
    assert all(len(nonce) >= 22 for nonce in nonces)  # at least 128 bits


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_404(client, accept):
    response = client.get("/no-such-page", headers={"Accept": accept})
    assert response.status_code == 404
    assert_secure_headers(response)


def test_405(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert_secure_headers(response)


def test_400_csrf_refusal(app, csrf_on):
    client = new_client(app, make_user(Role.COMMERCE))
    response = client.post("/logout")
    assert response.status_code == 400
    assert_secure_headers(response)


def test_413(client, monkeypatch, app):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(b"x" * 2048), filename="a.xlsx")})
    response = client.post("/login", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert_secure_headers(response)


def test_500_from_a_database_without_its_tables(make_app, tmp_path):
    """What a deploy that forgot `flask db upgrade` serves: the real 500 path, headers and all."""
    broken = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
                       "WTF_CSRF_ENABLED": False})
    response = broken.test_client().post("/login", data={"username": "someone", "password": "whatever"})
    assert response.status_code == 500
    assert "服务器内部错误" in response.get_data(as_text=True)
    assert_secure_headers(response)


@pytest.mark.parametrize("path", ["/static/css/app.css", "/static/js/app.js", "/vendor/leaflet/leaflet.js",
                                  "/vendor/leaflet/images/layers.png"])
def test_static_and_vendor_files_are_cacheable(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_secure_headers(response, cacheable=True)
    response.close()


def test_missing_static_file_is_not_cached(client):
    response = client.get("/static/css/no-such.css")
    assert response.status_code == 404
    assert_secure_headers(response)


def test_bootstrap_files_are_cacheable(client):
    page = client.get("/login").get_data(as_text=True)
    paths = re.findall(r'(?:src|href)="(/bootstrap/static/[^"]+)"', page)
    assert paths, "the page loads no local Bootstrap file"
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secure_headers(response, cacheable=True)
        response.close()


def test_map_frame_scripts_run_by_their_digests(app, project_ref):
    """The frame is served from the cache, so its scripts cannot carry a request's nonce: the policy names each
    inline script's SHA-256 instead, and nothing else."""
    make_project(name="</script><script>alert(1)</script>")
    client = new_client(app, make_user(Role.LEADER))
    for _ in range(2):  # built, then from the cache
        response = client.get("/map/frame")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        inline = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
        scripts = [body for attrs, body in inline if "src=" not in attrs]
        assert len(scripts) >= 2, "the map's own scripts are missing"
        assert not any(NONCE_RE.search(attrs) for attrs, _body in inline)
        digests = tuple(base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() for body in scripts)
        assert_secure_headers(response, revalidated=True, script_hashes=digests)
        assert len(SCRIPT_RE.findall(page)) == len(scripts) + 1  # Leaflet itself, from /vendor; the name adds none


def test_map_export_is_a_download_with_the_headers(app, project_ref):
    client = new_client(app, make_user(Role.LEADER))
    response = client.get("/map/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert_secure_headers(response)


@pytest.mark.parametrize("path", ["/api/v1/projects.geojson", "/api/v1/parks.geojson", "/healthz"])
def test_json_and_geojson(app, seeded, path):
    client = new_client(app, make_user(Role.LEADER))
    response = client.get(path)
    assert response.status_code == 200 and response.is_json
    assert_secure_headers(response, revalidated=path.endswith(".geojson"))


@pytest.mark.parametrize("path", ["/login", "/static/css/app.css", "/no-such-page"])
def test_hsts_only_over_https(client, path):
    secure = client.get(path, base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get(path)
    assert "Strict-Transport-Security" not in plain.headers
    secure.close()
    plain.close()


@pytest.fixture
def tiles(app, monkeypatch):
    def use(kind: str, url: str = "", token: str = ""):
        for key, value in (("MAP_TILES", kind), ("MAP_TILES_URL", url), ("TIANDITU_TOKEN", token)):
            monkeypatch.setitem(app.config, key, value)

    return use


TILE_HOSTS = {
    "none": ("", []),
    "local": ("/tiles/{z}/{x}/{y}.png", []),
    "osm": ("", ["https://tile.openstreetmap.org"]),
    "gaode": ("", [f"https://webrd0{n}.is.autonavi.com" for n in "1234"]),
    "tianditu": ("", [f"https://t{n}.tianditu.gov.cn" for n in range(8)]),
}


@pytest.mark.parametrize("kind", TILE_HOSTS)
def test_img_src_names_exactly_the_configured_basemap(app, seeded, tiles, kind):
    url, hosts = TILE_HOSTS[kind]
    tiles(kind, url, token="test-token")
    client = new_client(app, make_user(Role.LEADER))
    for path in ("/login", "/map/frame"):
        assert policy(client.get(path))["img-src"] == ["'self'", "data:", *hosts]
    # Every tile URL the map asks for is one img-src allows.
    frame = client.get("/map/frame").get_data(as_text=True)
    layers = re.findall(r'L\.tileLayer\(\s*"([^"]+)",\s*\{[^}]*"subdomains": "([^"]*)"', frame)
    assert len(layers) == {"none": 0, "tianditu": 2}.get(kind, 1)
    for template, subdomains in layers:
        for subdomain in subdomains:
            origin = re.match(r"https?://[^/]+", template.replace("{s}", subdomain))
            assert origin is None or origin.group(0) in hosts, template


def test_img_src_allows_an_intranet_tile_server_by_its_origin(app, seeded, tiles):
    tiles("local", "http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png")
    assert policy(new_client(app).get("/login"))["img-src"] == ["'self'", "data:", "http://10.1.2.3:8080"]


def test_templates_hold_no_inline_script_or_handler():
    """Inline code must carry the nonce; handlers (onclick=…) and javascript: links can carry none."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for attrs in SCRIPT_RE.findall(text):
            assert "src=" in attrs or "nonce=\"{{ csp_nonce() }}\"" in attrs, f"{template}: inline <script{attrs}>"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text, re.I), f"{template}: inline event handler"
        assert "javascript:" not in text.lower(), f"{template}: javascript: URL"


def test_pages_load_the_site_script(client):
    """Behaviour that used inline handlers (data-confirm) lives in static/js/app.js, loaded by every page."""
    assert '<script src="/static/js/app.js"></script>' in client.get("/login").get_data(as_text=True)
    script = client.get("/static/js/app.js")
    assert "data-confirm" in script.get_data(as_text=True)
    script.close()


# ---- Live: gunicorn and Chromium ----

ADMIN = "headers_admin"
PASSWORD = "browser-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """gunicorn with gunicorn.conf.py over a fresh database: an admin and one imported ledger batch."""
    tmp_path = tmp_path_factory.mktemp("live")
    env = live_env(tmp_path)
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    run_cli(env, "users", "create", ADMIN, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(ledger_bytes([row(name="撤销确认测试项目")]))
    run_cli(env, "ledger", "import", str(ledger))
    with Server(env, tmp_path / "gunicorn.log") as live:
        yield live.base


def raw_get(base: str, path: str, **headers) -> http.client.HTTPResponse:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.slow
def test_gunicorn_names_no_server_and_sends_the_headers(live_server):
    for path in ("/static/css/app.css", "/vendor/leaflet/leaflet.js", "/login", "/no-such-page", "/healthz"):
        response = raw_get(live_server, path)
        servers = [value for name, value in response.getheaders() if name.lower() == "server"]
        assert servers == [], f"{path}: Server header {servers}"
        assert "gunicorn" not in str(response.getheaders()).lower()
        assert "'self'" in response.getheader("Content-Security-Policy", ""), path
        assert response.getheader("X-Content-Type-Options") == "nosniff", path
        assert response.getheader("Referrer-Policy") == "strict-origin-when-cross-origin", path
        assert ("no-store" in response.getheader("Cache-Control", "")) is (not path.startswith(("/static", "/vendor")))
        assert response.getheader("Strict-Transport-Security") is None, path
    # A proxy on a trusted address (gunicorn's forwarded_allow_ips) that says the client used HTTPS.
    secure = raw_get(live_server, "/login", **{"X-Forwarded-Proto": "https"})
    assert secure.getheader("Strict-Transport-Security") == "max-age=31536000"
    # The session cookie (holding the login form's CSRF token) follows the same scheme.
    assert "Secure" in secure.getheader("Set-Cookie", "")
    plain = raw_get(live_server, "/login")
    assert plain.getheader("Set-Cookie") and "Secure" not in plain.getheader("Set-Cookie")


@pytest.mark.slow
def test_revert_asks_first_and_the_policy_blocks_foreign_inline_script(live_server):
    base = live_server
    errors, dialogs, posts = [], [], []
    with chromium() as browser:
        page = browser.new_page(locale="zh-CN")
        page.set_default_timeout(STEP_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error"
                and not message.location.get("url", "").endswith("/favicon.ico") else None)
        page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
        page.goto(f"{base}/login")
        page.fill("#username", ADMIN)
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit], input[type=submit]")

        page.goto(f"{base}/ledgers/batches")
        revert = page.locator("form[data-confirm] button")
        page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        revert.click()
        page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        with page.expect_navigation():
            revert.click()
        assert dialogs == ["确定撤销该批次？"] * 2
        assert [urlsplit(url).path for url in posts if "/revert" in url] == ["/ledgers/batches/1/revert"], \
            "the dismissed confirmation still submitted the form"
        assert "已撤销批次 #1" in page.inner_text("main")
        assert errors == [], f"console or script errors: {errors}"

        # The console listener above is what makes the browser tests fail on a CSP violation: prove it sees one.
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.injected = true'; document.body.appendChild(s); }""")
        page.wait_for_function("() => document.readyState === 'complete'")
        assert page.evaluate("() => window.injected === undefined"), "an inline script without the nonce ran"
    assert any("Content Security Policy" in error for error in errors), errors
