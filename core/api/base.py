"""The API's frame: the OpenAPI document, its blueprints, signing in by token, and the helpers every resource shares."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app, g, request
from flask_login import current_user
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from core.auth import tokens
from core.extensions import csrf

from . import fields

PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PROBLEM = "application/problem+json"
BEARER = {"bearerAuth": []}
SESSION = {"sessionCookie": []}
DESCRIPTION = """三明市招商引资项目与产业园区管理平台的数据接口。

**认证**：在“我的账号”页面创建个人访问令牌（管理员可为服务账号创建，或用命令 `flask tokens create`），
每次请求带上 `Authorization: Bearer <令牌>`。接口不接受登录会话 Cookie（地图页面取数用的三个 GeoJSON 接口和
产业链图谱接口除外，它们只读），因此没有 CSRF 问题。只读令牌只能调用 GET。

**规则与页面相同**：同样的阶段关口、审计记录（操作人为令牌所属用户）和县区范围（其他县区的编号一律 404），
领导只读。

**并发**：单个资源的响应带 `ETag`（即版本号）。修改须带 `If-Match`：缺少时 428，版本过期时 412，
412 的响应体中 `current` 为最新内容。

**错误**：一律为 `application/problem+json`（RFC 9457），`detail` 为中文说明，`errors` 按字段列出问题。

**限流**：每个令牌每分钟的请求数有上限（默认 600），超出时 429，并带 `Retry-After`。
"""


class ProblemSchema(ma.Schema):
    """An error (RFC 9457 problem details), as every API error is written."""

    type = ma.fields.String(metadata={"description": "问题类型（about:blank）"})
    title = ma.fields.String(metadata={"description": "简短标题"})
    status = ma.fields.Integer(metadata={"description": "HTTP 状态码"})
    detail = ma.fields.String(metadata={"description": "中文说明"})
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                            metadata={"description": "按字段列出的问题（字段名 → 说明）；空字段名为整体问题"})
    current = ma.fields.Dict(metadata={"description": "412 时：资源的最新内容"})


class Api(SmorestApi):
    """flask-smorest's Api, with errors documented as problem+json and handled by core.errors (one handler)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"

    def _register_error_handlers(self):
        pass  # core.errors answers every error, the API's as problem+json

    def _register_responses(self):
        super()._register_responses()
        for name, response in self.spec.components.responses_lazy.items():
            content = response.get("content", {})
            if "application/json" in content and "schema" in content["application/json"]:
                response["content"] = {PROBLEM: content.pop("application/json")}
            self.spec.components.responses_lazy[name] = response


api = Api()
api.register_field(fields.Money, "number", None)  # documented as a JSON number (null too where allowed)
TOKEN_BLUEPRINTS: set[str] = set()


def blueprint(name: str, import_name: str, tag: str, description: str) -> Blueprint:
    """A resource's blueprint under /api/v1 (endpoints ``api_<name>.*``): token only, so no CSRF.

    ``tag`` names its group in the document, in Chinese; its views' docstrings are the operations' summaries and
    descriptions there, so they are written in Chinese too (what the city's IT staff read)."""
    blp = Blueprint(f"api_{name}", import_name, url_prefix=PREFIX, description=description)
    blp.tag = tag
    TOKEN_BLUEPRINTS.add(blp.name)
    csrf.exempt(blp)
    return blp


def register(blp: Blueprint) -> None:
    """Add the blueprint to the app and its operations to the document, grouped under its Chinese tag."""
    api.register_blueprint(blp)
    # flask-smorest tags each operation with the blueprint's name (an identifier): show the Chinese tag instead.
    for operations in api.spec._paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("tags") == [blp.name]:
                operation["tags"] = [blp.tag]
    for tag in api.spec._tags:
        if tag["name"] == blp.name:
            tag["name"] = blp.tag


def document(app, endpoint: str, tag: str, description: str, operations: dict) -> None:
    """Add to the document an endpoint the pages fetch with their login session (the map's GeoJSON, the chain map's
    JSON): it is no resource blueprint's, so it takes a token or that session (see sign_in). Its path is its route's;
    ``operations`` are OpenAPI operations by method, marshmallow schemas in them resolved as in the blueprints'."""
    for operation in operations.values():
        operation.setdefault("tags", [tag])
        operation.setdefault("security", [BEARER, SESSION])
        operation.setdefault("responses", {}).setdefault("default", {"$ref": "#/components/responses/DEFAULT_ERROR"})
    api.spec.path(rule=next(app.url_map.iter_rules(endpoint)), operations=operations)
    if all(known["name"] != tag for known in api.spec._tags):
        api.spec.tag({"name": tag, "description": description})


def init_app(app) -> None:
    app.config.setdefault("API_TITLE", "三明市招商引资项目与产业园区管理平台 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": DESCRIPTION},
        "servers": [{"url": "/", "description": "本服务器"}],
        "security": [BEARER],
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "个人访问令牌（sm_ 开头）"},
            # Only the endpoints added by document() take it: the map and chain pages fetch them signed in.
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": app.config["SESSION_COOKIE_NAME"],
                              "description": "登录会话（仅地图、产业链页面取数用的只读接口接受）"}}},
    })
    api.init_app(app)
    # Money and areas are fields of our own (decimals read from JSON numbers): the document must still say "number".
    api.register_field(fields.Quantity, "number", None)
    app.before_request(sign_in)


class Unauthorized(HTTPException):
    code = 401
    description = "缺少有效的访问令牌：请在请求头中带上 Authorization: Bearer <令牌>。"

    def get_headers(self, environ=None, scope=None):
        return [("WWW-Authenticate", 'Bearer realm="api"')]


class TooManyRequests(HTTPException):
    code = 429
    description = "请求过于频繁，请稍后再试。"

    def __init__(self, wait: int):
        super().__init__()
        self.wait = wait

    def get_headers(self, environ=None, scope=None):
        return [("Retry-After", str(self.wait))]


class ReadOnlyToken(HTTPException):
    code = 403
    description = "只读令牌不能修改数据。"


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def sign_in():
    """Before any view (and before the login session is looked at): an API call signs in by its token.

    A resource blueprint takes a token only. The GeoJSON and chain endpoints the map page fetches take a token or
    the page's login session; either way a call without one gets 401, not the login page.
    """
    if not request.path.startswith(PREFIX + "/") or request.endpoint in (None, "static") \
            or request.endpoint.startswith("api-docs.") or request.endpoint.startswith("api_docs."):
        return None
    secret = bearer_secret()
    token_only = request.blueprint in TOKEN_BLUEPRINTS
    if secret is None:
        if token_only or not current_user.is_authenticated:
            raise Unauthorized()
        return None
    caller, wait = tokens.authenticate(secret)
    if caller is None:
        raise Unauthorized("访问令牌无效、已过期或已撤销，或其账号已停用。")
    g._login_user = caller.user  # Flask-Login's current_user for this request: the token's owner
    g.api_caller = caller
    if wait:
        raise TooManyRequests(wait)
    if caller.read_only and request.method not in SAFE_METHODS:
        raise ReadOnlyToken()
    current_app.logger.debug("api call by token %s", caller.token_id)
    return None
