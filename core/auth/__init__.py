"""Auth package: users, roles, counties, login, the admin user pages, the account page and API tokens."""


def init_app(app):
    from . import account, cli, token_cli, views

    views.init_app(app)
    account.init_app(app)
    cli.init_app(app)
    token_cli.init_app(app)
