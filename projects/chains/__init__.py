"""产业链招商: the chain map with its gap, weak and strong links, the gap list, and parks recommended for a lead."""


def init_app(app):
    from projects.demo import add_demo_step

    from . import api, demo, views

    views.init_app(app)
    api.document(app)
    add_demo_step(app, prepare=demo.prepare, finish=demo.finish)
