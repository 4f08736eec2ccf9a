"""The map of parks and projects; the leaders' dashboard and the monthly briefing are packages built on its filters."""


def init_app(app):
    from . import api, views

    views.init_app(app)
    api.document(app)
