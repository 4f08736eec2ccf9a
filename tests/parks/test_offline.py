"""Offline use: pages reference no outside host, and every local asset they name is served by the app."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from core.auth.models import Role
from tests.parks.helpers import ROLES, attribute_urls, css_urls, is_remote, park_by_name

LOCAL_ASSET_PREFIXES = ("/static/", "/bootstrap/")


def remote_urls(page: str) -> list[str]:
    """Attribute URLs and url(...)/@import targets that would make the browser go to another host."""
    return [url for url in attribute_urls(page) + css_urls(page) if is_remote(url)]


def asset_paths(page: str) -> set[str]:
    paths = {urlsplit(url).path for url in attribute_urls(page)}
    return {path for path in paths if path.startswith(LOCAL_ASSET_PREFIXES)}


@pytest.fixture
def pages(seeded, client, login_as):
    """Fetch the pages a user of a role opens, as {name: (status, html)}."""

    def fetch(role: Role) -> dict[str, tuple[int, str]]:
        seen = {}
        login = client.get("/login")  # before logging in: the login page itself
        seen["login"] = (login.status_code, login.get_data(as_text=True))
        login_as(role)
        park = park_by_name("明溪氟新材料产业园")
        for key, path in [("list", "/parks/"), ("park", f"/parks/{park.id}"), ("users", "/admin/users"),
                          ("no-park", "/parks/999999"), ("no-page", "/no-such-page")]:
            response = client.get(path)
            seen[key] = (response.status_code, response.get_data(as_text=True))
        return seen

    return fetch


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_pages_work_without_internet(pages, client, role):
    seen = pages(role)
    assert {key: status for key, (status, _page) in seen.items()} == {
        "login": 200, "list": 200, "park": 200, "users": 200 if role is Role.ADMIN else 403,
        "no-park": 404, "no-page": 404}

    assets = set()
    for key, (_status, page) in seen.items():
        assert remote_urls(page) == [], f"{key} page as {role.value} points outside: {remote_urls(page)}"
        assets |= asset_paths(page)

    # The pages do use Bootstrap and the app's own stylesheet, and all of it comes from here.
    assert "/static/css/app.css" in assets
    assert any(path.startswith("/bootstrap/") and path.endswith(".css") for path in assets)
    assert any(path.startswith("/bootstrap/") and path.endswith(".js") for path in assets)
    for path in sorted(assets):
        with client.get(path) as response:  # a file response: close it
            assert response.status_code == 200, f"{path} answers {response.status_code}"
            body = response.get_data()
        assert body, f"{path} is empty"
        if path.endswith(".css"):
            css = body.decode("utf-8")
            assert [url for url in css_urls(css) if is_remote(url)] == [], f"{path} fetches from outside"
            # url(...)s relative to the stylesheet (fonts, images) must be served too.
            for url in css_urls(css):
                if not url.startswith(("data:", "#")):
                    with client.get(urljoin(path, url)) as response:
                        assert response.status_code == 200, f"{url} in {path}"
