"""The one live-server harness of the tests and the benches: gunicorn, the real CLI's set-up, an HTTP client, schema reset.

gunicorn (gunicorn.conf.py) serves on a free loopback port over a database set up with the real CLI (`flask db
upgrade`, `flask seed`, `flask users create` ...); a browser-like client logs in through the form and fills
forms in; `reset_schema` empties a database; `chromium` drives Debian's Chromium under Playwright (never
`playwright install`). The benches run outside pytest, so nothing here imports pytest at module level: failures
raise RuntimeError, which a test reports like any other error.
"""
from __future__ import annotations

import contextlib
import ctypes
import gzip
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]  # gunicorn.conf.py and wsgi.py live here
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60  # several workers importing the app at once on a busy 2-core machine
REQUEST_TIMEOUT_S = 90  # above gunicorn's worker timeout (60 s): a hung worker shows as gunicorn's kill, not ours
PR_SET_PDEATHSIG = 1
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STEP_MS = 15_000  # the longest any single browser step may take


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def live_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment for the CLI and gunicorn: a fresh SQLite file in ``workdir`` unless ``extra`` names a
    DATABASE_URL, whatever database the suite itself uses; the response cache in ``workdir`` too."""
    env = {name: value for name, value in os.environ.items()
           if name not in {"TEST_DATABASE_URL", "BIND", "WEB_CONCURRENCY", "FLASK_DEBUG", "MAP_TILES"}}
    env.update({"DATABASE_URL": f"sqlite:///{workdir / 'live.db'}", "CACHE_DIR": str(workdir / "cache"),
                "ATTACHMENT_DIR": str(workdir / "attachments"),
                "SECRET_KEY": secrets.token_hex(32),
                "FLASK_APP": "wsgi", "PYTHONUNBUFFERED": "1", **extra})
    return env


def run_cli(env: dict, *args: str, stdin: str | None = None) -> str:
    """Run ``flask *args`` in the repository; returns its output, raises with it when the command fails."""
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, input=stdin, text=True,
                            capture_output=True, timeout=180)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def demo_env(workdir: Path, *, projects: int, seed: int, leader: tuple[str, str]) -> dict[str, str]:
    """live_env with the database built as `make run` builds it: migrated, seeded, a leader (username, password)
    and ``projects`` demo projects."""
    env = live_env(workdir)
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    username, password = leader
    run_cli(env, "users", "create", username, "--role", "leader", "--password-stdin", stdin=password + "\n")
    run_cli(env, "demo-data", "--projects", str(projects), "--seed", str(seed))
    return env


def reset_schema(target: Engine | str) -> None:
    """Leave the database empty: PostgreSQL's public schema dropped and recreated, a SQLite file deleted."""
    engine = target if isinstance(target, Engine) else create_engine(target)
    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            engine.dispose()  # a pooled connection would go on writing to the deleted file
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(engine.url.database + suffix).unlink(missing_ok=True)
    finally:
        if engine is not target:
            engine.dispose()


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers when ``pid`` is the master)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited while we looked
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry))
    return sorted(found)


# Looked up once here, so that the forked child, before exec, only makes the call (no dlopen there).
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent() -> None:
    # Linux: the master gets SIGTERM when the thread that started it ends (tests and benches start servers
    # from their main thread), however the test run or bench dies, so no server outlives it.
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """gunicorn with gunicorn.conf.py serving ``app`` (module:variable) with ``workers`` workers on a free
    loopback port, over the database of ``env``; its output goes to ``log_path``. Ready once every worker
    runs and /healthz answers; always stopped on the way out."""

    def __init__(self, env: dict[str, str], log_path: Path, *, app: str = "wsgi:app", workers: int = 2):
        self.env = {**env, "PORT": str(free_port()), "WEB_CONCURRENCY": str(workers)}
        self.log_path, self.app, self.size = log_path, app, workers
        self.base = f"http://127.0.0.1:{self.env['PORT']}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # quick shutdown: nothing here waits to finish
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def master(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        return children(self.master)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        """Wait until all the workers run (again, after a kill) and /healthz answers 200 (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            if len(self.workers()) >= self.size:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    if Client(self.base, timeout=5).get("/healthz").status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{self.log()}")
            time.sleep(0.1)  # bounded poll while the workers boot


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str  # the body, gunzipped and decoded; "" when the request said decode=False

    @property
    def location(self) -> str:
        return urllib.parse.urlsplit(self.headers.get("Location", "")).path


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """Every <form> of a page with the values a browser would submit (submit buttons left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""))
            self.forms.append(self._form)
            return
        if tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))
            if "selected" in a:
                self._select[2].append(a.get("value", ""))
        if self._form is None or not a.get("name") or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form.fields[a["name"]] = a.get("value", "on" if kind in ("checkbox", "radio") else "")
        elif tag == "select":
            self._select = (a["name"], [], [])
        elif tag == "textarea":
            self._textarea = (a["name"], [])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, options, selected = self._select
            if self._form is not None and (selected or options):
                self._form.fields[name] = (selected or options)[0]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            body = "".join(parts)
            # HTML drops one newline right after <textarea>, which WTForms always writes.
            if body.startswith("\r\n"):
                body = body[2:]
            elif body.startswith("\n"):
                body = body[1:]
            if self._form is not None:
                self._form.fields[name] = body
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


class Client:
    """One browser-like user: keeps its cookies, sends ``headers`` (say Accept-Encoding: gzip) with every
    request, gunzips what comes back, never follows redirects (the caller reads them)."""

    def __init__(self, base: str, timeout: float = REQUEST_TIMEOUT_S, headers: dict[str, str] | None = None):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "",
                decode: bool = True) -> Response:
        """Send one request on a connection of its own; ``decode=False`` skips reading the body as text
        (a load generator's CPU is the server's too when both share the machine)."""
        headers = {"Connection": "close", **self.headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
        finally:
            conn.close()
        for header in raw.headers.get_all("Set-Cookie") or []:
            self._keep(header)
        page = ""
        if decode:
            if raw.getheader("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
            page = data.decode("utf-8", errors="replace")
        return Response(raw.status, raw.headers, page)

    def _keep(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]) or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str, decode: bool = True) -> Response:
        return self.request("GET", path, decode=decode)

    def post(self, path: str, fields: dict[str, str], decode: bool = True) -> Response:
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                            "application/x-www-form-urlencoded", decode=decode)

    def post_file(self, path: str, fields: dict[str, str], name: str, filename: str, data: bytes) -> Response:
        boundary = "harness" + secrets.token_hex(12)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def form(self, path: str, having: str) -> tuple[Response, Form | None]:
        """GET ``path`` and return its form that carries a field named ``having`` (None if there is none)."""
        page = self.get(path)
        found = next((f for f in forms_of(page.text) if having in f.fields), None) if page.status == 200 else None
        return page, found

    def login(self, username: str, password: str) -> None:
        """Log in through the login form, its CSRF token included (CSRF is on under gunicorn)."""
        page, form = self.form("/login", "csrf_token")
        if form is None:
            raise RuntimeError(f"no login form (HTTP {page.status})")
        form.fields.update(username=username, password=password)
        answer = self.post("/login", form.fields)
        if answer.status != 302 or answer.location.startswith("/login"):
            raise RuntimeError(f"login as {username} failed: HTTP {answer.status} → {answer.location or '-'}")

    def submit(self, path: str, having: str, **values: str) -> Response:
        """Load the form at ``path``, fill in ``values`` and post it to where it points (default: ``path``)."""
        page, form = self.form(path, having)
        if form is None:
            raise RuntimeError(f"no form with {having!r} at {path} (HTTP {page.status})")
        form.fields.update(values)
        return self.post(form.action or path, form.fields)


@contextlib.contextmanager
def chromium():
    """Debian's Chromium under Playwright; skips the test when it is not installed."""
    import pytest  # here, not at the top: the benches import this module without pytest

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
