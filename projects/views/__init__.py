"""Projects views room: one module per page family, registered together."""


def init_app(app):
    from . import events, home, leads, projects, reports

    for module in (projects, leads, events, reports, home):
        app.register_blueprint(module.bp)
    app.register_blueprint(projects.admin_bp)
    projects.register_park_panel(app)
