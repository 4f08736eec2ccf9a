"""Leads: investment leads (招商线索) followed up until they are signed into projects or abandoned."""


def init_app(app):
    from projects.demo import add_demo_step

    from . import demo, views

    views.init_app(app)
    add_demo_step(app, finish=demo.finish)
