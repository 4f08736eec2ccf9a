"""Parks: industries and their chains, zones, parks and their anchor enterprises, kept by administrators."""


def init_app(app):
    from core.api import base
    from core.cli import add_seed_step

    from . import api, reference_views, views
    from .services import seed_reference

    views.init_app(app)
    reference_views.init_app(app)
    base.register(api.blp)
    add_seed_step(app, lambda: "产业 {industries} 个，集聚区 {zones} 个，园区 {parks} 个，龙头企业 {enterprises} 家"
                  .format(**seed_reference()))
