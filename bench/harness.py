"""Live-bench harness: gunicorn over a throw-away database set up with the real CLI, and a form-filling HTTP client.

The live benches (concurrent_edits.py, fault.py) drive the app as a browser would: log in, GET a page, read its
form (CSRF token and version included, CSRF is on under gunicorn), POST it back. Standard library only; every
request goes to the loopback server this module started, and the server is stopped on the way out.
"""
from __future__ import annotations

import contextlib
import ctypes
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from core.app import create_app  # noqa: E402
from core.db import db  # noqa: E402
from tests.live import BIN, live_env, run_cli  # noqa: E402  (the same CLI set-up as the live tests)

PASSWORD = "bench-" + secrets.token_hex(8)
ADMIN = "bench_admin"
COUNTY = "350404"  # 三元区: the county of every project the benches create
STARTUP_SECONDS = 60  # several workers importing the app at once on a busy 2-core machine
REQUEST_TIMEOUT_S = 90  # above gunicorn's worker timeout (60 s): a hung worker shows as gunicorn's kill, not ours
PR_SET_PDEATHSIG = 1


def database_label(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


def fresh_database(workdir: Path, url: str | None) -> str:
    """A SQLite file in ``workdir``, or ``url`` (PostgreSQL) with its public schema dropped and recreated."""
    if not url:
        return f"sqlite:///{workdir / 'bench.db'}"
    app = bench_app(url)  # the app's own config turns postgres:// into the driver it ships
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.engine.dispose()
        return app.config["SQLALCHEMY_DATABASE_URI"]


def prepare(workdir: Path, url: str, workers: int) -> dict[str, str]:
    """Migrate and seed the database and create the admin through the real CLI; returns gunicorn's environment."""
    env = live_env(workdir)
    env.update(DATABASE_URL=url, WEB_CONCURRENCY=str(workers), LEDGER_IMPORT_DIR=str(workdir / "imports"))
    run_cli(env, "db", "upgrade")
    # Independent of each other once the schema stands: two CLI start-ups side by side on two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(run_cli, env, "seed"),
                pool.submit(run_cli, env, "users", "create", ADMIN, "--role", "admin", "--password-stdin",
                            stdin=PASSWORD + "\n")]
        for job in jobs:
            job.result()
    return env


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


def sigkill(pids: list[int]) -> list[int]:
    """SIGKILL the processes (as the OOM killer or a crash would); returns those that were still alive."""
    killed = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _die_with_parent() -> None:
    # Linux: the master gets SIGTERM when the thread that started it ends (the benches start servers from
    # their main thread), however the bench dies, so no server outlives it.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """gunicorn with gunicorn.conf.py serving ``app`` (a module:variable) on the port in ``env``."""

    def __init__(self, env: dict[str, str], log_path: Path, app: str = "wsgi:app"):
        self.env, self.log_path, self.app = env, log_path, app
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app], cwd=ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent)
        try:
            self.wait_ready(int(self.env["WEB_CONCURRENCY"]))
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

    def wait_ready(self, workers: int, timeout: float = STARTUP_SECONDS) -> None:
        """Wait until ``workers`` workers run and /healthz answers 200 (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            if len(self.workers()) >= workers:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    if Client(self.base, timeout=5).get("/healthz").status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{self.log()[-3000:]}")
            time.sleep(0.1)  # bounded poll while workers boot


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

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
            text = "".join(parts)
            # HTML drops one newline right after <textarea>, which WTForms always writes.
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            if self._form is not None:
                self._form.fields[name] = text
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


class Client:
    """One browser-like user: keeps its cookies, never follows redirects (the caller reads them)."""

    def __init__(self, base: str, timeout: float = REQUEST_TIMEOUT_S):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            headers = {"Connection": "close"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if content_type:
                headers["Content-Type"] = content_type
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", errors="replace")
            for header in raw.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return Response(raw.status, raw.headers, text)
        finally:
            conn.close()

    def _keep(self, header: str) -> None:
        for name, morsel in SimpleCookie(header).items():
            if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]) or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> Response:
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(),
                            "application/x-www-form-urlencoded")

    def post_file(self, path: str, fields: dict[str, str], name: str, filename: str, data: bytes) -> Response:
        boundary = "bench" + secrets.token_hex(12)
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

    def login(self, username: str, password: str = PASSWORD) -> None:
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


def create_users(server: Server, counties: int, commerce: int) -> list[str]:
    """County officials of COUNTY and commerce staff, created by the admin through /admin/users."""
    admin = Client(server.base)
    admin.login(ADMIN)
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
    client.login(username)
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
