"""Signing events (签约活动) and the cohorts of projects first signed at each."""


def init_app(app):
    from core.api import base
    from projects.demo import add_demo_step

    from . import api, demo, views

    views.init_app(app)
    base.register(api.blp)
    add_demo_step(app, prepare=demo.prepare)
