"""Login throttling tests: per-account and per-address limits held in the database, refused before
any password hashing, lifting after the window; the address behind a reverse proxy; across workers."""
from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from core import clock
from core.auth import models as auth_models
from core.auth.models import LoginAttempt
from core.auth.views import LOGIN_FAILED
from core.db import db
from tests.conftest import CSRF_RE
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.harness import Server, live_env, run_cli

from .helpers import flashes, is_logged_in, path_of

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
THROTTLED = "登录失败次数过多，请 15 分钟后再试。"
WRONG = "wrong-password-123"


@pytest.fixture
def at(monkeypatch):
    def move(moment: dt.datetime) -> dt.datetime:
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment
    move(T0)
    return move


@pytest.fixture(autouse=True)
def cheap_dummy_hash(monkeypatch):
    """Unknown names are verified against a dummy hash made at import with production parameters:
    swap in one made with the suite's cheap hasher (tests/conftest.py), or each costs a real argon2id."""
    monkeypatch.setattr(auth_models, "_DUMMY_HASH", auth_models._hasher.hash("dummy-password"))


@pytest.fixture
def no_hashing(monkeypatch):
    """From now on any password hashing fails the test: a refused attempt must not hash at all."""
    class Refuse:
        def __getattr__(self, name):
            raise AssertionError(f"the password hasher was asked to {name}")

    def arm():
        monkeypatch.setattr(auth_models, "_hasher", Refuse())
    return arm


def attempt(client, username: str, password: str = WRONG, address: str = "127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def fail(client, username: str, times: int, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        response = attempt(client, username, address=address)
        assert response.status_code == 200 and flashes(response) == [LOGIN_FAILED]


def attempts() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(LoginAttempt))


def test_default_limits(app):
    config = app.config
    assert (config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            config["LOGIN_THROTTLE_MINUTES"]) == (10, 50, 15)


def test_ten_failures_lock_the_account_without_hashing(client, at, no_hashing):
    user = make_user(username="alice")
    fail(client, "alice", 10)
    no_hashing()
    for password in (WRONG, DEFAULT_PASSWORD):  # even the right password is not heard
        response = attempt(client, "alice", password)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "900"
        assert flashes(response) == [THROTTLED]
        assert "登录" in response.get_data(as_text=True)  # the login page, with its form
    assert not is_logged_in(client)
    assert user.is_enabled


def test_nine_failures_do_not_lock(client, at):
    make_user(username="alice")
    fail(client, "alice", 9)
    assert path_of(attempt(client, "alice", DEFAULT_PASSWORD)) == "/"


def test_other_accounts_are_unaffected(app, client, at):
    make_user(username="alice")
    make_user(username="bob")
    fail(client, "alice", 10)
    assert attempt(client, "alice").status_code == 429
    response = attempt(client, "bob", DEFAULT_PASSWORD)
    assert response.status_code == 302 and is_logged_in(client)


def test_the_lock_lifts_after_the_window(client, at):
    make_user(username="alice")
    fail(client, "alice", 10)
    at(T0 + dt.timedelta(minutes=14, seconds=59))
    assert attempt(client, "alice", DEFAULT_PASSWORD).status_code == 429
    at(T0 + dt.timedelta(minutes=15))
    response = attempt(client, "alice", DEFAULT_PASSWORD)
    assert response.status_code == 302 and is_logged_in(client)


def test_refused_attempts_are_not_counted(client, at):
    make_user(username="alice")
    fail(client, "alice", 10)
    before = attempts()
    for _ in range(5):
        assert attempt(client, "alice").status_code == 429
    assert attempts() == before  # a flood of refused attempts writes nothing, and does not prolong the lock
    at(T0 + dt.timedelta(minutes=15))
    assert attempt(client, "alice", DEFAULT_PASSWORD).status_code == 302


def test_unknown_names_are_throttled_alike(client, at, no_hashing):
    make_user(username="alice")
    fail(client, "ghost", 10)
    fail(client, "alice", 10)
    no_hashing()
    unknown, known = attempt(client, "ghost"), attempt(client, "alice")
    assert unknown.status_code == known.status_code == 429
    assert flashes(unknown) == flashes(known) == [THROTTLED]


def test_spelling_a_name_differently_counts_for_the_same_account(client, at):
    make_user(username="alice")
    for name in ("alice", "Alice", " ALICE ", "alice", "aLiCe") * 2:
        attempt(client, name)
    assert attempt(client, "alice", DEFAULT_PASSWORD).status_code == 429


def test_a_success_restarts_the_accounts_count_but_not_the_addresss(app, client, at, monkeypatch):
    make_user(username="alice")
    fail(client, "alice", 9)
    assert attempt(client, "alice", DEFAULT_PASSWORD).status_code == 302
    client.post("/logout")
    fail(client, "alice", 9)  # nine more are heard: the success restarted the account's count
    assert attempt(client, "alice", DEFAULT_PASSWORD).status_code == 302
    client.post("/logout")
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 18)
    assert attempt(client, "alice", DEFAULT_PASSWORD).status_code == 429  # the address's 18 still count


def test_the_address_limit_covers_every_name(app, client, at, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 5)
    make_user(username="alice")
    for n in range(5):
        fail(client, f"guess{n}", 1, address="10.0.0.9")
    assert attempt(client, "alice", DEFAULT_PASSWORD, address="10.0.0.9").status_code == 429
    assert attempt(client, "alice", DEFAULT_PASSWORD, address="10.0.0.10").status_code == 302


def test_the_address_limit_defaults_to_fifty(app, client, at, no_hashing, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 100)  # only the address limit applies
    make_user(username="alice")
    fail(client, "alice", 50, address="10.0.0.9")
    no_hashing()
    assert attempt(client, "someone-new", address="10.0.0.9").status_code == 429


def test_old_attempts_are_deleted(client, at):
    make_user(username="alice")
    fail(client, "alice", 3)
    at(T0 + dt.timedelta(hours=23))
    fail(client, "bob", 1)
    assert attempts() == 4
    at(T0 + dt.timedelta(hours=24, seconds=1))
    fail(client, "carol", 1)
    assert attempts() == 2  # bob's and carol's: alice's are more than a day old
    assert db.session.scalars(select(LoginAttempt.username).order_by(LoginAttempt.id)).all() == ["bob", "carol"]


def test_attempts_record_names_addresses_and_outcomes(client, at):
    make_user(username="alice")
    attempt(client, " Alice ", address="10.1.2.3")
    attempt(client, "alice", DEFAULT_PASSWORD, address="10.1.2.4")
    db.session.rollback()
    rows = db.session.execute(select(LoginAttempt.username, LoginAttempt.address, LoginAttempt.succeeded,
                                     LoginAttempt.attempted_at).order_by(LoginAttempt.id)).all()
    assert [tuple(r) for r in rows] == [("alice", "10.1.2.3", False, T0), ("alice", "10.1.2.4", True, T0)]


def test_a_forwarded_address_is_ignored_unless_configured(app, make_app, client, at, monkeypatch):
    """X-Forwarded-For could name any address: trusted only with PROXY_FIX_X_FOR, so a client cannot
    dodge the address limit by sending its own."""
    forged = {"X-Forwarded-For": "203.0.113.7"}
    client.post("/login", data={"username": "x1", "password": WRONG}, headers=forged)
    behind_proxy = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                             "WTF_CSRF_ENABLED": False, "SERVER_NAME": "localhost", "PROXY_FIX_X_FOR": 1})
    behind_proxy.test_client().post("/login", data={"username": "x2", "password": WRONG}, headers=forged)
    db.session.rollback()
    assert db.session.execute(select(LoginAttempt.username, LoginAttempt.address)
                              .order_by(LoginAttempt.id)).all() == [("x1", "127.0.0.1"), ("x2", "203.0.113.7")]


# A live server: the count is held in the database, so two gunicorn workers share it ----------------------

def _live_attempt(base: str, username: str, password: str) -> int:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                         urllib.request.HTTPRedirectHandler())
    with opener.open(f"{base}/login", timeout=10) as page:
        token = CSRF_RE.search(page.read().decode()).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
    try:
        with opener.open(f"{base}/login", data=body, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_the_lock_holds_across_gunicorn_workers(tmp_path):
    env = live_env(tmp_path)
    run_cli(env, "db", "upgrade")
    run_cli(env, "users", "create", "alice", "--role", "leader", "--password-stdin", stdin=f"{DEFAULT_PASSWORD}\n")
    log_path = tmp_path / "gunicorn.log"
    with Server(env, log_path, workers=2) as live:
        # Two at a time: while one worker hashes, the other must take the next connection (sent one by
        # one, the kernel may hand every connection to the same waiting worker).
        with ThreadPoolExecutor(max_workers=2) as pool:
            statuses = list(pool.map(lambda _: _live_attempt(live.base, "alice", WRONG), range(10)))
        assert statuses == [200] * 10
        assert _live_attempt(live.base, "alice", DEFAULT_PASSWORD) == 429
        assert _live_attempt(live.base, "alice", WRONG) == 429
    events = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()
              if line.startswith("{")]
    failed = [e for e in events if e.get("event") == "login_failed"]
    throttled = [e for e in events if e.get("event") == "login_throttled"]
    assert len(failed) == 10 and len(throttled) == 2
    # Both workers served failures, yet the count was one: it is in the database, not in a worker.
    assert len({e["pid"] for e in failed + throttled}) == 2
