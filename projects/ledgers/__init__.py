"""The counties' Excel ledgers (台账): import with a dry-run preview, batches that can be undone, export."""


def init_app(app):
    from core.api import base

    from . import api, cli, views

    views.init_app(app)
    base.register(api.blp)
    cli.init_app(app)
