"""The response cache: Flask-Caching entries keyed by the data version, strong ETags, 304s, and gzip done once per entry.

A key is the endpoint, what the response depends on (normalised filters, the user's scope, the day) and the data
version, which every write bumps in its own transaction (core.data_version): a write is seen by every worker and
every host on its next request, and no entry is ever deleted to keep it right. The ETag is made from the key, so a
browser revalidating an unchanged response gets 304 before anything is read or built.
"""
from __future__ import annotations

import functools
import gc
import gzip
import hashlib
import importlib.metadata
from collections.abc import Callable, Iterable
from pathlib import Path

from cachelib import SimpleCache
from flask import Flask, current_app, g, request
from flask.wrappers import Response

from core import data_version
from core.extensions import cache

# What the cached bodies are made with besides the app's own code: a new version of any may change them.
_LIBRARIES = ("folium", "branca", "Jinja2", "WTForms", "orjson")
_SOURCES = (("core", "*.py"), ("parks", "*.py"), ("projects", "*.py"), ("maps", "*.py"), ("templates", "*.html"),
            ("migrations", "*.py"), ("static", "map_layers.*"))  # the map's own script and styles, inlined in its page
GZIP = "gzip"
# Once per entry: the 10,000-project map page (1.6 MB) gzips to 316 KB in 15 ms at level 4, 271 KB in 35 ms at 6.
GZIP_LEVEL = 4


def init_app(app: Flask) -> None:
    cache.init_app(app)


@functools.cache
def code_fingerprint(root: str) -> str:
    """A digest of the code, templates and migrations that build cached responses and their data: after an upgrade
    no entry (on disk or in Redis) and no browser's ETag made by the old code matches, even while the data version
    stays the same (a migration's data changes do not bump it)."""
    digest = hashlib.sha256()
    for folder, pattern in _SOURCES:
        for path in sorted((Path(root) / folder).rglob(pattern)):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for name in _LIBRARIES:
        digest.update(f"{name}={importlib.metadata.version(name)}".encode())
    return digest.hexdigest()[:16]


def normalised_args(names: Iterable[str]) -> tuple:
    """The query-string values of ``names`` only (other parameters change nothing), in a fixed order, exactly as
    given: two requests with the same tuple read the same filters."""
    return tuple((name, tuple(request.args.getlist(name))) for name in sorted(names) if name in request.args)


def entry_key(endpoint: str, *parts) -> str | None:
    """The cache key of ``endpoint``'s response for ``parts`` at the current data version; None when there is no
    data version (then nothing is cached). Read it before the data: see core.data_version."""
    if "data_version" not in g:  # once a request: every entry it reads or builds names the same version
        g.data_version = data_version.current()
    version = g.data_version
    if version is None:
        return None
    material = repr((code_fingerprint(current_app.root_path), version, endpoint, parts))
    return f"{endpoint}:{hashlib.sha256(material.encode()).hexdigest()[:40]}"


def etag_of(key: str, *per_response) -> str:
    """A strong ETag for the response stored under ``key`` (and, for a page rendered per user, what else it shows)."""
    digest = key.rsplit(":", 1)[1]
    if per_response:
        digest = hashlib.sha256(repr((digest, per_response)).encode()).hexdigest()[:40]
    return digest


def client_has(etag: str) -> str | None:
    """The tag of the request's If-None-Match that names ``etag`` in any content coding ("<etag>:gzip" from a
    compressed response), or None."""
    tags = request.if_none_match
    if tags.star_tag:
        return etag
    return next((tag for tag in tags.as_set(include_weak=True) if tag == etag or tag.startswith(etag + ":")), None)


def not_modified(etag: str) -> Response:
    """304 naming the representation the browser has: no body; the browser shows what it has (and keeps that
    response's own Content-Security-Policy)."""
    response = current_app.response_class(status=304)
    response.set_etag(etag)
    response.vary.add("Accept-Encoding")
    return response


def accepts_gzip() -> bool:
    return request.accept_encodings[GZIP] > 0


def kept(key: str | None, build: Callable[[], object], *, store=None):
    """The value stored under ``key``, or ``build()``, stored there when missing (and never kept without a key).
    ``store``: another cachelib cache than the app's (kept_here)."""
    store = store or cache
    value = store.get(key) if key else None
    if value is None:
        value = _without_gc(build)
        if key:
            store.set(key, value)
    return value


# Small entries that are quick to rebuild (pickers, the list's totals) stay in each process: with the file cache,
# every new entry is a file written, and past CACHE_THRESHOLD files every write scans the whole folder (bench/load.py
# measured the edit form at 39 ms of CPU instead of 9 while edits kept making new data versions).
_HERE = SimpleCache(threshold=2000, default_timeout=3600)


def kept_here(key: str | None, build: Callable[[], object]):
    """kept(), in this process's own memory: for small entries that each worker may as well build once itself."""
    return kept(key, build, store=_HERE)


def _without_gc(build: Callable[[], object]):
    """``build()`` with Python's cycle collector paused: a build makes tens of thousands of small dicts and lists
    (the GeoJSON of 10,000 projects), none in a cycle, and the collector would walk the whole heap again and again
    for nothing, half the build's time. Reference counting still frees everything as usual."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return build()
    finally:
        if paused:
            gc.enable()


def respond(key: str | None, build: Callable[[], tuple[bytes, dict]], mimetype: str) -> tuple[Response, dict | None]:
    """The response stored under ``key``: 304 when the browser's copy is current; else the stored body, built
    (``build`` → body, details) and gzipped once when missing. Returns it with the details kept beside the body
    (what the view logs or puts in a header), or None with a 304. ``key`` None: built, never kept.

    A client that accepts gzip gets the stored bytes as they are (Flask-Compress leaves a response with a
    Content-Encoding alone); any other gets them unzipped. The gzip stream carries no timestamp, so every worker
    makes the same bytes for a key, as a strong ETag promises."""
    etag = etag_of(key) if key else None
    zipped = accepts_gzip()
    if etag:
        etag = f"{etag}:{GZIP}" if zipped else etag
        if request.if_none_match.contains_weak(etag):  # If-None-Match compares weakly; "*" matches too
            return not_modified(etag), None
    body = None

    def zipped_entry():
        nonlocal body
        body, details = build()
        return {"gz": gzip.compress(body, GZIP_LEVEL, mtime=0), "details": details}

    entry = kept(key, zipped_entry)
    if zipped:
        body = entry["gz"]
    elif body is None:
        body = gzip.decompress(entry["gz"])
    response = current_app.response_class(body, mimetype=mimetype)
    response.vary.add("Accept-Encoding")
    if zipped:
        response.headers["Content-Encoding"] = GZIP
    if etag:
        response.set_etag(etag)
    return response, entry["details"]
