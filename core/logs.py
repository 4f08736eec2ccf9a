"""Structured logging, one JSON object per line, carrying the request's id, user and address."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

# A child of the app's own logger (Flask names it after the app, "sanming"), so it shares its handler.
EVENTS = logging.getLogger("sanming.events")
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9-]{1,64}")
# json.dumps escapes every control character below U+0020, but with ensure_ascii=False it leaves
# these raw, and str.splitlines() and many log viewers break lines at them.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def init_app(app: Flask) -> None:
    """Send the app's log records to stderr as JSON lines and give every response its request id."""
    logger = app.logger
    logger.removeHandler(default_handler)  # Flask's "[time] INFO in module: text" lines
    # The logger outlives any one app (tests build many): one handler, however many apps.
    if not any(isinstance(handler, JsonStderrHandler) for handler in logger.handlers):
        logger.addHandler(JsonStderrHandler())
    if not app.debug:
        logger.setLevel(logging.INFO)
    app.after_request(_echo_request_id)


class JsonFormatter(logging.Formatter):
    """A record as one JSON object on one line: nothing a user typed can start a line of its own."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "pid": record.process}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        else:
            entry["message"] = record.getMessage()
            entry.update(request_fields())
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str).translate(_LINE_BREAKS)


class JsonStderrHandler(logging.StreamHandler):
    """JSON lines to whatever sys.stderr is when a record is written: under gunicorn that is its
    error log (gunicorn.conf.py: errorlog "-"), under pytest the capture of the running test."""

    def __init__(self) -> None:
        super().__init__()
        self._stream = None
        self.setFormatter(JsonFormatter())

    @property
    def stream(self):
        return self._stream or sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        self._stream = value


def request_id() -> str:
    """The request's id: the client's X-Request-ID when it is sane, else a new one."""
    if "request_id" not in g:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def _echo_request_id(response):
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def user_fields(user) -> dict:
    role = getattr(user, "role", None)
    return {"user": user.username, "user_id": user.id, "role": getattr(role, "value", role),
            "county": user.county_code}


def request_fields() -> dict:
    """Who asked for what, from where: empty outside a request (the CLI)."""
    if not has_request_context():
        return {}
    fields = {"request_id": request_id(), "method": request.method, "path": request.path,
              "address": request.remote_addr}
    # Only a user Flask-Login has already loaded: writing a log line must never query the database.
    user = g.get("_login_user")
    if user is not None and user.is_authenticated:
        fields.update(user_fields(user))
    return fields


def event(name: str, outcome: str = "ok", *, user=None, level: int = logging.INFO, **fields) -> None:
    """Log that ``name`` happened and how it ended (ok, failed, refused ...), with the request's
    context; ``user`` names the account when Flask-Login has none (a login, the CLI). Never pass a
    password, a cookie or a session key."""
    entry = {"event": name, "outcome": outcome, **request_fields()}
    if user is not None:
        entry.update(user_fields(user))
    entry.update(fields)
    EVENTS.log(level, "%s: %s", name, outcome, extra={"fields": entry})
