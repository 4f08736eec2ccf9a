"""Role guards: decorators that let a view through only for the right roles."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from core import logs

from .models import Role


def roles_required(*roles: Role):
    """Allow only logged-in users holding one of ``roles``; others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                logs.event("access_denied", "refused", reason="role")
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required(Role.ADMIN)
