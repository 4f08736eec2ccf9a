"""The map of parks and projects, with the leaders' dashboard and the monthly briefing built on its filters."""


def init_app(app):
    from . import briefing, dashboard, views

    views.init_app(app)
    dashboard.init_app(app)
    briefing.init_app(app)
