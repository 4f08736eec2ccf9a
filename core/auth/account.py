"""The user's own page (who they are, their API tokens: made, shown once, revoked) and the administrators' token page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core import clock
from core.transaction import FLASH, transaction

from . import tokens
from .forms import TokenCreateForm, TokenRevokeForm
from .models import User
from .permissions import admin_required
from .queries import user_or_404

bp = Blueprint("account", __name__)


def init_app(app):
    app.register_blueprint(bp)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def index():
    """Show the user's account and API tokens; make a token, its secret shown on this response only."""
    return _token_page(current_user, "account/index.html", url_for("account.revoke"))


@bp.post("/account/tokens/revoke")
@login_required
def revoke():
    """Revoke one of the user's own tokens (anyone else's is 404, whoever asks)."""
    return _revoke(current_user, url_for("account.index"))


@bp.route("/admin/users/<int:user_id>/tokens", methods=["GET", "POST"])
@admin_required
def user_tokens(user_id: int):
    """List an account's API tokens and make one for it (a service account's, say)."""
    owner = user_or_404(user_id)
    return _token_page(owner, "admin/user_tokens.html", url_for("account.revoke_user_token", user_id=owner.id))


@bp.post("/admin/users/<int:user_id>/tokens/revoke")
@admin_required
def revoke_user_token(user_id: int):
    """Revoke one of an account's tokens."""
    owner = user_or_404(user_id)
    return _revoke(owner, url_for("account.user_tokens", user_id=owner.id))


def _token_page(owner: User, template: str, revoke_url: str):
    form = TokenCreateForm(days=current_app.config["API_TOKEN_DAYS"])
    made, secret, status = None, None, 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            with transaction(errors_to=form) as tx:
                made, secret = tokens.create_token(owner, form.name.data, read_only=form.read_only.data,
                                                   days=form.days.data, by=current_user)
            if tx.ok:
                status = 200
                # An empty form again: the page now shows the secret, and a second submit would make a second token.
                form = TokenCreateForm(formdata=None, days=current_app.config["API_TOKEN_DAYS"])
    # The secret goes into this response only (pages are sent no-store), never into a flash in the session cookie.
    return render_template(template, owner=owner, tokens=tokens.tokens_of(owner), form=form, made=made,
                           secret=secret, revoke_url=revoke_url, revoke_form=TokenRevokeForm(formdata=None),
                           max_days=current_app.config["API_TOKEN_MAX_DAYS"], now=clock.now()), status


def _revoke(owner: User, back: str):
    form = TokenRevokeForm()
    if not form.validate_on_submit():
        flash("表单已过期，请重试。", "warning")
        return redirect(back)
    token = tokens.token_or_none(form.token_id.data)
    if token is None or token.user_id != owner.id:
        abort(404)
    with transaction(errors_to=FLASH) as tx:
        revoked = tokens.revoke_token(token, by=current_user)
    if tx.ok:
        flash(f"已撤销令牌“{token.name}”。" if revoked else f"令牌“{token.name}”此前已撤销。",
              "success" if revoked else "info")
    return redirect(back)
