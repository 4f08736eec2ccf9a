"""Factory room: create_app wires config, extensions, each domain and the error pages."""
from __future__ import annotations

import logging
import os

from flask import Flask

import maps
import parks
import projects
from core import auth, cli, config, errors, views
from core.db import db
from core.extensions import bootstrap, compress, csrf, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask("sanming", root_path=ROOT, instance_path=os.path.join(ROOT, "instance"),
                instance_relative_config=True)
    config.load(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.debug and not app.testing:
        app.logger.setLevel(logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    bootstrap.init_app(app)
    compress.init_app(app)

    app.register_blueprint(views.bp)
    auth.init_app(app)
    parks.init_app(app)
    projects.init_app(app)
    maps.init_app(app)
    cli.init_app(app)
    app.config.setdefault("HOME_ENDPOINT", "home.index")
    errors.init_app(app)
    return app
