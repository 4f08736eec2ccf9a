"""Auth package: users, roles, counties, login and the admin user pages."""


def init_app(app):
    from . import cli, views

    views.init_app(app)
    cli.init_app(app)
