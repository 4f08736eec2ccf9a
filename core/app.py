"""The composition root: create_app wires config, extensions, the domains (from one list) and the error pages."""
from __future__ import annotations

import importlib
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from core import api, auth, cache, cli, clock, config, errors, guide, inputs, logs, security, templating, views
from core.db import db
from core.extensions import bootstrap, compress, csrf, login_manager, migrate

# Each domain's package, in dependency order: each registers its blueprints, CLI commands, seed and demo
# steps and template helpers in its init_app. The order is also the order of `flask seed`, the demo data
# and the panels on the project and park pages.
DOMAINS = ("parks", "projects", "projects.events", "projects.reports", "projects.attachments", "projects.leads",
           "projects.chains", "projects.ledgers", "maps", "maps.dashboard", "maps.briefing")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id past the database's integer range names no row (404, not a 500)."""

    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("max", inputs.MAX_ID)
        super().__init__(url_map, **kwargs)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask("sanming", root_path=ROOT, instance_path=os.path.join(ROOT, "instance"),
                instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter  # before any blueprint adds a rule
    config.load(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    logs.init_app(app)
    if app.config["PROXY_FIX_X_FOR"]:
        # Behind a reverse proxy the client is in X-Forwarded-For: login throttling and the logs need it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])

    # Chinese names stay readable in JSON and GeoJSON (and ~30 % smaller than \u escapes).
    app.json.ensure_ascii = False
    # Timestamps are stored in UTC; every page writes them through these, in China time.
    app.add_template_filter(clock.format_time, "local_time")
    app.add_template_filter(clock.local_date, "local_date")
    templating.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    bootstrap.init_app(app)
    compress.init_app(app)
    cache.init_app(app)
    security.init_app(app)  # before the domains: maps adds its tile origins and asset route

    app.register_blueprint(views.bp)
    api.init_app(app)  # before auth: an API call signs in by its token before the login session is looked at
    auth.init_app(app)
    guide.init_app(app)
    cli.init_app(app)
    for name in DOMAINS:
        importlib.import_module(name).init_app(app)
    app.config.setdefault("HOME_ENDPOINT", "home.index")
    errors.init_app(app)
    return app
