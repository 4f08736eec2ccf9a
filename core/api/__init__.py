"""The JSON API under /api/v1: access tokens, problem+json errors, the OpenAPI 3.1 document and its docs page."""


def init_app(app):
    from . import base, views

    base.init_app(app)
    views.init_app(app)
