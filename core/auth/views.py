"""Logging in and out, and the administrators' user list."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from core import clock, logs
from core.extensions import login_manager
from core.inputs import has_control_characters
from core.transaction import FLASH, transaction

from . import services, sessions, throttle
from .forms import ConfirmForm, LoginForm, UserCreateForm
from .models import SessionEnd, burn_dummy_hash
from .permissions import admin_required
from .queries import current_counties, user_by_username, user_or_404, users_in_order

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "用户名或密码错误，或账号已停用。"
LOGIN_THROTTLED = "登录失败次数过多，请 {minutes} 分钟后再试。"


def init_app(app):
    app.register_blueprint(bp)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(sessions.load_user)
    app.before_request(sessions.enforce)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site without control characters; never another host, scheme or protocol-relative URL.

    A CR or LF would otherwise reach the Location header (a 500 from Werkzeug, or a split header elsewhere)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if has_control_characters(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_url() -> str:
    return url_for(current_app.config["HOME_ENDPOINT"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a user in with name and password."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    username, address = form.username.data.strip(), request.remote_addr or ""
    refusal = throttle.refusal(username, address)
    if refusal is not None:  # refused before any password is hashed
        logs.event("login_throttled", "refused", username=username, limit=refusal)
        minutes = current_app.config["LOGIN_THROTTLE_MINUTES"]
        flash(LOGIN_THROTTLED.format(minutes=minutes), "danger")
        return render_template("auth/login.html", form=form), 429, {"Retry-After": str(minutes * 60)}
    user = user_by_username(username)
    if user is None:
        burn_dummy_hash(form.password.data)
        reason = "unknown_user"
    # Verify the password first, so a disabled account costs the same hash as any other.
    elif not user.check_password(form.password.data):
        reason = "wrong_password"
    else:
        reason = None if user.is_enabled else "disabled"
    with transaction():
        throttle.record(username, address, succeeded=reason is None)
        if reason is None:
            session.clear()  # a fresh session on login: nothing carried over from before
            sessions.start(user)
            sessions.prune()
            login_user(user)
            user.last_login_at = clock.now()
    if reason is not None:
        logs.event("login_failed", "failed", username=username, reason=reason)
        flash(LOGIN_FAILED, "danger")
        return render_template("auth/login.html", form=form)
    logs.event("login_ok", user=user)
    return redirect(safe_next(form.next.data) or home_url())


@bp.post("/logout")
def logout():
    """Log the current user out, ending this session at the server (their other sessions go on)."""
    if current_user.is_authenticated:
        with transaction():
            sessions.end_current(SessionEnd.LOGOUT)
        logs.event("logout")
    logout_user()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users():
    """List accounts and create a new one."""
    form = UserCreateForm()
    form.set_counties(current_counties())
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        with transaction(errors_to=FLASH) as tx:
            user = services.create_user(form.username.data, form.role.data, form.password.data,
                                        county=form.county.data or None,
                                        display_name=form.display_name.data, by=current_user)
        if tx.ok:
            flash(f"已创建用户“{user.username}”。", "success")
            return redirect(url_for("auth.users"))
    return render_template("admin/users.html", form=form, users=users_in_order(),
                           confirm=ConfirmForm()), status


@bp.post("/admin/users/<int:user_id>/disable")
@admin_required
def disable(user_id: int):
    """Disable an account and end its open sessions."""
    return _toggle(user_id, services.disable_user, "已停用用户“{}”。")


@bp.post("/admin/users/<int:user_id>/enable")
@admin_required
def enable(user_id: int):
    """Re-enable a disabled account."""
    return _toggle(user_id, services.enable_user, "已启用用户“{}”。")


def _toggle(user_id: int, action, message: str):
    user = user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        flash("表单已过期，请重试。", "warning")
        return redirect(url_for("auth.users"))
    with transaction(errors_to=FLASH) as tx:
        action(user, by=current_user)
    if tx.ok:
        flash(message.format(user.username), "success")
    return redirect(url_for("auth.users"))


@bp.app_context_processor
def inject_auth():
    # formdata=None: on an error page (413) reading the request body would raise again.
    return {"logout_form": ConfirmForm(formdata=None) if current_user.is_authenticated else None}

