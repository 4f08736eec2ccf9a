"""The leaders' dashboard: headline figures, the stage funnel, rankings and the red and stalled lists."""


def init_app(app):
    from . import views

    views.init_app(app)
