"""The data version: bumped once by every transaction that writes the app's data, whatever path the write takes; never
by a read, a rolled-back write, login bookkeeping or a migration."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, text, update

from core import clock, data_version
from core.auth.models import LoginAttempt, Role
from core.data_version import DataVersion
from core.db import db
from projects.models import Milestone, Project
from tests.factories import make_project, make_user


def version() -> tuple[int, str] | None:
    db.session.rollback()  # what is committed now
    row = db.session.execute(select(DataVersion.version, DataVersion.stamp)).first()
    return None if row is None else tuple(row)


@pytest.fixture
def project(project_ref):
    return make_project()


def test_an_orm_write_bumps_once_per_transaction_with_a_new_stamp(project):
    before = version()
    project = db.session.get(Project, project.id)
    project.liaison = "张三"
    db.session.flush()
    project.responsible_unit = "三元区商务局"
    db.session.flush()  # a second flush in the same transaction
    db.session.commit()
    after = version()
    assert after[0] == before[0] + 1 and after[1] != before[1]
    assert data_version.current() == f"{after[0]}.{after[1]}"


@pytest.mark.parametrize("how", ["core insert", "core update", "text", "driver string"])
def test_writes_that_bypass_the_orm_bump_too(project, how):
    """A ledger import inserts with Core, a revert deletes, the demo data updates in bulk: all bump."""
    before = version()
    if how == "core insert":
        db.session.execute(insert(Milestone).values(project_id=project.id, name="土地摘牌",
                                                    planned_date=dt.date(2030, 1, 1), note=""))
    elif how == "core update":
        db.session.execute(update(Project).where(Project.id == project.id).values(liaison="李四"))
    elif how == "text":
        db.session.execute(text("UPDATE project SET liaison = 'x' WHERE id = :id"), {"id": project.id})
    else:
        db.session.connection().exec_driver_sql("DELETE FROM milestone")
    db.session.commit()
    assert version()[0] == before[0] + 1


def test_a_rolled_back_write_leaves_the_version(project):
    before = version()
    db.session.execute(update(Project).values(liaison="回滚"))
    db.session.rollback()
    assert version() == before


def test_login_bookkeeping_accounts_and_reads_never_bump(app, project):
    before = version()
    db.session.execute(insert(LoginAttempt).values(username="x", address="127.0.0.1", attempted_at=clock.now(),
                                                   succeeded=False))
    make_user(Role.LEADER)  # an account, and its audit entry
    db.session.scalars(select(Project)).all()
    db.session.commit()
    assert version() == before


def test_a_savepoint_rolled_back_after_the_bump_bumps_again(project):
    before = version()
    savepoint = db.session.begin_nested()
    db.session.execute(update(Project).values(liaison="撤销"))
    savepoint.rollback()
    db.session.execute(update(Project).values(responsible_unit="保留"))
    db.session.commit()
    assert version()[0] == before[0] + 1


def test_a_missing_row_comes_back_with_the_next_write_and_means_no_caching_until_then(app, project):
    db.session.execute(text("DELETE FROM data_version"))
    db.session.commit()
    assert version() is None and data_version.current() is None
    db.session.execute(update(Project).values(planned_start=dt.date(2030, 1, 1)))
    db.session.commit()
    assert version()[0] == 1
