"""Configuration: defaults, then instance/config.py, then the environment; the secret-key guard."""
from __future__ import annotations

import datetime as dt
import os

from flask import Flask

WEAK_SECRET_KEYS = frozenset({"", "dev", "secret", "changeme", "change-me", "development", "test"})
MIN_SECRET_KEY_LENGTH = 32
# psycopg waits 130 s for an unreachable host, longer than gunicorn's worker timeout.
PG_CONNECT_TIMEOUT_S = 5
# Basemaps the map can draw under the parks and projects (see the map section of docs/features.md).
MAP_TILES_CHOICES = ("none", "local", "tianditu", "gaode", "osm")
# Flask-Caching's back ends the app supports, and the short names the environment may use for them.
CACHE_TYPES = {"filesystem": "FileSystemCache", "simple": "SimpleCache", "redis": "RedisCache", "null": "NullCache"}


class ConfigError(RuntimeError):
    """The configuration would run the app unsafely."""


class Defaults:
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # filled in from instance/ when not given
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    BOOTSTRAP_SERVE_LOCAL = True
    WTF_I18N_ENABLED = False  # messages come from WTForms' own Chinese catalogue (core.forms.Form)
    BOOTSTRAP_BTN_SIZE = "sm"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = dt.timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = 3600 * 8
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    GEOJSON_MAX_BYTES = 2 * 1024 * 1024
    LEDGER_IMPORT_DIR = ""  # uploaded ledgers awaiting confirmation; empty → instance/imports
    ATTACHMENT_DIR = ""  # photos and documents on projects, by SHA-256; empty → instance/attachments
    ATTACHMENT_PHOTO_MAX_MB = 15  # one photo (JPEG, PNG, WebP)
    ATTACHMENT_DOCUMENT_MAX_MB = 30  # one document (PDF, Word, Excel); also the upload request's limit
    ATTACHMENT_PROJECT_QUOTA_MB = 500  # all of one project's attachments together
    LEAD_FIRST_RESPONSE_DAYS = 1  # a new lead gets its first follow-up within this many days
    LEAD_ASSESS_DAYS = 3  # and is assessed (研判) within this many
    LEAD_FOLLOW_UP_DAYS = 14  # a lead in 在谈 is followed up at least this often
    # gzip (Flask-Compress) for pages, JSON and GeoJSON: the map of 10,000 projects shrinks ~10×.
    COMPRESS_MIMETYPES = ["text/html", "application/json", "application/geo+json", "text/css",
                          "application/javascript", "text/javascript"]
    MAP_TILES = "none"  # no basemap: works with no network at all
    MAP_TILES_URL = ""  # the intranet tile server for MAP_TILES = "local", e.g. /tiles/{z}/{x}/{y}.png
    TIANDITU_TOKEN = ""  # the 天地图 key for MAP_TILES = "tianditu"
    SESSION_IDLE_MINUTES = 30  # a login with no request for this long ends (会话已过期)
    SESSION_ABSOLUTE_HOURS = 12  # and any login ends this long after it began
    LOGIN_THROTTLE_MINUTES = 15  # failed logins count against further attempts for this long
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 10  # then that name is refused (429) until they age out
    LOGIN_MAX_FAILURES_PER_ADDRESS = 50  # and so is one client address, whatever the name
    API_RATE_LIMIT = 600  # requests per token per API_RATE_WINDOW_SECONDS, counted in the database (429 beyond)
    API_RATE_WINDOW_SECONDS = 60
    API_TOKEN_DAYS = 90  # a new token's default life; at most API_TOKEN_MAX_DAYS
    API_TOKEN_MAX_DAYS = 365
    PROXY_FIX_X_FOR = 0  # behind a reverse proxy: how many proxies' X-Forwarded-For to trust (0: none)
    # The response cache (core.cache). Blank: files under instance/cache, shared by every worker on the host and
    # kept when gunicorn recycles a worker; RedisCache when CACHE_URL names a Redis server.
    CACHE_TYPE = ""
    CACHE_URL = ""  # redis://host:6379/0 (needs the redis package)
    CACHE_DIR = ""  # FileSystemCache's folder; blank → instance/cache
    CACHE_THRESHOLD = 500  # entries kept (files or per-process items); the oldest go first
    CACHE_DEFAULT_TIMEOUT = 86400  # an entry is right as long as its data version; this only frees the space
    CACHE_KEY_PREFIX = "sanming:"


ENV_SETTINGS = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "SESSION_COOKIE_SECURE": lambda v: v.lower() in {"1", "true", "yes", "on"},
    "LEAD_FIRST_RESPONSE_DAYS": int,
    "LEAD_ASSESS_DAYS": int,
    "LEAD_FOLLOW_UP_DAYS": int,
    "MAP_TILES": lambda v: v.strip().lower(),
    "MAP_TILES_URL": str,
    "TIANDITU_TOKEN": str,
    "LEDGER_IMPORT_DIR": str,
    "ATTACHMENT_DIR": str,
    "ATTACHMENT_PHOTO_MAX_MB": int,
    "ATTACHMENT_DOCUMENT_MAX_MB": int,
    "ATTACHMENT_PROJECT_QUOTA_MB": int,
    "SESSION_IDLE_MINUTES": int,
    "SESSION_ABSOLUTE_HOURS": int,
    "LOGIN_THROTTLE_MINUTES": int,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": int,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": int,
    "PROXY_FIX_X_FOR": int,
    "API_RATE_LIMIT": int,
    "API_RATE_WINDOW_SECONDS": int,
    "API_TOKEN_DAYS": int,
    "API_TOKEN_MAX_DAYS": int,
    "MAX_CONTENT_LENGTH": int,  # bytes; a larger request gets the 413 page
    "CACHE_TYPE": str,
    "CACHE_URL": str,
    "CACHE_DIR": str,
    "CACHE_THRESHOLD": int,
}

# Limits that make no sense below 1 (a zero idle limit would end every login at once).
POSITIVE_SETTINGS = ("SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "LOGIN_THROTTLE_MINUTES",
                     "LOGIN_MAX_FAILURES_PER_ACCOUNT", "LOGIN_MAX_FAILURES_PER_ADDRESS", "ATTACHMENT_PHOTO_MAX_MB",
                     "ATTACHMENT_DOCUMENT_MAX_MB", "ATTACHMENT_PROJECT_QUOTA_MB", "API_RATE_LIMIT",
                     "API_RATE_WINDOW_SECONDS", "API_TOKEN_DAYS", "API_TOKEN_MAX_DAYS")


def load(app: Flask, overrides: dict | None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and test overrides."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for name, parse in ENV_SETTINGS.items():
        if name in os.environ:
            app.config[name] = parse(os.environ[name])
    if "DATABASE_URL" in os.environ:
        # The environment outranks instance/config.py, whichever of the two names the file used.
        app.config["SQLALCHEMY_DATABASE_URI"] = None
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                             app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    check_secret_key(app)
    check_map_tiles(app)
    check_limits(app)
    check_cache(app)


def database_uri(app: Flask) -> str:
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    if not uri:
        return "sqlite:///" + os.path.join(app.instance_path, "sanming.db")
    # Deployment guides often say postgres:// or postgresql://; we only ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix):]
    return uri


def engine_options(uri: str, given: dict) -> dict:
    options = dict(given)
    if uri.startswith("postgresql"):
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 5)
        options.setdefault("max_overflow", 5)
        options.setdefault("pool_recycle", 1800)
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S, **options.get("connect_args", {})}
    return options


def check_secret_key(app: Flask) -> None:
    if app.debug or app.testing:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        return
    key = app.config.get("SECRET_KEY") or ""
    if key.strip().lower() in WEAK_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            "SECRET_KEY 未设置或过弱：请在环境变量 SECRET_KEY 或 instance/config.py 中设置"
            f"至少 {MIN_SECRET_KEY_LENGTH} 个字符的随机密钥（make run 会自动生成）。"
        )


def check_map_tiles(app: Flask) -> None:
    """Refuse an unknown basemap; without its token 天地图 falls back to no basemap, loudly."""
    tiles = app.config["MAP_TILES"]
    if tiles not in MAP_TILES_CHOICES:
        raise ConfigError(f"MAP_TILES 的值 {tiles!r} 无效，可选值：{'、'.join(MAP_TILES_CHOICES)}。")
    if tiles == "local" and not app.config.get("MAP_TILES_URL"):
        raise ConfigError("MAP_TILES = local 需要同时设置 MAP_TILES_URL（内网瓦片服务地址，如 /tiles/{z}/{x}/{y}.png）。")
    if tiles == "tianditu" and not app.config.get("TIANDITU_TOKEN"):
        app.logger.warning("MAP_TILES = tianditu 但未设置 TIANDITU_TOKEN：地图改为不加载底图（none）。")
        app.config["MAP_TILES"] = "none"


def check_limits(app: Flask) -> None:
    for name in POSITIVE_SETTINGS:
        if app.config[name] < 1:
            raise ConfigError(f"{name} 必须是正整数（当前为 {app.config[name]}）。")
    if app.config["PROXY_FIX_X_FOR"] < 0:
        raise ConfigError("PROXY_FIX_X_FOR 不能为负数（0 表示不信任任何 X-Forwarded-For）。")


def check_cache(app: Flask) -> None:
    """Settle the cache's back end: a short or full Flask-Caching name, Redis when CACHE_URL is set, else files."""
    config = app.config
    wanted = config["CACHE_TYPE"].strip() or ("redis" if config["CACHE_URL"] else "filesystem")
    by_name = {**CACHE_TYPES, **{full.lower(): full for full in CACHE_TYPES.values()}}
    if wanted.lower() not in by_name:
        raise ConfigError(f"CACHE_TYPE 的值 {wanted!r} 无效，可选值：{'、'.join(CACHE_TYPES.values())}。")
    config["CACHE_TYPE"] = by_name[wanted.lower()]
    if config["CACHE_TYPE"] == "RedisCache":
        if not config["CACHE_URL"].startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("CACHE_TYPE = RedisCache 需要 CACHE_URL（如 redis://127.0.0.1:6379/0）。")
        config["CACHE_REDIS_URL"] = config["CACHE_URL"]
    if config["CACHE_TYPE"] == "FileSystemCache":
        config["CACHE_DIR"] = config["CACHE_DIR"] or os.path.join(app.instance_path, "cache")
    config["CACHE_NO_NULL_WARNING"] = True  # NullCache is a deliberate choice here (no caching at all)
