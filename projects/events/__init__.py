"""Signing events (签约活动) and the cohorts of projects first signed at each."""


def init_app(app):
    from projects.demo import add_demo_step

    from . import demo, views

    views.init_app(app)
    add_demo_step(app, prepare=demo.prepare)
