"""Projects through their stages, with approval items, milestones and timeline; the sub-packages build on it."""


def init_app(app):
    from core.api import base
    from core.cli import add_seed_step
    from parks.editing import register_county_check

    from . import api, api_items, cli, queries, services, views

    views.init_app(app)
    base.register(api.blp)
    base.register(api_items.blp)
    cli.init_app(app)
    register_county_check("projects", queries.projects_left_outside)
    add_seed_step(app, lambda: f"前期手续类型新增 {services.seed_approval_types()} 个")
