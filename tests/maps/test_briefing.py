"""Monthly briefing workbook: sheets, hand-computed cells, formatting, formula-safe text and county scoping."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from core.auth.models import Role
from core.db import db
from maps.briefing.excel import SHEETS
from projects.models import Project
from projects.reports import services as report_services
from projects.reports.models import Blocker
from projects.stages import SignType
from tests.factories import make_project, make_user
from tests.maps.dashboard_fixture import NAMES, OWN, build, freeze, prepare_frozen
from tests.maps.helpers import client_as
from tests.projects.web import new_client, path_of

HOSTILE = "=cmd|' /C calc'!A0"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build_with_hostile_text() -> dict[str, int]:
    """The dashboard's projects, plus a project and blockers whose text a spreadsheet would take for formulas."""
    ids = build()["ids"]
    by = make_user(Role.COMMERCE)
    make_project(by, name=HOSTILE, investor_name="@SUM(1+1)有限公司", county_code=OWN, sign_type=SignType.CONTRACT,
                 sign_date=dt.date(2026, 2, 10), total_investment=Decimal("1234.5"))
    for key, text in (("p2", "+用地指标未落实"), ("p4", "永安环评待批")):
        project = db.session.get(Project, ids[key])
        report_services.add_blocker(project, category="land", description=text, department="自然资源局",
                                    due_date=dt.date(2026, 6, 1), escalated=False, version=project.version, by=by)
    db.session.commit()
    return ids


@pytest.fixture(scope="module")
def prepared_world(app, reference):
    return prepare_frozen(app, reference, build_with_hostile_text)


@pytest.fixture
def world(prepared_world, monkeypatch):
    freeze(monkeypatch)
    ids, rows = prepared_world
    rows.insert()
    return ids


def workbook(client, month: str):
    response = client.get(f"/reports/briefing?month={month}")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    assert f"briefing-{month}.xlsx" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def rows(sheet) -> list[dict]:
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row)) for row in values[1:]]


def all_text(book) -> str:
    return "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row
                     if cell.value is not None)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/reports/briefing")
    assert response.status_code == 302 and path_of(response) == "/login"


def test_sheets_and_hand_computed_cells(app, world):
    book = workbook(new_client(app, make_user(Role.COMMERCE)), "2026-02")
    assert book.sheetnames == list(SHEETS)
    summary = {row["县（市、区）"]: row for row in rows(book["县区×阶段汇总"])}
    # 永安市: p3 and p4 still 签约, p5 投产; 70,000 万元. 三元区: p2, p6 and the hostile one 签约, p1 开工.
    assert (summary["永安市"]["签约"], summary["永安市"]["投产"], summary["永安市"]["项目数"]) == (2, 1, 3)
    assert summary["永安市"]["总投资（万元）"] == 70000
    assert (summary["三元区"]["签约"], summary["三元区"]["开工"], summary["三元区"]["项目数"]) == (3, 1, 4)
    assert summary["三元区"]["总投资（万元）"] == pytest.approx(131233.5)
    assert summary["合计"]["项目数"] == 7 and summary["合计"]["总投资（万元）"] == pytest.approx(201233.5)
    signed = rows(book["本月签约"])
    assert sorted(row["项目名称"] for row in signed) == sorted([NAMES["p2"], NAMES["p3"], HOSTILE])
    assert [row["项目名称"] for row in rows(book["本月开工"])] == [NAMES["p5"]]
    assert rows(book["红灯项目"]) == []  # at the end of February p2's planned start (2026-04-01) was not yet due
    blockers = {row["项目名称"]: row for row in rows(book["未解决问题"])}
    assert set(blockers) == {NAMES["p2"], NAMES["p4"]} and blockers[NAMES["p2"]]["问题类别"] == "用地"
    industries = {row["产业"]: row for row in rows(book["按产业"])}
    assert industries["石墨和石墨烯"]["项目数"] == 2 and industries["石墨和石墨烯"]["已投产"] == 1
    completeness = rows(book["填报完成情况"])
    assert {row["县（市、区）"] for row in completeness} >= {"三元区", "永安市"} and len(completeness) == 11
    may = workbook(new_client(app, make_user(Role.LEADER)), "2026-05")
    assert [row["项目名称"] for row in rows(may["红灯项目"])] == [NAMES["p2"]]


def test_formatting(app, world):
    book = workbook(new_client(app, make_user(Role.COMMERCE)), "2026-02")
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1] if cell.value), sheet.title
    signed = book["本月签约"]
    header = [cell.value for cell in signed[1]]
    date_cell = signed.cell(row=2, column=header.index("签约日期") + 1)
    money_cell = signed.cell(row=2, column=header.index("总投资（万元）") + 1)
    assert date_cell.is_date and date_cell.value.date() >= dt.date(2026, 2, 1)
    assert "万元" in money_cell.number_format and "0.00" in money_cell.number_format
    assert isinstance(money_cell.value, (int, float))
    assert signed.column_dimensions["A"].width >= 16
    assert book["填报完成情况"]["E2"].number_format == "0.0%" or book["填报完成情况"]["E2"].value is None


def test_hostile_text_is_stored_as_text_never_a_formula(app, world):
    book = workbook(new_client(app, make_user(Role.COMMERCE)), "2026-02")
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    hostile = [cell for cell in cells if cell.value == HOSTILE]
    assert hostile, "the hostile name is missing"
    assert all(cell.data_type == "s" for cell in hostile)
    assert all(cell.data_type != "f" for cell in cells), "a cell became a formula"
    investor = [cell for cell in cells if cell.value == "@SUM(1+1)有限公司"]
    blocker = [cell for cell in cells if cell.value == "+用地指标未落实"]
    assert investor and blocker and all(cell.data_type == "s" for cell in investor + blocker)


def test_control_characters_saved_before_the_text_rules_cannot_break_it(app, world):
    # One county official's vertical tab in a blocker once made the briefing a 500 for every role. (No NUL here:
    # PostgreSQL cannot store one at all; SQLite can, and the ledger export test covers it there.)
    project = db.session.get(Project, world["p2"])
    client, by = client_as(app, Role.COMMERCE)
    blocker = report_services.add_blocker(project, category="land", description="旧问题描述", department="国土",
                                          due_date=dt.date(2026, 6, 1), escalated=False, version=project.version, by=by)
    # Written as rows saved before the text rules hold them: no door takes these characters any more.
    db.session.execute(update(Blocker).where(Blocker.id == blocker.id)
                       .values(description="旧问题\x0b描述\x08", department="国土\x1f"))
    db.session.commit()
    book = workbook(client, "2026-02")
    texts = [cell for row in book[SHEETS[5]].iter_rows(values_only=True) for cell in row if isinstance(cell, str)]
    assert "旧问题描述" in texts and "国土" in texts


def test_county_official_gets_their_county_and_the_completeness_ranking(app, world):
    client, _user = client_as(app, Role.COUNTY, county=OWN)
    book = workbook(client, "2026-02")
    text = all_text(book)
    for key in ("p3", "p4", "p5"):
        assert NAMES[key] not in text, f"{NAMES[key]} leaked into a county official's briefing"
    assert "永安环评待批" not in text
    assert [row["县（市、区）"] for row in rows(book["县区×阶段汇总"])] == ["三元区"]
    assert [row["项目名称"] for row in rows(book["本月签约"])] == sorted([NAMES["p2"], HOSTILE], key=[NAMES["p2"], HOSTILE].index)
    assert "永安市" in {row["县（市、区）"] for row in rows(book["填报完成情况"])}
    assert "三明市" not in book.properties.title and "三元区" in book.properties.title


@pytest.mark.parametrize("month", ["2026-13", "202602", "2999-01", "1999-12"])
def test_a_bad_or_future_month_is_refused(app, world, month):
    client = new_client(app, make_user(Role.COMMERCE))
    assert client.get(f"/reports/briefing?month={month}").status_code == 400


def test_default_month_is_this_month(app, world):
    response = new_client(app, make_user(Role.COMMERCE)).get("/reports/briefing")
    assert response.status_code == 200 and "briefing-2026-05.xlsx" in response.headers["Content-Disposition"]


def test_pandas_is_imported_only_in_excel_modules():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    offenders = [str(path.relative_to(root)) for package in ("core", "parks", "projects", "maps")
                 for path in (root / package).rglob("*.py")
                 if path.name != "excel.py" and "import pandas" in path.read_text(encoding="utf-8")]
    assert offenders == []
