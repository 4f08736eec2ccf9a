"""The guide's page: every role's tasks, the dashboard's figures, the glossary and the screenshots."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from core.auth.models import Role

from .glossary import TERMS
from .screens import SCREENS

bp = Blueprint("guide", __name__)


def init_app(app):
    app.register_blueprint(bp)
    # Templates that explain a figure inline (the monthly report's columns) read the same definitions.
    app.add_template_global(TERMS, "glossary")


@bp.get("/help")
@login_required
def index():
    """Show the user guide, whatever the reader's role."""
    return render_template("help/index.html", terms=TERMS, screens=SCREENS, roles=Role)
