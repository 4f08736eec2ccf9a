"""Core test helpers: logging in, reading redirects and flash messages, the home page path."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import url_for

from tests.factories import DEFAULT_PASSWORD


def login(client, user, password: str = DEFAULT_PASSWORD, **extra):
    return client.post("/login", data={"username": user.username, "password": password, **extra})


def path_of(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def is_logged_in(client) -> bool:
    """Whether the client's session gets past login_required (the home page answers, not a redirect to login)."""
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def home_path(app) -> str:
    """Where a logged-in user lands: the configured home page."""
    with app.test_request_context():
        return url_for(app.config["HOME_ENDPOINT"])


def flashes(response, category: str = "danger") -> list[str]:
    """The flash messages of one category shown on a page."""
    pattern = rf'<div class="alert alert-{category}" role="alert">(.*?)</div>'
    return re.findall(pattern, response.get_data(as_text=True), re.S)
