"""The monthly briefing workbook (调度会简报) a user downloads for their county or the city."""


def init_app(app):
    from . import views

    views.init_app(app)
