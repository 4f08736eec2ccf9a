"""The formats counties send: the same ledger as .xlsx, .xls, GBK/UTF-8 .csv and a workbook of several sheets gives
the same projects; problems name the sheet; skipped sheets are listed; the web and the CLI take every format."""
from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.db import db
from core.spreadsheets import ExcelUnreadable
from core.transaction import transaction
from projects.ledgers import importer
from projects.ledgers.models import ImportBatch
from projects.models import Project
from projects.stages import SignType, Stage
from tests.factories import make_user
from tests.projects.ledgers.files import ONE_ROW, csv_bytes, layout, row, xls_bytes, xlsx_bytes
from tests.projects.web import new_client, page_text

pytestmark = pytest.mark.usefixtures("project_ref")

HEADER = ONE_ROW + ["项目代码", "施工许可办结时间"]
GROUPS = [("签约情况", 7, 9), ("推进情况", 10, 13)]
BLANK = [None] * len(HEADER)


def ledger_rows() -> list[list]:
    """A ledger as counties write one: numbers and text money, date cells and text dates, old county names,
    a stage that needs a permit, a blank row and a 合计 row."""
    return [
        row(name="甲项目", total=5000, sign_date=dt.date(2025, 6, 18), industry="氟化工", completed=300,
            unit="三元区工信局", blocker="用地指标未落实", event="6·18 海峡项目成果交易会") + ["", ""],
        row(name="乙项目", county="梅列区", total="0.5亿元", sign_type="合同项目", sign_date="2025年4月2日",
            industry="石墨烯") + ["", ""],
        row(name="丙项目", county="沙县", park="金沙园生物医药产业园", industry="医药", sign_type="框架协议",
            sign_date="2025.7", stage="已签约", total="1,200万元") + ["", ""],
        BLANK,
        row(name="丁项目", county="永安", industry="石墨和石墨烯", sign_type="", sign_date="", stage="洽谈",
            planned_start=dt.date(2026, 3, 1)) + ["", ""],
        row(name="戊项目", county="350427", industry="生物医药", stage="在建", actual_start=dt.date(2025, 9, 1),
            total=8000.5) + ["2025-350405-26-03-00012A", dt.date(2025, 8, 1)],
        ["合计", None, None, None, None, None, 19500.5] + [None] * 12,
    ]


def one_sheet():
    return layout(ledger_rows(), header=HEADER)


def two_sheets(hidden_trap: bool = True):
    """The rows split over 一月 (one-row header) and 二月 (two-row header), with a notes sheet, a blank sheet and
    a hidden lists sheet whose header is recognisable (县区, 产业) but which must not be imported."""
    rows = ledger_rows()
    sheets = [layout(rows[:3], header=HEADER, name="一月"),
              layout([], titles=("填报说明：金额单位为万元。", "日期写成 2026-06-18。"), header=["说明"], name="说明"),
              layout(rows[3:], header=HEADER, groups=GROUPS, name="二月"),
              layout([], titles=(), header=[], name="Sheet3")]
    if hidden_trap:
        sheets.append(layout([["三元区", "氟化工"]], titles=(), header=["县区", "产业"], name="数据源", hidden=True))
    return sheets


FILES = {
    "xls": lambda: xls_bytes(one_sheet()),
    "csv-gbk": lambda: csv_bytes(one_sheet(), "gbk"),
    "csv-utf8-bom": lambda: csv_bytes(one_sheet(), "utf-8-sig"),
    "csv-utf8": lambda: csv_bytes(one_sheet(), "utf-8"),
    "xlsx-two-sheets": lambda: xlsx_bytes(*two_sheets()),
    "xls-two-sheets": lambda: xls_bytes(*two_sheets()),
}


def projects() -> list[tuple]:
    """Every project as the fields the ledger sets (ids and times left out)."""
    return [(p.name, p.investor_name, p.county_code, p.park.name if p.park else None, p.industry.name,
             p.total_investment, p.sign_type, p.sign_date, p.signing_event.name if p.signing_event else None,
             p.stage, p.project_code, p.planned_start, p.actual_start, p.construction_permit_done,
             p.investment_completed, p.responsible_unit, sorted(b.description for b in p.blockers))
            for p in db.session.scalars(select(Project).order_by(Project.name))]


def imported(data: bytes, user) -> tuple[list[tuple], importer.Outcome]:
    """Import into the empty database, read the projects back, then roll everything back."""
    with transaction(commit=False):
        outcome = importer.import_ledger(data, by=user, filename="台账")
        found = projects()
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0
    return found, outcome


@pytest.fixture
def commerce(project_ref):
    return make_user(Role.COMMERCE)


@pytest.fixture
def expected(commerce):
    """The projects the .xlsx gives: the reference every other format must match."""
    found, outcome = imported(xlsx_bytes(one_sheet()), commerce)
    assert outcome.count("create") == 5 and outcome.report.skipped_rows == [7, 10]
    by_name = {p[0]: p for p in found}
    assert by_name["甲项目"][5] == Decimal("5000.00") and by_name["甲项目"][7] == dt.date(2025, 6, 18)
    assert by_name["甲项目"][8] == "6·18 海峡项目成果交易会" and by_name["甲项目"][16] == ["用地指标未落实"]
    assert by_name["甲项目"][14] == Decimal("300.00") and by_name["乙项目"][5] == Decimal("5000.00")
    assert by_name["乙项目"][2] == "350404" and by_name["丙项目"][6] is SignType.AGREEMENT
    assert by_name["丙项目"][7] == dt.date(2025, 7, 1) and by_name["丙项目"][3] == "金沙园生物医药产业园"
    assert by_name["丁项目"][9] is Stage.NEGOTIATING and by_name["丁项目"][11] == dt.date(2026, 3, 1)
    assert by_name["戊项目"][9] is Stage.STARTED and by_name["戊项目"][13] is True
    assert by_name["戊项目"][5] == Decimal("8000.50") and by_name["戊项目"][12] == dt.date(2025, 9, 1)
    return found


@pytest.mark.parametrize("kind", FILES)
def test_every_format_gives_the_same_projects_as_the_xlsx(commerce, expected, kind):
    found, outcome = imported(FILES[kind](), commerce)
    assert outcome.ok, outcome.report.lines()
    assert found == expected
    assert outcome.count("create") == 5


def test_a_workbook_of_several_sheets_lists_the_sheets_it_skipped(commerce):
    _, outcome = imported(xlsx_bytes(*two_sheets()), commerce)
    assert outcome.report.sheets == ["一月", "二月"]
    assert outcome.report.notices == ["工作表【说明】的前 30 行中没有可识别的表头，已跳过。",
                                      "工作表【Sheet3】是空白表，已跳过。",
                                      "工作表【数据源】已隐藏，已跳过。如需导入，请先取消隐藏。"]
    assert [(r.sheet, r.row) for r in outcome.results] == [("一月", 4), ("一月", 5), ("一月", 6), ("二月", 6),
                                                            ("二月", 7)]


@pytest.mark.parametrize("write", [xlsx_bytes, xls_bytes], ids=["xlsx", "xls"])
def test_problems_name_the_sheet_and_nothing_is_written(commerce, write):
    first = layout([row(name="好项目"), row(name="坏项目", total="很多"), row(name="重复项目")], name="一月")
    second = layout([row(name="别县项目", county="福州"), row(name="重复项目")], groups=GROUPS, name="二月")
    missing = layout([["甲", "三元区"]], header=["项目名称", "所属县（市、区）"], titles=(), name="三月")
    outcome = run(write(first, second, missing), commerce)
    assert outcome.report.lines() == [
        "【一月】第5行【总投资（万元）】：“很多”不是有效金额（应为万元数字，可带“万元”或“亿元”）。",
        "【二月】第5行【所属县（市、区）】：“福州”不是三明市的县（市、区）。",
        "【二月】第6行【项目名称】：与【一月】第6行是同一项目（项目名称、投资方、县区相同）。",
        "【三月】第1行【投资方】：缺少必需的列“投资方”。",
        "【三月】第1行【总投资（万元）】：缺少必需的列“总投资（万元）”。",
    ]
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def run(data: bytes, user, **kwargs) -> importer.Outcome:
    try:
        with transaction(commit=not kwargs.get("dry_run")):
            return importer.import_ledger(data, by=user, filename="台账", **kwargs)
    except importer.SheetRefused as refused:
        return refused.outcome


def test_a_workbook_with_no_header_anywhere_gets_one_message_naming_its_sheets(commerce):
    notes = layout([], titles=("填报说明",), header=["请按模板填写"], name="说明")
    data = xls_bytes(notes, layout([], titles=(), header=[], name="Sheet2"))
    with pytest.raises(ExcelUnreadable) as refused:
        run(data, commerce)
    assert refused.value.message == ("工作簿中没有可导入的工作表：【说明】的前 30 行中没有可识别的表头；【Sheet2】是空白表。"
                                     "请检查表头（如“项目名称”“投资方”“所属县（市、区）”）。")


@pytest.mark.parametrize("write", [xls_bytes, lambda sheet: csv_bytes(sheet, "gbk")], ids=["xls", "csv"])
def test_formula_cells_are_refused_in_every_format(commerce, write):
    sheet = layout([row(name="公式项目"), ["合计"] + [None] * 16], formulas={(4, 7): "=1+1", (5, 7): "=SUM(G4:G4)"})
    outcome = run(write(sheet), commerce)
    assert [(p.row, p.column) for p in outcome.report.problems] == [(4, "总投资（万元）")]
    assert "公式" in outcome.report.problems[0].message
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_gbk_header_is_never_valid_utf8():
    """Why UTF-8 then GB18030 settles every ledger: a header needs two known names, and all but one of them
    break UTF-8's rules when written in GBK, so a GBK file whose header can be found never passes for UTF-8."""
    from projects.ledgers.excel import COLUMN_VARIANTS

    def valid_utf8(data: bytes) -> bool:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    names = [name for variants in COLUMN_VARIANTS.values() for name in variants]
    assert len([name for name in names if valid_utf8(name.encode("gbk"))]) <= 1  # today: 签约平台


def test_a_csv_that_is_neither_utf8_nor_gb18030_is_refused_clearly(commerce):
    utf16 = csv_bytes(one_sheet(), "utf-16")  # Excel's "Unicode 文本"
    with pytest.raises(ExcelUnreadable, match="CSV 文件须为 UTF-8 或 GB18030（GBK）编码"):
        run(utf16, commerce)


# ---- Web and CLI ----

def staged(app) -> list[str]:
    return sorted(os.listdir(app.config["LEDGER_IMPORT_DIR"]))


@pytest.mark.parametrize("kind, write, extension", [
    ("xls", lambda rows: xls_bytes(layout(rows)), ".xls"),
    ("csv", lambda rows: csv_bytes(layout(rows), "gbk"), ".csv"),
    ("xlsx-two-sheets", lambda rows: xlsx_bytes(layout(rows[:1], name="一月"), layout(rows[1:], name="二月")), ".xlsx"),
])
def test_web_preview_and_confirm_in_every_format(app, kind, write, extension):
    user = make_user(Role.COMMERCE)
    client = new_client(app, user)
    data = write([row(name=f"网页{kind}项目一"), row(name=f"网页{kind}项目二")])
    digest = importer.sha256(data)
    response = client.post("/ledgers/import", data={"file": (io.BytesIO(data), "台账.dat")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "将新建 2 个项目" in page_text(response), page_text(response)
    assert f"{user.id}-{digest}{extension}" in staged(app)  # staged under the format its content has
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0
    response = client.post("/ledgers/import/confirm", data={"sha256": digest, "filename": "台账.dat"})
    assert response.status_code == 302
    db.session.rollback()
    names = set(db.session.scalars(select(Project.name)))
    assert names == {f"网页{kind}项目一", f"网页{kind}项目二"}
    assert f"{user.id}-{digest}{extension}" not in staged(app)


def test_web_preview_shows_sheet_names_and_skipped_sheets(app):
    client = new_client(app, make_user(Role.COMMERCE))
    data = xls_bytes(layout([row(name="一月项目")], name="一月"), layout([row(name="二月项目", total="abc")], name="二月"),
                     layout([], titles=(), header=[], name="Sheet3"))
    page = page_text(client.post("/ledgers/import", data={"file": (io.BytesIO(data), "台账.xls")},
                                 content_type="multipart/form-data"))
    assert "【二月】第4行【总投资（万元）】" in page and "工作表【Sheet3】是空白表，已跳过。" in page
    assert "确认导入" not in page
    data = xls_bytes(layout([row(name="一月项目")], name="一月"), layout([row(name="二月项目")], name="二月"))
    page = page_text(client.post("/ledgers/import", data={"file": (io.BytesIO(data), "台账.xls")},
                                 content_type="multipart/form-data"))
    assert "【一月】4" in page and "【二月】4" in page and "确认导入" in page


def test_web_refuses_a_workbook_without_a_header_and_an_unreadable_csv(app):
    client = new_client(app, make_user(Role.COMMERCE))
    data = xls_bytes(layout([], titles=("说明",), header=[], name="说明"), layout([], titles=(), header=[], name="空表"))
    response = client.post("/ledgers/import", data={"file": (io.BytesIO(data), "a.xls")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "工作簿中没有可导入的工作表：【说明】" in page_text(response)
    response = client.post("/ledgers/import", data={"file": (io.BytesIO(csv_bytes(one_sheet(), "utf-16")), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "UTF-8 或 GB18030（GBK）编码" in page_text(response)
    assert "accept=\".xlsx,.xls,.csv\"" in client.get("/ledgers/import").get_data(as_text=True)


def test_cli_imports_every_format(runner, tmp_path):
    make_user(Role.ADMIN)
    files = {"台账.xls": xls_bytes(layout([row(name="命令行xls项目")])),
             "台账.csv": csv_bytes(layout([row(name="命令行csv项目")]), "gbk"),
             "两表.xlsx": xlsx_bytes(layout([row(name="命令行一月项目")], name="一月"),
                                     layout([row(name="命令行二月项目", total="abc")], name="二月"))}
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    for name in ("台账.xls", "台账.csv"):
        result = runner.invoke(args=["ledger", "import", str(tmp_path / name), "--dry-run"])
        assert result.exit_code == 0 and "预览（未写入）：新建 1 个项目" in result.output, result.output
        result = runner.invoke(args=["ledger", "import", str(tmp_path / name)])
        assert result.exit_code == 0 and "新建 1 个项目" in result.output
    result = runner.invoke(args=["ledger", "import", str(tmp_path / "两表.xlsx")])
    assert result.exit_code == 1 and result.output.splitlines()[0].startswith("【二月】第4行【总投资（万元）】")
    assert set(db.session.scalars(select(Project.name))) == {"命令行xls项目", "命令行csv项目"}
    (tmp_path / "utf16.csv").write_bytes(csv_bytes(layout([row()]), "utf-16"))
    result = runner.invoke(args=["ledger", "import", str(tmp_path / "utf16.csv")])
    assert result.exit_code == 2 and "GB18030" in result.output
