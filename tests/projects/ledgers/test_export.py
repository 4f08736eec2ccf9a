"""Ledger export: the county layout, formatting, formula neutralisation, scoping and the round trip."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select, update

from core.auth.models import Role
from core.db import db
from projects.ledgers import export
from projects.ledgers.excel import export_ledger
from projects.models import Project
from projects.stages import SignType
from tests.factories import make_event, make_project, make_user
from tests.projects.web import new_client

pytestmark = pytest.mark.usefixtures("project_ref")
FIELDS = ("name", "investor_name", "county_code", "park_id", "industry_id", "total_investment", "sign_type", "sign_date",
          "stage", "project_code", "planned_start", "actual_start", "investment_completed", "responsible_unit")


def snapshot() -> list[tuple]:
    return sorted(tuple(getattr(p, f) for f in FIELDS) + (p.signing_event.name if p.signing_event else None,)
                  for p in db.session.scalars(select(Project)))


def test_layout_formats_and_total_row():
    commerce = make_user(Role.COMMERCE)
    make_project(by=commerce, name="甲", total_investment=Decimal("1234.5"), sign_date=dt.date(2025, 3, 1))
    make_project(by=commerce, name="乙", total_investment=Decimal("100"), county_code="350481")
    sheet = openpyxl.load_workbook(io.BytesIO(export_ledger(export.export_rows(), title="台账"))).active
    assert sheet["A1"].value == "台账" and sheet["A2"].value == "序号"
    assert sheet["H2"].value == "签约情况" and sheet["H3"].value == "签约类型" and sheet["K2"].value == "推进情况"
    assert {"H2:J2", "K2:R2", "A2:A3"} <= {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A2"].font.bold and sheet.freeze_panes == "B4"
    assert sheet["G4"].number_format == "#,##0.00" and isinstance(sheet["I4"].value, dt.datetime)
    assert sheet["A6"].value == "合计" and sheet["G6"].value == pytest.approx(1334.5)
    assert sheet.column_dimensions["B"].width >= 20


def test_text_that_looks_like_a_formula_is_written_as_text():
    commerce = make_user(Role.COMMERCE)
    texts = ("=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)")
    for i, text in enumerate(texts):
        make_project(by=commerce, name=f"项目{i}", investor_name=f"投资方{i}", responsible_unit=text)
    rows = export.export_rows()
    # The services trim text, so tab and CR openings cannot come from the database: hand them in directly.
    rows += [dict(rows[0], responsible_unit=text) for text in ("\tcmd", "\rcmd")]
    sheet = openpyxl.load_workbook(io.BytesIO(export_ledger(rows, title="台账"))).active
    cells = [sheet.cell(r, 20) for r in range(4, 10)]
    assert all(c.data_type == "s" for c in cells), [c.data_type for c in cells]
    # XML reads a CR back as LF: still text, never a formula.
    assert {c.value for c in cells} == set(texts) | {"\tcmd", "\ncmd"}


def test_rows_saved_before_the_text_rules_cannot_break_the_file(app):
    # A NUL and a vertical tab are refused at every door now; a row that holds them from before must
    # still export to a file Excel opens (the characters XML cannot carry are dropped).
    commerce = make_user(Role.COMMERCE)
    project = make_project(by=commerce, name="旧项目", investor_name="旧投资方")
    nul = "\x00" if db.engine.dialect.name == "sqlite" else "\x08"  # PostgreSQL cannot store a NUL at all
    db.session.execute(update(Project).where(Project.id == project.id)
                       .values(name=f"旧{nul}项目", investor_name="旧\x0b投资方", responsible_unit="=A1\x1f"))
    db.session.commit()
    response = new_client(app, commerce).get("/ledgers/export")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert (sheet["B4"].value, sheet["C4"].value) == ("旧项目", "旧投资方")
    assert "=A1" in [cell.value for cell in sheet[4]]


def test_round_trip_into_an_empty_database(runner, tmp_path):
    commerce = make_user(Role.COMMERCE)
    event = make_event(by=commerce, name="9·8 投洽会")
    make_project(by=commerce, name="合同项目", sign_type=SignType.CONTRACT, signing_event_id=event.id,
                 total_investment=Decimal("12345.67"), planned_start=dt.date(2026, 5, 1), responsible_unit="=园区")
    make_project(by=commerce, name="协议项目", sign_type=SignType.AGREEMENT, county_code="350405",
                 investment_baseline=Decimal("88.8"))
    before = [row[:-1] for row in snapshot()]
    path = tmp_path / "ledger.xlsx"
    assert runner.invoke(args=["ledger", "export", str(path)]).exit_code == 0
    for project in db.session.scalars(select(Project)):
        db.session.delete(project)
    db.session.commit()
    make_user(Role.ADMIN)
    result = runner.invoke(args=["ledger", "import", str(path)])
    assert result.exit_code == 0, result.output
    after = snapshot()
    assert [row[:-1] for row in after] == before
    assert {row[-1] for row in after} == {"9·8 投洽会", None}


def test_export_is_scoped_for_county_officials(app):
    commerce = make_user(Role.COMMERCE)
    make_project(by=commerce, name="三元项目", county_code="350404")
    make_project(by=commerce, name="永安项目", county_code="350481")
    official = make_user(Role.COUNTY, county="350404")
    names = lambda body: {c.value for c in openpyxl.load_workbook(io.BytesIO(body)).active["B"]}  # noqa: E731
    response = new_client(app, official).get("/ledgers/export?county=350481")
    assert response.status_code == 200
    assert "三元项目" in names(response.data) and "永安项目" not in names(response.data)
    response = new_client(app, make_user(Role.LEADER)).get("/ledgers/export")
    assert {"三元项目", "永安项目"} <= names(response.data)
    response = new_client(app, commerce).get("/ledgers/export?county=永安")
    assert "永安项目" in names(response.data) and "三元项目" not in names(response.data)


def test_cli_export_by_county(runner, tmp_path):
    make_project(name="沙县项目", county_code="350405")
    make_project(name="三元项目", county_code="350404")
    path = tmp_path / "sx.xlsx"
    assert runner.invoke(args=["ledger", "export", str(path), "--county", "350427"]).exit_code == 0
    names = {c.value for c in openpyxl.load_workbook(path).active["B"]}
    assert "沙县项目" in names and "三元项目" not in names
