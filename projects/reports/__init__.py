"""Monthly progress reports (月度进展), blockers (存在问题) and each role's to-do page."""


def init_app(app):
    from core.api import base
    from projects.demo import add_demo_step

    from . import api, demo, views

    views.init_app(app)
    base.register(api.blp)
    add_demo_step(app, finish=demo.finish)
