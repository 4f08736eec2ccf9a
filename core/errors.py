"""The one error base every domain raises, and the Chinese page or JSON error each kind of error becomes."""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug import exceptions as http_errors
from werkzeug.exceptions import HTTPException

from core import logs
from core.db import db


class UserError(Exception):
    """Something the user can fix or must be told, never a bug: ``message`` is Chinese, and ``errors`` maps
    form fields (or "") to messages when the input names the fields at fault."""

    status = 400

    def __init__(self, message: str = "", errors: dict[str, str] | None = None):
        self.errors = dict(errors) if errors else ({"": message} if message else {})
        self.message = message or "；".join(self.errors.values())
        super().__init__(self.message)


class InvalidInput(UserError):
    """The input breaks a rule; nothing was saved."""


class NotAllowed(UserError):
    """The user's role or county may not do this."""

    status = 403


class Conflict(UserError):
    """Someone else changed the record since the user loaded it."""

    status = 409


class NotFound(UserError):
    """The record does not exist, or is another county's (the two look the same)."""

    status = 404


MESSAGES = {
    400: ("请求有误", "提交的内容不完整或已过期，请返回后重试。"),
    403: ("无权访问", "您的账号没有访问此页面的权限。"),
    404: ("页面不存在", "您要找的页面不存在，或您无权查看。"),
    401: ("未认证", "缺少有效的访问令牌。"),
    405: ("不支持的操作", "此页面不支持该操作。"),
    409: ("内容已被他人修改", "您编辑的内容已被他人修改，请刷新后重试。"),
    412: ("版本已过期", "该记录已被他人修改，请以最新内容为准后重试。"),
    413: ("文件过大", "上传的文件超过了允许的大小。"),
    415: ("不支持的内容类型", "请求体须为 JSON（Content-Type: application/json）。"),
    422: ("输入有误", "提交的内容不符合要求，未保存。"),
    428: ("缺少 If-Match", "修改须带 If-Match 请求头（取自上次读取时的 ETag），以免覆盖他人的修改。"),
    429: ("请求过于频繁", "请求过于频繁，请稍后再试。"),
    500: ("服务器内部错误", "系统出现了意外错误，已记录。请稍后重试。"),
    503: ("服务暂不可用", "系统暂时无法提供服务，请稍后重试。"),
}


def init_app(app):
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(UserError, handle_user_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def handle_stale_data(exc: StaleDataError):
    # Two saves raced past the form's version check; the ORM's version guard stopped the second.
    db.session.rollback()
    current_app.logger.info("stale write refused on %s %s", request.method, request.path)
    return render_error(409)


def handle_user_error(exc: UserError):
    # Reached only when no view caught it: the transaction helper has rolled back already.
    db.session.rollback()
    if is_api_call() and isinstance(exc, InvalidInput):
        return problem(422, exc.message, exc.errors)
    return render_error(exc.status, exc.message, exc.errors)


def is_api_call() -> bool:
    return request.path.startswith("/api/")


def problem(code: int, detail: str | None = None, errors: dict[str, str] | None = None, **extra):
    """An API error as RFC 9457 problem details: a Chinese ``detail`` and, when the input is at fault, per field."""
    title, default = MESSAGES.get(code, (f"错误 {code}", "请求未能完成。"))
    body = {"type": "about:blank", "title": title, "status": code, "detail": detail or default}
    if errors:
        body["errors"] = {field: message for field, message in errors.items()}
    body.update(extra)
    response = current_app.json.response(body)
    response.status_code = code
    response.mimetype = "application/problem+json"
    return response


def render_error(code: int, message: str | None = None, errors: dict[str, str] | None = None):
    if is_api_call():
        return problem(code, message, errors)
    title, default = MESSAGES.get(code, (f"错误 {code}", "请求未能完成。"))
    message = message or default
    if request.accept_mimetypes.best == "application/json":
        return {"error": title, "message": message}, code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _input_errors(messages) -> dict[str, str]:
    """webargs' nested messages ({"json": {"name": ["..."]}}) as field → one Chinese line."""
    flat: dict[str, str] = {}

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path if key in ("json", "query", "headers", "form", "files", "_schema") and not path
                     else [*path, str(key)])
        elif isinstance(node, (list, tuple)) and node and all(isinstance(item, str) for item in node):
            flat[".".join(path)] = "；".join(node)
        elif isinstance(node, (list, tuple)):
            for index, item in enumerate(node):
                walk(item, [*path, str(index)])
        else:
            flat[".".join(path)] = str(node)

    walk(messages or {}, [])
    return flat


def names_nothing(exc: http_errors.MethodNotAllowed) -> bool:
    """True when the path matches no rule under any method either, say its id is past the integer range: werkzeug
    weighs the method before the id, so beside another method's rule such a path would read as 405 rather than 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in exc.valid_methods or ():
        try:
            adapter.match(method=method)
        except (http_errors.NotFound, http_errors.MethodNotAllowed):  # no rule of that method takes the path either
            continue
        except HTTPException:  # a redirect (a missing slash): the path names something
            return False
        return False
    return True


def handle_http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    if isinstance(exc, http_errors.MethodNotAllowed) and names_nothing(exc):
        exc = http_errors.NotFound()
    if is_api_call():
        data = getattr(exc, "data", None) or {}
        errors = _input_errors(data.get("messages")) if "messages" in data else None
        # The API's own exceptions (core.api.base) carry a Chinese description; werkzeug's are English.
        own = type(exc).__module__.startswith("core.")
        body = problem(exc.code, exc.description if own else None, errors, **getattr(exc, "problem_extra", {}))
        code = exc.code
    else:
        body, code = render_error(exc.code)
    # Keep what the exception says besides its body: Allow on a 405, Retry-After, WWW-Authenticate.
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    return body, code, headers


def handle_csrf_error(exc: CSRFError):
    # The token is checked before any view or query, so loading the user here (to say who) is safe.
    logs.event("csrf_failed", "refused", user=current_user if current_user.is_authenticated else None,
               reason=exc.description)
    return handle_http_error(exc)


def handle_unexpected_error(exc: Exception):
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(500)
