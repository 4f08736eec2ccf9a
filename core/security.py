"""Security headers: the Content-Security-Policy, its per-request nonce, the other headers on every response."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask import Config, Flask, Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

NONCE_ENVIRON_KEY = "sanming.csp_nonce"
HASHES_ENVIRON_KEY = "sanming.csp_script_hashes"
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts under the same domain are not ours to pin
ImageSources = Callable[[Config], Iterable[str]]


@dataclass
class _Rules:
    """What the domains add to the policy: endpoints serving public files, and extra image origins."""

    asset_endpoints: set[str] = field(default_factory=lambda: {"static", "bootstrap.static"})
    revalidated_endpoints: set[str] = field(default_factory=set)
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


def add_revalidated_endpoint(app: Flask, endpoint: str) -> None:
    """Let the browser keep an endpoint's answers, asking with their ETag before each use (private, no-cache)."""
    app.extensions["security"].revalidated_endpoints.add(endpoint)


def add_image_sources(app: Flask, sources: ImageSources) -> None:
    """Allow images from the origins ``sources(app.config)`` names, read per request (the basemap's tiles)."""
    app.extensions["security"].image_sources.append(sources)


def csp_nonce() -> str:
    """This request's nonce: an inline <script> runs only if it carries it (templates: ``csp_nonce()``)."""
    nonce = request.environ.get(NONCE_ENVIRON_KEY)
    if nonce is None:
        nonce = request.environ[NONCE_ENVIRON_KEY] = secrets.token_urlsafe(18)
    return nonce


def allow_script_hashes(hashes: Iterable[str]) -> None:
    """Let this response's inline scripts with these SHA-256 digests (base64) run: for a page served from a cache,
    whose scripts cannot carry a new request's nonce."""
    request.environ[HASHES_ENVIRON_KEY] = list(hashes)


def content_security_policy(nonce: str, image_origins: Iterable[str] = (), script_hashes: Iterable[str] = ()) -> str:
    images = " ".join(dict.fromkeys(["'self'", "data:", *image_origins]))
    scripts = " ".join(["'self'", f"'nonce-{nonce}'", *(f"'sha256-{digest}'" for digest in script_hashes)])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
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
    if response.status_code == 304:
        # No body to govern: the browser keeps the stored response's policy, whose nonce its scripts carry.
        response.headers.pop("Content-Security-Policy", None)
    else:
        origins = [origin for sources in rules.image_sources for origin in sources(current_app.config)]
        response.headers["Content-Security-Policy"] = content_security_policy(
            csp_nonce(), origins, request.environ.get(HASHES_ENVIRON_KEY, ()))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if request.is_secure:  # behind a proxy, gunicorn's forwarded_allow_ips decides what counts as HTTPS
        response.headers["Strict-Transport-Security"] = HSTS
    if request.endpoint in rules.revalidated_endpoints and response.status_code in (200, 304):
        # One user's data, so never in a shared cache; kept by the browser only to revalidate with its ETag.
        response.headers["Cache-Control"] = "private, no-cache"
    elif request.endpoint not in rules.asset_endpoints or response.status_code >= 400:
        # Pages show one user's data; an error page shows their name in the navbar.
        response.headers["Cache-Control"] = "no-store"
    return response
