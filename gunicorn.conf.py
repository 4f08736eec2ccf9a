"""gunicorn settings: loopback by default, PORT/BIND/WEB_CONCURRENCY override; no Server header."""
import multiprocessing
import os

from gunicorn.http import wsgi as gunicorn_http

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Sync workers serve one request each: 2 × cores + 1 keeps the cores busy while some wait on the
# database. Capped because SQLite writes one at a time anyway and every worker holds its own pandas.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = 1
timeout = 60  # the slowest request, a 10,000-row ledger import, takes seconds
graceful_timeout = 30  # on HUP (reload) or TERM a worker may finish its request first
# No keepalive setting: sync workers close each connection after its response and ignore it.
max_requests = 1000  # recycle a worker after this many requests, so slow memory growth cannot pile up,
max_requests_jitter = 100  # and not all workers at the same moment
limit_request_line = 4094  # bytes in the request line; the map's longest filter URL is far shorter
limit_request_fields = 50  # headers per request: a browser behind nginx sends about 15
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
# The proxies whose X-Forwarded-Proto gunicorn believes (then wsgi.url_scheme is https): nginx on this
# host. A proxy on another host: its address here (comma-separated). The client's address in
# X-Forwarded-For is the app's setting, PROXY_FIX_X_FOR.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def _without_server_header(default_headers):
    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    headers.drops_server = True
    return headers


# gunicorn names itself in a Server header on every response and has no setting to drop it (its issue
# #825): filter the line out of the HTTP/1.1 headers it writes. Loud if gunicorn renames the method;
# tests/core/test_security_headers.py checks a live server's headers.
if not getattr(gunicorn_http.Response.default_headers, "drops_server", False):  # the file is read again on HUP
    gunicorn_http.Response.default_headers = _without_server_header(gunicorn_http.Response.default_headers)
