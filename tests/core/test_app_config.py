"""Factory and configuration tests: the secret-key guard, database URLs and cookie settings."""
from __future__ import annotations

import os
import secrets

import pytest

from core.config import ConfigError
from core.db import db

STRONG_KEY = secrets.token_hex(32)


@pytest.fixture
def env(clean_env, monkeypatch, tmp_path):
    """A production-like environment: no debug, no testing, a throwaway SQLite file."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    return monkeypatch


def test_missing_secret_key_is_refused(env, make_app):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app()


@pytest.mark.parametrize("key", ["", "dev", "changeme", "  DEV  ", "secret", "short-but-random-9f3a7c"])
def test_weak_secret_key_from_environment_is_refused(env, make_app, key):
    env.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError):
        make_app()


def test_weak_secret_key_in_instance_config_is_refused(env, clean_env, make_app):
    clean_env.write_text('SECRET_KEY = "changeme"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        make_app()


def test_strong_secret_key_is_accepted(env, make_app):
    env.setenv("SECRET_KEY", STRONG_KEY)
    app = make_app()
    assert not app.testing and not app.debug
    assert app.config["SECRET_KEY"] == STRONG_KEY


def test_instance_config_key_is_used_and_environment_outranks_it(env, clean_env, make_app):
    instance_key = secrets.token_hex(32)
    clean_env.write_text(f"SECRET_KEY = {instance_key!r}\n", encoding="utf-8")
    assert make_app().config["SECRET_KEY"] == instance_key

    env.setenv("SECRET_KEY", STRONG_KEY)
    assert make_app().config["SECRET_KEY"] == STRONG_KEY

    env.setenv("SECRET_KEY", "dev")  # a weak key in the environment is not rescued by the file
    with pytest.raises(ConfigError):
        make_app()


@pytest.mark.parametrize("overrides", [{"TESTING": True}, {"DEBUG": True}])
def test_testing_and_debug_run_without_a_key_on_a_random_one(env, make_app, overrides):
    first, second = make_app(dict(overrides)), make_app(dict(overrides))
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


@pytest.mark.parametrize("given", [
    "postgres://alice:pw@db.example:5433/sanming",
    "postgresql://alice:pw@db.example:5433/sanming",
    "postgresql+psycopg://alice:pw@db.example:5433/sanming",
])
def test_database_url_is_normalised_to_psycopg3(env, make_app, given):
    env.setenv("SECRET_KEY", STRONG_KEY)
    env.setenv("DATABASE_URL", given)
    app = make_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://alice:pw@db.example:5433/sanming"
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    # A host that does not answer must fail a request (and /healthz) in seconds, not minutes.
    assert 0 < options["connect_args"]["connect_timeout"] <= 10
    with app.app_context():
        assert db.engine.url.drivername == "postgresql+psycopg"
        assert db.engine.url.database == "sanming"


def test_given_engine_options_are_kept(env, make_app):
    app = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://u@h/d",
                    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "connect_args": {"connect_timeout": 2}}})
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == 2
    assert options["connect_args"] == {"connect_timeout": 2}
    assert options["pool_pre_ping"] is True


def test_database_url_in_environment_outranks_instance_config(env, clean_env, make_app, tmp_path):
    clean_env.write_text(f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{tmp_path / 'from-file.db'}'\n",
                         encoding="utf-8")
    env.setenv("SECRET_KEY", STRONG_KEY)
    env.setenv("DATABASE_URL", "postgres://u@db.example/prod")
    assert make_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/prod"


def test_without_database_url_the_database_is_sqlite_in_instance(clean_env, make_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    app = make_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + os.path.join(app.instance_path,
                                                                                 "sanming.db")
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]


@pytest.mark.parametrize(("value", "secure"), [
    ("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("false", False), ("", False),
])
def test_session_cookie_secure_comes_from_environment(env, make_app, value, secure):
    env.setenv("SECRET_KEY", STRONG_KEY)
    env.setenv("SESSION_COOKIE_SECURE", value)
    app = make_app()
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is secure


def test_cookies_default_to_httponly_lax_and_not_secure(env, make_app):
    env.setenv("SECRET_KEY", STRONG_KEY)
    config = make_app().config
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_SECURE"] is False
