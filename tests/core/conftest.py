"""Core fixtures: throwaway apps from create_app, a clean environment, seeded counties."""
from __future__ import annotations

import flask
import pytest

from core.app import create_app
from core.db import db

CONFIG_ENV = ("SECRET_KEY", "DATABASE_URL", "SESSION_COOKIE_SECURE", "FLASK_DEBUG")


@pytest.fixture
def make_app():
    """Build extra apps with create_app; their engines are disposed when the test ends."""
    built = []

    def build(test_config: dict | None = None):
        new_app = create_app(test_config)
        built.append(new_app)
        return new_app

    yield build
    for built_app in built:
        with built_app.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No configuration from the shell or from the real instance/config.py.

    Returns the path of a stand-in instance config file: write to it to simulate instance/config.py.
    """
    for name in CONFIG_ENV:
        monkeypatch.delenv(name, raising=False)
    stand_in = tmp_path / "instance-config.py"
    original = flask.Config.from_pyfile

    def from_stand_in(self, filename, silent=False):
        if filename != "config.py":
            return original(self, filename, silent)
        if not stand_in.exists():
            return False
        return original(self, str(stand_in), silent)

    monkeypatch.setattr(flask.Config, "from_pyfile", from_stand_in)
    return stand_in


@pytest.fixture
def counties(reference):
    """The county table as `flask seed` fills it."""
    reference.counties.insert()

