"""Parks package: industries and chains, zones, parks and their anchor enterprises."""


def init_app(app):
    from . import views

    views.init_app(app)
