"""Maps package: the park-and-project map, its export and the GeoJSON API."""


def init_app(app):
    from . import views

    views.init_app(app)
