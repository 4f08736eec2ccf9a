"""Browser: a county official on a phone logs in, edits a project, and meets the conflict page (Playwright)."""
from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import pytest

from tests.live import STEP_MS, chromium, gunicorn, live_env, run_cli

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
USERNAME = "sanyuan_official"
PASSWORD = "browser-" + secrets.token_hex(8)


@pytest.fixture
def live_server(tmp_path):
    """A fresh SQLite database with 50 demo projects and a 三元区 official, served by gunicorn."""
    env = live_env(tmp_path)
    run_cli(env, "db", "upgrade")
    run_cli(env, "seed")
    run_cli(env, "users", "create", USERNAME, "--role", "county", "--county", "350404",
            "--display-name", "三元区王五", "--password-stdin", stdin=PASSWORD + "\n")
    run_cli(env, "demo-data", "--projects", "50", "--seed", "1")
    with gunicorn(env, tmp_path / "gunicorn.log") as base:
        yield base


@pytest.fixture
def browser():
    with chromium() as instance:
        yield instance


def open_phone(browser, base: str, requested: list[str], errors: list[str]):
    """A phone-sized tab of its own (own cookies) that records every request and script error."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(STEP_MS)
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def log_in(page, base: str) -> None:
    page.goto(f"{base}/projects/")
    assert urlsplit(page.url).path == "/login", "an anonymous visitor was not sent to the login page"
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")


def save_form(page):
    """Submit the edit form and return the response of the POST."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/edit" in r.url) as posted:
        page.locator("form[method=post] [type=submit]").last.click()
    page.wait_for_load_state()
    return posted.value


def test_county_official_on_a_phone(live_server, browser):
    base = live_server
    requested: list[str] = []
    errors: list[str] = []
    page = open_phone(browser, base, requested, errors)

    log_in(page, base)
    assert urlsplit(page.url).path == "/projects/"
    assert page.locator("h1").inner_text().strip() == "项目 · 三元区"
    counties = page.locator("table tbody tr td:nth-child(4)").all_inner_texts()
    assert counties and set(counties) == {"三元区"}, f"another county's projects listed: {set(counties)}"
    assert re.search(r"共 \d+ 个项目", page.inner_text("main"))

    # The navbar is folded on a phone; Bootstrap's own script (served by the app) unfolds it.
    toggler = page.locator(".navbar-toggler")
    assert toggler.is_visible() and not page.locator("#mainnav").is_visible()
    toggler.click()
    page.locator("#mainnav.show").wait_for(state="visible")
    assert toggler.get_attribute("aria-expanded") == "true"
    assert page.locator("#mainnav a.nav-link", has_text="产业园区").is_visible()

    # Open the first (reddest) project, edit one field, save.
    first = page.locator("table tbody tr td a[href^='/projects/']").first
    name = first.inner_text().strip()
    with page.expect_navigation():
        first.click()
    project_path = urlsplit(page.url).path
    assert re.fullmatch(r"/projects/\d+", project_path)
    assert page.locator("h1").inner_text().strip() == name
    with page.expect_navigation():
        page.click("a:has-text('编辑')")
    assert urlsplit(page.url).path == f"{project_path}/edit"
    page.fill("#liaison", "浏览器联络员")
    response = save_form(page)
    assert response.status == 302, f"save failed ({response.status}): {page.inner_text('main')[:800]}"
    assert urlsplit(page.url).path == project_path
    assert page.locator(".alert-success").inner_text().strip() == "已保存：联络员。"
    assert "联络员：（空） → 浏览器联络员" in page.locator(".timeline").inner_text()

    # Two phones open the same form; the first saves, the second gets the conflict page.
    other = open_phone(browser, base, requested, errors)
    log_in(other, base)
    page.goto(f"{base}{project_path}/edit")
    other.goto(f"{base}{project_path}/edit")
    page.fill("#notes", "第一部手机的备注")
    assert save_form(page).status == 302
    other.fill("#notes", "第二部手机的备注")
    response = save_form(other)
    assert response.status == 409
    conflict = other.inner_text("main")
    assert "内容已被他人修改，您的修改尚未保存" in conflict
    assert "第一部手机的备注" in conflict and "第二部手机的备注" in conflict
    page.goto(f"{base}{project_path}")
    assert "第一部手机的备注" in page.inner_text("main") and "第二部手机的备注" not in page.inner_text("main")

    assert errors == [], f"script errors: {errors}"
    outside = [url for url in requested
               if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"requests left the loopback address: {outside}"
    assert any("/bootstrap/static/" in url and url.endswith(".js") for url in requested), "no local Bootstrap JS"
