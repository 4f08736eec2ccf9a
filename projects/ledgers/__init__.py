"""The counties' Excel ledgers (台账): import with a dry-run preview, batches that can be undone, export."""


def init_app(app):
    from . import cli, views

    views.init_app(app)
    cli.init_app(app)
