"""The one place a request or a command commits: on success once, on any exception a rollback; nothing unclean flushed."""
from __future__ import annotations

import contextlib

import sqlalchemy as sa
from flask import flash
from sqlalchemy import String, event
from sqlalchemy.orm import Session

from core.db import db
from core.errors import Conflict, InvalidInput, UserError
from core.inputs import stored_text_problem

FLASH = "flash"


class transaction(contextlib.AbstractContextManager):  # noqa: N801  (used as `with transaction(...)`)
    """Commit the block's work once, or roll all of it back.

    ``errors_to`` says where an :class:`InvalidInput` goes, so the view can show its page again: a form
    (each message under its field, the rest flashed) or ``FLASH`` (every message flashed). With it, an
    InvalidInput or a :class:`Conflict` is kept in ``.error`` and not raised (a conflict page shows what
    changed: the view knows what to compare); ``.ok`` tells the view whether the work succeeded. Every
    other exception, and any UserError without ``errors_to``, is raised after the rollback: the app's
    handlers turn a :class:`UserError` into its page (400, 403, 404, 409) or JSON error. ``commit=False``
    rolls back even a success: a dry run that shows what would happen.
    """

    def __init__(self, errors_to=None, *, commit: bool = True):
        self.errors_to, self.commit = errors_to, commit
        self.error: UserError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __enter__(self) -> transaction:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None and self.commit:
            db.session.commit()
            return False
        db.session.rollback()
        if exc is None:
            return False
        if isinstance(exc, UserError):
            self.error = exc
        if self.errors_to is None or not isinstance(exc, (InvalidInput, Conflict)):
            return False
        if isinstance(exc, InvalidInput):
            show_errors(self.errors_to, exc.errors)
        return True


def show_errors(target, errors: dict[str, str]) -> None:
    """Put messages under their form fields; those without a field (or with ``FLASH``) become flashes."""
    fields = {} if target == FLASH else target._fields
    for field, message in errors.items():
        if field in fields:
            fields[field].errors = list(fields[field].errors) + [message]
        else:
            flash(message, "danger")


@event.listens_for(Session, "before_flush")
def _refuse_unclean_text(session, flush_context, instances) -> None:
    """The last line behind the input rules: whatever path a change took (a form, the ledger, the CLI, a
    future API), no text column is written with a control character. Only changed values are checked, so
    a row saved before the rules can still have its other fields edited."""
    for row in (*session.new, *session.dirty):
        state = sa.inspect(row)
        for attribute in state.mapper.column_attrs:
            if not isinstance(attribute.columns[0].type, String):
                continue
            added = state.attrs[attribute.key].history.added
            problem = stored_text_problem(added[0]) if added and isinstance(added[0], str) else None
            if problem:
                raise InvalidInput(problem, errors={attribute.key: problem})
