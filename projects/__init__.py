"""Projects package: signed investment projects through their stages, with approvals and milestones."""


def init_app(app):
    from . import cli, views

    views.init_app(app)
    cli.init_app(app)
