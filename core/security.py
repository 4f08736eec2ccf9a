"""Security headers: the Content-Security-Policy, its per-request nonce, the other headers on every response."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask import Config, Flask, Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

NONCE_ENVIRON_KEY = "sanming.csp_nonce"
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts under the same domain are not ours to pin
ImageSources = Callable[[Config], Iterable[str]]


@dataclass
class _Rules:
    """What the domains add to the policy: endpoints serving public files, and extra image origins."""

    asset_endpoints: set[str] = field(default_factory=lambda: {"static", "bootstrap.static"})
    image_sources: list[ImageSources] = field(default_factory=list)


class SchemeSessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure when the request came over HTTPS (behind the trusted proxy, as gunicorn's
    forwarded_allow_ips decides: the same test as HSTS), or always with SESSION_COOKIE_SECURE."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    app.extensions["security"] = _Rules()
    app.session_interface = SchemeSessionInterface()
    app.after_request(set_headers)
    app.context_processor(lambda: {"csp_nonce": csp_nonce})


def add_asset_endpoint(app: Flask, endpoint: str) -> None:
    """Let an endpoint that serves public, unchanging files (Leaflet's) be cached by browsers."""
    app.extensions["security"].asset_endpoints.add(endpoint)


def add_image_sources(app: Flask, sources: ImageSources) -> None:
    """Allow images from the origins ``sources(app.config)`` names, read per request (the basemap's tiles)."""
    app.extensions["security"].image_sources.append(sources)


def csp_nonce() -> str:
    """This request's nonce: an inline <script> runs only if it carries it (templates: ``csp_nonce()``)."""
    nonce = request.environ.get(NONCE_ENVIRON_KEY)
    if nonce is None:
        nonce = request.environ[NONCE_ENVIRON_KEY] = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str, image_origins: Iterable[str] = ()) -> str:
    images = " ".join(dict.fromkeys(["'self'", "data:", *image_origins]))
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        # Styles (never scripts) may be inline: templates use style="" attributes, folium's map page
        # carries <style> blocks, and the map legend is built from HTML with style attributes. A style
        # cannot run code; allowing it costs far less than rewriting folium's output on every request.
        "style-src 'self' 'unsafe-inline'",
        f"img-src {images}",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
        "form-action 'self'",
    ])


def set_headers(response: Response) -> Response:
    """Put the security headers on every response: pages, errors, JSON and files alike."""
    rules: _Rules = current_app.extensions["security"]
    origins = [origin for sources in rules.image_sources for origin in sources(current_app.config)]
    response.headers["Content-Security-Policy"] = content_security_policy(csp_nonce(), origins)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if request.is_secure:  # behind a proxy, gunicorn's forwarded_allow_ips decides what counts as HTTPS
        response.headers["Strict-Transport-Security"] = HSTS
    if request.endpoint not in rules.asset_endpoints or response.status_code >= 400:
        # Pages show one user's data; an error page shows their name in the navbar.
        response.headers["Cache-Control"] = "no-store"
    return response
