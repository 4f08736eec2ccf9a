"""Auth views room: login, logout and the admin's user list."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from core.db import db, utcnow
from core.extensions import login_manager

from . import services
from .forms import ConfirmForm, LoginForm, UserCreateForm
from .models import User, burn_dummy_hash
from .permissions import admin_required
from .queries import current_counties, user_by_username, users_select

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "用户名或密码错误，或账号已停用。"


def init_app(app):
    app.register_blueprint(bp)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_token != token or not user.is_enabled:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """Only a path on this site; never another host, scheme or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
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
    if form.validate_on_submit():
        user = user_by_username(form.username.data.strip())
        if user is None:
            burn_dummy_hash(form.password.data)
        # Verify the password first, so a disabled account costs the same hash as any other.
        elif user.check_password(form.password.data) and user.is_enabled:
            session.clear()  # a fresh session on login: nothing carried over from before
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            current_app.logger.info("login ok: %s", user.username)
            return redirect(safe_next(form.next.data) or home_url())
        current_app.logger.info("login failed: %r", form.username.data[:64])
        flash(LOGIN_FAILED, "danger")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log the current user out and forget the session."""
    if current_user.is_authenticated:
        # A new session token makes a copy of this cookie useless (and ends the user's other sessions).
        current_user.rotate_session_token()
        db.session.commit()
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
        try:
            user = services.create_user(form.username.data, form.role.data, form.password.data,
                                        county=form.county.data or None,
                                        display_name=form.display_name.data, by=current_user)
        except services.UserError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"已创建用户“{user.username}”。", "success")
            return redirect(url_for("auth.users"))
    return render_template("admin/users.html", form=form, users=db.session.scalars(users_select()),
                           confirm=ConfirmForm()), status


@bp.post("/admin/users/<int:user_id>/disable")
@admin_required
def disable(user_id: int):
    """Disable an account; its open sessions end on their next request."""
    return _toggle(user_id, services.disable_user, "已停用用户“{}”。")


@bp.post("/admin/users/<int:user_id>/enable")
@admin_required
def enable(user_id: int):
    """Re-enable a disabled account."""
    return _toggle(user_id, services.enable_user, "已启用用户“{}”。")


def _toggle(user_id: int, action, message: str):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        flash("表单已过期，请重试。", "warning")
        return redirect(url_for("auth.users"))
    try:
        action(user, by=current_user)
    except services.UserError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash(message.format(user.username), "success")
    return redirect(url_for("auth.users"))


@bp.app_context_processor
def inject_auth():
    return {"logout_form": ConfirmForm() if current_user.is_authenticated else None}

