"""Bench-only entry point: the app with the project edit form's version check defeated (never deploy this).

Why it exists: concurrent_edits.py --control serves this instead of wsgi:app to show that the bench can
fail. Before the edit view runs, a hook replaces the version the client submitted with the project's
current version, so a save made from a stale form passes the check and overwrites whatever was saved in
between: the lost update the real app refuses with a 409. Production code has no switch for this; the
defeat lives here, in bench/, and only gunicorn started by the bench loads it.
"""
from flask import request

from core.db import db
from projects.models import Project
from wsgi import app


@app.before_request
def _trust_stale_forms():
    if request.method != "POST" or request.endpoint != "projects.edit":
        return
    project = db.session.get(Project, request.view_args["project_id"])
    if project is not None:
        form = request.form.copy()
        form["version"] = str(project.version)
        request.form = form  # werkzeug caches the parsed form on the request; the view reads this one
