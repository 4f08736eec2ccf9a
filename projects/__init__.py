"""Projects through their stages, with approval items, milestones and timeline; the sub-packages build on it."""


def init_app(app):
    from core.cli import add_seed_step

    from . import cli, services, views

    views.init_app(app)
    cli.init_app(app)
    add_seed_step(app, lambda: f"前期手续类型新增 {services.seed_approval_types()} 个")
