"""The API's docs page: Swagger UI from an installed package (no CDN), reading /api/v1/openapi.json."""
from __future__ import annotations

import os

import flask_swagger_ui
from flask import Blueprint, render_template, send_from_directory

from core import security

from .base import PREFIX

bp = Blueprint("api_docs", __name__, url_prefix=PREFIX)
SWAGGER_DIST = os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")
SWAGGER_FILES = {"swagger-ui-bundle.js", "swagger-ui.css"}


def init_app(app) -> None:
    app.register_blueprint(bp)
    security.add_asset_endpoint(app, "api_docs.asset")


@bp.get("/docs")
def docs():
    """Show the API's documentation, generated from the code (OpenAPI 3.1), with a try-it-out console."""
    return render_template("api/docs.html")


@bp.get("/docs/assets/<name>")
def asset(name: str):
    """Serve Swagger UI's script and stylesheet from the installed flask-swagger-ui package."""
    if name not in SWAGGER_FILES:
        return "", 404
    return send_from_directory(SWAGGER_DIST, name, max_age=86400)
