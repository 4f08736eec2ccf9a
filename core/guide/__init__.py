"""The user guide (帮助): one page per role's tasks, its glossary and the screenshots that show them."""


def init_app(app):
    from . import views

    views.init_app(app)
