"""Browser-journey fixtures: one gunicorn over a CLI-built demo database for the session, Debian's Chromium,
and a Journey that opens tabs, logs in through the form, saves screenshots and records every console
error, script error, CSP violation and request that leaves the machine."""
from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core import clock
from tests.harness import ROOT, STEP_MS, Server, chromium, live_env, run_cli

OWN_COUNTY = "350404"  # 三元区, the county official's
PASSWORD = "journey-" + secrets.token_hex(8)
# username: (role, county, display name)
USERS = {"commerce_li": ("commerce", None, "商务局李四"),
         "sanyuan_wang": ("county", OWN_COUNTY, "三元区王五"),
         "leader_zhao": ("leader", None, "赵副市长"),
         "admin_sun": ("admin", None, "系统管理员孙")}
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# Runs in every frame before the page's own scripts; the binding survives navigation, window.__csp does not.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const text = `${e.effectiveDirective} refused ${e.blockedURI || 'inline'} in ${e.documentURI} line ${e.lineNumber}`;
  window.__csp.push(text);
  if (window.__reportCsp) window.__reportCsp(text);
});
"""


@dataclass(frozen=True)
class Site:
    """The live server and the projects the journeys work on (ids, and names where a journey looks for one)."""

    base: str
    today: dt.date  # the app's today: China Standard Time, not the test machine's zone
    county_project: int  # 三元区, due a monthly report, with an open milestone and an open 环评 item
    county_project_name: str
    conflict_project: int  # another 三元区 project, for the two-browser edit
    foreign_project: int  # a project of another county


def _create_users(env: dict) -> None:
    """`flask users create` for every journey user, side by side (each run mostly waits on imports)."""
    commands = [["users", "create", username, "--role", role, "--display-name", display, "--password-stdin",
                 *(["--county", county] if county else [])]
                for username, (role, county, display) in USERS.items()]
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        list(pool.map(lambda args: run_cli(env, *args, stdin=PASSWORD + "\n"), commands))


def _prepare(db_path: Path, today: dt.date) -> dict:
    """Pick the journeys' projects out of the demo data and give them what each journey needs; one project
    outside 三元区 gets a milestone ten days overdue, so the leader surely has a red project to follow."""
    month = today.replace(day=1)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        own = conn.execute(
            "SELECT id, name FROM project WHERE county_code = ? AND stage IN ('signed', 'approval', 'started')"
            " AND sign_date <= ? ORDER BY id", (OWN_COUNTY, today.isoformat())).fetchall()
        reported = {row[0] for row in conn.execute("SELECT project_id FROM progress_report WHERE month = ?",
                                                   (month.isoformat(),))}
        unreported = [row for row in own if row[0] not in reported]
        assert unreported and len(own) >= 2, "the demo data has too few live 三元区 projects; change --seed"
        county_id, county_name = unreported[0]
        conflict_id = next(pid for pid, _ in own if pid != county_id)
        foreign_id, red_id = conn.execute(
            "SELECT min(id), max(id) FROM project WHERE county_code != ? AND stage = 'started'", (OWN_COUNTY,)).fetchone()
        assert foreign_id is not None, "the demo data has no started project outside 三元区; change --seed"
        conn.executemany("INSERT INTO milestone (project_id, name, planned_date, actual_date, note) VALUES (?, ?, ?, NULL, '')",
                         [(county_id, "浏览器测试节点", (today + dt.timedelta(days=20)).isoformat()),
                          (red_id, "设备进场", (today - dt.timedelta(days=10)).isoformat())])
        updated = conn.execute(
            "UPDATE approval_item SET status = 'todo', done_date = NULL, document_no = '' WHERE project_id = ?"
            " AND type_id = (SELECT id FROM approval_item_type WHERE name = '环评')", (county_id,)).rowcount
        assert updated == 1, "the seed has no 环评 approval item type"
    return {"county_project": county_id, "county_project_name": county_name, "conflict_project": conflict_id,
            "foreign_project": foreign_id}


@pytest.fixture(scope="package")
def site(tmp_path_factory):
    """Migrate, seed, add the users and 60 demo projects with the real CLI, then serve them with gunicorn."""
    tmp_path = tmp_path_factory.mktemp("journeys")
    env = live_env(tmp_path)
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    _create_users(env)  # before demo-data, which hooks some projects to the leader
    run_cli(env, "demo-data", "--projects", "60", "--seed", "11")
    today = clock.today()
    chosen = _prepare(tmp_path / "live.db", today)
    with Server(env, tmp_path / "gunicorn.log") as live:
        yield Site(base=live.base, today=today, **chosen)


@pytest.fixture(scope="package")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "build" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Journey:
    """One user story's tabs (each its own cookies) and everything they saw go wrong."""

    def __init__(self, browser, site: Site, screenshot_dir: Path):
        self.browser, self.site, self.screenshot_dir = browser, site, screenshot_dir
        self.contexts = []
        self.console: list[str] = []
        self.script_errors: list[str] = []
        self.csp: list[str] = []
        self.outside: list[str] = []
        # The browser's own /favicon.ico 404 (the app has none) is not a page's error.
        self.expected_statuses = {(404, f"{site.base}/favicon.ico")}

    def url(self, path: str) -> str:
        return self.site.base + path

    def open(self, *, phone: bool = False):
        """A new tab with cookies of its own: desktop, or a phone (390×844, touch)."""
        shape = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {"viewport": DESKTOP}
        context = self.browser.new_context(locale="zh-CN", **shape)
        context.set_default_timeout(STEP_MS)
        context.expose_function("__reportCsp", lambda text: self.csp.append(text))
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.script_errors.append(str(error.error)))
        context.on("request", self._request)
        self.contexts.append(context)
        return context.new_page()

    def expect_status(self, status: int, url: str) -> None:
        """Chromium logs a console error for every 4xx page; allow it for a page the journey meant to get."""
        self.expected_statuses.add((status, url))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if any(url == expected and f"status of {status}" in message.text for status, expected in self.expected_statuses):
            return
        self.console.append(f"{message.text} ({url})")

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.hostname != "127.0.0.1":
            self.outside.append(request.url)

    def log_in(self, page, username: str, path: str = "/", *, screenshot: str | None = None) -> None:
        """Open ``path`` anonymously, get sent to the login form, sign in, and land back on ``path``."""
        page.goto(self.url(path))
        assert urlsplit(page.url).path == "/login", f"an anonymous visitor to {path} was not sent to the login page"
        if screenshot:
            self.shot(page, screenshot)
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()
        assert urlsplit(page.url).path == path, f"{username} did not land on {path} after logging in: {page.url}"

    def shot(self, page, name: str) -> None:
        page.screenshot(path=self.screenshot_dir / f"{name}.png", full_page=True)

    def assert_clean(self) -> None:
        """No console or script error, no CSP violation and no request off the machine, in any tab."""
        csp = set(self.csp)
        for context in self.contexts:
            for page in context.pages:
                for frame in page.frames:
                    csp.update(frame.evaluate("() => window.__csp || []"))
        assert self.script_errors == [], f"script errors: {self.script_errors}"
        assert self.console == [], f"console errors: {self.console}"
        assert not csp, f"CSP violations: {sorted(csp)}"
        assert self.outside == [], f"requests left the loopback address: {self.outside}"

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def journey(browser, site, screenshot_dir):
    story = Journey(browser, site, screenshot_dir)
    yield story
    # Shown with a failing journey's output: what the browser reported before the step that failed.
    print("console:", story.console, "script errors:", story.script_errors, "CSP:", story.csp,
          "outside:", story.outside, sep="\n")
    story.close()
