"""Projects views room: one module per page family, registered together."""


def init_app(app):
    from . import events, home, ledgers, leads, projects, reports

    for module in (projects, leads, events, reports, home, ledgers):
        app.register_blueprint(module.bp)
    app.register_blueprint(projects.admin_bp)
    projects.register_park_panel(app)
