"""Leads: investment leads (招商线索) followed up until they are signed into projects or abandoned."""


def init_app(app):
    from core.api import base
    from projects.demo import add_demo_step

    from . import api, demo, views

    views.init_app(app)
    base.register(api.blp)
    add_demo_step(app, finish=demo.finish)
