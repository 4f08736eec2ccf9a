"""The one transaction rule: commit once on success, roll everything back on any error, and turn the one error
base into form errors, flashes and status pages."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import StringField

from core.audit import AuditEntry
from core.db import db
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.forms import Form
from core.transaction import FLASH, transaction


class NameForm(Form):
    class Meta:
        csrf = False

    name = StringField("名称")


def audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def add_row(note: str) -> None:
    db.session.add(AuditEntry(entity="test", entity_id="1", action=note, detail="{}"))
    db.session.flush()


def test_success_commits_once(app):
    with transaction() as tx:
        add_row("saved")
    db.session.remove()  # a new session sees only what was committed
    assert tx.ok and audit_rows() == 1


def test_any_exception_rolls_back_and_propagates(app):
    with pytest.raises(RuntimeError), transaction():
        add_row("lost")
        raise RuntimeError("boom")
    assert audit_rows() == 0


def test_invalid_input_goes_under_its_field_and_nothing_is_saved(app):
    with app.test_request_context("/", method="POST"):
        form = NameForm(formdata=None)
        with transaction(errors_to=form) as tx:
            add_row("lost")
            raise InvalidInput(errors={"name": "名称已存在。", "": "请检查后重试。"})
        assert not tx.ok and isinstance(tx.error, InvalidInput)
        assert form.name.errors == ["名称已存在。"]
        assert get_flashed_messages(with_categories=True) == [("danger", "请检查后重试。")]
    assert audit_rows() == 0


def test_flash_target_flashes_every_message(app):
    with app.test_request_context("/", method="POST"):
        with transaction(errors_to=FLASH) as tx:
            raise InvalidInput("不能为空。")
        assert not tx.ok
        assert get_flashed_messages() == ["不能为空。"]


def test_a_conflict_is_kept_for_the_view_and_rolled_back(app):
    with app.test_request_context("/", method="POST"):
        with transaction(errors_to=FLASH) as tx:
            add_row("lost")
            raise Conflict("已被他人修改。")
        assert isinstance(tx.error, Conflict) and get_flashed_messages() == []
    assert audit_rows() == 0


@pytest.mark.parametrize("error", [NotAllowed("不行。"), NotFound()])
def test_other_user_errors_propagate_even_with_a_target(app, error):
    with app.test_request_context("/", method="POST"), pytest.raises(type(error)):
        with transaction(errors_to=FLASH):
            raise error


def test_a_dry_run_rolls_back_even_a_success(app):
    with transaction(commit=False) as tx:
        add_row("preview")
        assert audit_rows() == 1
    assert tx.ok and audit_rows() == 0


ERRORS = {"invalid": (InvalidInput("月份格式不正确。"), 400), "not_allowed": (NotAllowed("只能查看。"), 403),
          "not_found": (NotFound(), 404), "conflict": (Conflict("已被他人修改。"), 409)}


@pytest.fixture
def failing_app(make_app, database_url):
    """A second app on the test database whose routes raise each kind of user error, none caught by a view."""
    failing = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False})
    for name, (error, _status) in ERRORS.items():
        failing.add_url_rule(f"/fail/{name}", f"fail_{name}", raiser(error))
    return failing


def raiser(error: Exception):
    def view():
        raise error
    return view


@pytest.mark.parametrize("name", list(ERRORS))
def test_an_uncaught_user_error_becomes_its_chinese_page_or_json(failing_app, name):
    error, status = ERRORS[name]
    client = failing_app.test_client()
    page = client.get(f"/fail/{name}")
    assert page.status_code == status and "错误代码" in page.get_data(as_text=True)
    if error.message:
        assert error.message in page.get_data(as_text=True)
    as_json = client.get(f"/fail/{name}", headers={"Accept": "application/json"})
    assert as_json.status_code == status and as_json.json["error"]


@pytest.mark.parametrize("text", ["旧\x00", "甲\x0b乙", "\x85", "名\u202e称", "\ud800"])
def test_no_path_flushes_a_control_character(app, text):
    # The forms, the ledger and the CLI refuse these first; this is the line behind them all.
    with pytest.raises(InvalidInput, match="未保存") as refused:
        with transaction():
            add_row(text)
    assert list(refused.value.errors) == ["action"]
    assert audit_rows() == 0


def test_only_changed_text_is_checked_and_line_ends_pass(app):
    with transaction():
        add_row("第一行\r\n第二行\t末尾")
    entry = db.session.scalars(select(AuditEntry)).one()
    db.session.execute(sa.update(AuditEntry).values(entity="旧\x0b数据"))  # saved before the rules
    db.session.commit()
    with transaction():
        entry = db.session.scalars(select(AuditEntry)).one()
        entry.action = "改过"
    assert db.session.scalars(select(AuditEntry)).one().action == "改过"
