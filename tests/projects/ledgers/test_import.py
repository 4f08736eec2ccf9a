"""Ledger import: every ledger shape, all-or-nothing with row numbers, batches, revert, hostile files, CLI, web."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.auth.models import Role
from core.db import db
from core.spreadsheets import ExcelUnreadable, check_xlsx
from core.transaction import transaction
from projects.events.models import SigningEvent
from projects.ledgers import batches, importer
from projects.ledgers.excel import parse_date, parse_money
from projects.ledgers.models import ImportBatch
from projects.models import Project, ProjectEvent
from projects.stages import SignType, Stage
from tests.factories import make_project, make_user
from tests.projects.ledgers.files import ONE_ROW, ledger_bytes, row
from tests.projects.web import new_client, page_text

pytestmark = pytest.mark.usefixtures("project_ref")


def project_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Project))


def run(data: bytes, user=None, **kwargs):
    user = user or make_user(Role.COMMERCE)
    try:
        with transaction(commit=not kwargs.get("dry_run")):
            return importer.import_ledger(data, by=user, filename="台账.xlsx", **kwargs)
    except importer.SheetRefused as refused:
        return refused.outcome


def test_money_and_date_formats():
    assert parse_money(5000) == Decimal("5000.00")
    assert parse_money("1,234.5") == Decimal("1234.50")
    assert parse_money("1,234.5万元") == Decimal("1234.50")
    assert parse_money("3万") == Decimal("3.00")
    assert parse_money("2.5亿元") == Decimal("25000.00")
    assert parse_money("1亿") == Decimal("10000.00")
    with pytest.raises(ValueError):
        parse_money("五千")
    assert parse_date(dt.datetime(2026, 6, 18)) == dt.date(2026, 6, 18)
    assert parse_date("2026-06-18") == dt.date(2026, 6, 18)
    assert parse_date("2026/1/15") == dt.date(2026, 1, 15)
    assert parse_date("2026年4月2日") == dt.date(2026, 4, 2)
    assert parse_date("2026.7") == dt.date(2026, 7, 1)
    assert parse_date(2026.7) == dt.date(2026, 7, 1)
    assert parse_date("2026年12月") == dt.date(2026, 12, 1)
    with pytest.raises(ValueError):
        parse_date("2026-13-01")


def test_one_row_header_with_title_rows_variants_and_skipped_rows():
    data = ledger_bytes([
        row(name="甲项目", county="三元区", total="1,200万元", sign_date="2025/1/15", industry="氟化工"),
        [None] * 17,
        row(name="乙项目", county="梅列区", total="0.5亿元", sign_type="合同项目", sign_date="2025年4月2日", industry="石墨烯"),
        row(name="丙项目", county="沙县", park="金沙园生物医药产业园", industry="医药", sign_type="框架协议",
            sign_date="2025.7", stage="已签约"),
        row(name="丁项目", county="350403", industry="稀土", sign_type="协议项目", sign_date=dt.date(2025, 3, 1)),
        row(name="戊项目", county="永安", industry="石墨和石墨烯", sign_type="", sign_date="", stage="洽谈"),
        row(name="己项目", county="350427", industry="生物医药", sign_date="2025-02-01"),
        ["合计", None, None, None, None, None, 99999],
        [None, "小 计", None, None, None, None, 1],
    ])
    outcome = run(data)
    assert outcome.ok, outcome.report.lines()
    assert outcome.count("create") == 6 and outcome.report.skipped_rows == [5, 11, 12]
    projects = {p.name: p for p in db.session.scalars(select(Project))}
    assert projects["甲项目"].total_investment == Decimal("1200.00")
    assert projects["乙项目"].total_investment == Decimal("5000.00") and projects["乙项目"].county_code == "350404"
    assert projects["乙项目"].sign_date == dt.date(2025, 4, 2)
    assert projects["丙项目"].county_code == "350405" and projects["丙项目"].park.name == "金沙园生物医药产业园"
    assert projects["丙项目"].sign_type is SignType.AGREEMENT and projects["丙项目"].sign_date == dt.date(2025, 7, 1)
    assert projects["丁项目"].county_code == "350404" and projects["丁项目"].industry.name == "稀土新能源材料"
    assert projects["戊项目"].stage is Stage.NEGOTIATING and projects["戊项目"].county_code == "350481"
    assert projects["己项目"].county_code == "350405" and projects["甲项目"].industry.name == "氟新材料"
    batch = db.session.scalar(select(ImportBatch))
    assert batch.created_count == 6 and batch.rows_total == 6 and len(batch.sha256) == 64


def test_two_row_header_with_merged_groups_header_variants_and_unknown_columns():
    header = ["序号", "项目名称", "投资主体", "所在地", "园区", "所属产业", "计划总投资", "签约类型", "签约日期", "签约活动",
              "当前阶段", "计划开工时间", "开工时间", "累计完成投资", "挂钩领导", "责任单位", "存在困难", "联系人电话"]
    groups = [("签约情况", 7, 9), ("推进情况", 10, 13)]
    data = ledger_bytes([row(name="两行表头项目", event="6·18 海峡项目成果交易会", completed="300", unit="三元区工信局",
                             blocker="用地指标未落实") + ["13800000000"]], header=header, groups=groups)
    outcome = run(data)
    assert outcome.ok, outcome.report.lines()
    assert any("联系人电话" in n for n in outcome.report.notices)
    project = db.session.scalar(select(Project))
    assert project.investor_name == "福建氟源新材料有限公司" and project.responsible_unit == "三元区工信局"
    assert project.investment_completed == Decimal("300.00")
    assert project.signing_event.name == "6·18 海峡项目成果交易会"  # created, since none matched
    assert [b.description for b in project.blockers] == ["用地指标未落实"]


def test_stages_move_through_the_rules():
    header = ONE_ROW + ["项目代码", "施工许可办结时间"]
    data = ledger_bytes([row(name="在建项目", stage="在建", actual_start="2025-09-01") + ["2025-350404-26-03-00012A", "2025-08-01"],
                         row(name="前期项目", stage="前期手续办理中") + ["2025-350404-26-03-00013A", ""]], header=header)
    outcome = run(data, strict=True)
    assert outcome.ok, outcome.report.lines()
    projects = {p.name: p for p in db.session.scalars(select(Project))}
    assert projects["在建项目"].stage is Stage.STARTED and projects["在建项目"].construction_permit_done
    assert projects["前期项目"].stage is Stage.APPROVAL
    kinds = db.session.scalars(select(ProjectEvent.new_value).where(ProjectEvent.project_id == projects["在建项目"].id,
                                                                   ProjectEvent.field == "stage")).all()
    assert {"签约", "前期", "开工"} <= set(kinds)


def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported():
    data = ledger_bytes([row(name="好项目"),
                         row(name="坏项目一", county="福州市"),
                         row(name="好项目二"),
                         row(name="坏项目二", total="很多", sign_date="2025-02-30"),
                         row(name="", investor=""),
                         row(name="前期缺代码", stage="前期")])
    outcome = run(data)
    assert not outcome.ok
    lines = outcome.report.lines()
    assert any(line.startswith("第5行【所属县（市、区）】") for line in lines)
    assert any(line.startswith("第7行【总投资（万元）】") for line in lines)
    assert any(line.startswith("第7行【签约时间】") for line in lines)
    assert any(line.startswith("第8行【项目名称】") for line in lines)
    assert any(line.startswith("第8行【投资方】") for line in lines)
    assert not any(line.startswith(("第4行", "第6行")) for line in lines)
    assert project_count() == 0 and db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    # Strict, service-level rules (stage gates) are found in the same pass when the sheet itself is clean.
    outcome = run(ledger_bytes([row(name="好项目"), row(name="前期缺代码", stage="前期")]), strict=True)
    assert outcome.report.lines() == ["第5行【项目阶段】：进入“前期”阶段还缺少：项目代码。"]
    assert project_count() == 0


def test_cells_follow_the_same_input_rules_as_the_forms():
    data = ledger_bytes([row(name="好项目"),
                         row(name="隐藏\x85字符", investor="正常\u202e司公限有"),
                         row(name="远古项目", sign_date="0001-01-01", planned_start="2101-01-01"),
                         row(name="天价项目", total=1e300),
                         row(name="负数项目", total=-1)])
    outcome = run(data)
    lines = outcome.report.lines()
    assert "第5行【项目名称】：“项目名称”含有不可见的控制字符（U+0085），请删除后重新输入。" in lines
    assert "第5行【投资方】：“投资方”含有不可见的控制字符（U+202E），请删除后重新输入。" in lines
    assert any(line.startswith("第6行【签约时间】") and "1990-01-01 到 2100-12-31" in line for line in lines)
    assert any(line.startswith("第6行【计划开工时间】") and "1990-01-01 到 2100-12-31" in line for line in lines)
    assert "第7行【总投资（万元）】：金额不能超过 100,000,000 万元（一万亿元）。" in lines
    assert "第8行【总投资（万元）】：金额不能为负数。" in lines
    assert project_count() == 0


def test_formula_cells_are_refused_and_total_row_formulas_skipped():
    data = ledger_bytes([row(name="公式项目"), ["合计", None, None, None, None, None, None]],
                        formulas={(4, 7): "=1+1", (5, 7): "=SUM(G4:G4)"})
    outcome = run(data)
    assert [p.row for p in outcome.report.problems] == [4]
    assert "公式" in outcome.report.problems[0].message and project_count() == 0


def test_matching_project_is_updated_through_the_services_with_audit_rows():
    commerce = make_user(Role.COMMERCE)
    existing = make_project(by=commerce, name="已有项目", investor_name="福建三农集团股份有限公司", total_investment=Decimal("8000"))
    data = ledger_bytes([row(name="已有项目", investor="福建三农（集团）有限公司", total="9000", sign_date="2025-03-01",
                             unit="园区管委会")])
    outcome = run(data, commerce)
    assert outcome.ok and outcome.count("update") == 1 and project_count() == 1
    db.session.refresh(existing)
    assert existing.total_investment == Decimal("9000.00") and existing.responsible_unit == "园区管委会"
    labels = db.session.scalars(select(ProjectEvent.label).where(ProjectEvent.project_id == existing.id)).all()
    assert "总投资（万元）" in labels and "责任单位" in labels


def test_revert_deletes_created_and_restores_updated():
    commerce, admin = make_user(Role.COMMERCE), make_user(Role.ADMIN)
    existing = make_project(by=commerce, name="已有项目", investor_name="测试投资方甲有限公司", total_investment=Decimal("8000"))
    data = ledger_bytes([row(name="已有项目", investor="测试投资方甲有限公司", total="9000", sign_date="2025-03-01"),
                         row(name="新项目", event="新的签约活动")])
    outcome = run(data, commerce)
    assert outcome.ok and project_count() == 2
    batch = outcome.batch
    assert batches.revert_batch(batch, by=admin) == {"deleted": 1, "restored": 1}
    db.session.commit()
    db.session.refresh(existing)
    assert project_count() == 1 and existing.total_investment == Decimal("8000.00")
    assert db.session.scalar(select(SigningEvent).where(SigningEvent.name == "新的签约活动")) is None
    assert batch.reverted_at is not None and batch.sha256 is None
    with pytest.raises(batches.RevertRefused):
        batches.revert_batch(batch, by=admin)
    assert run(data, commerce).ok, "a reverted file may be imported again"


def test_revert_is_refused_when_a_project_changed_since():
    from projects.rules import EDITABLE_FIELDS
    from projects.services import update_project

    commerce, admin = make_user(Role.COMMERCE), make_user(Role.ADMIN)
    outcome = run(ledger_bytes([row(name="后来改过的项目")]), commerce)
    project = db.session.scalar(select(Project))
    data = {f: getattr(project, f) for f in EDITABLE_FIELDS} | {"notes": "导入后补充"}
    update_project(project, data, version=project.version, by=commerce)
    db.session.commit()
    with pytest.raises(batches.RevertRefused):
        batches.revert_batch(outcome.batch, by=admin)
    with pytest.raises(Exception):
        batches.revert_batch(outcome.batch, by=commerce)


def test_the_same_file_twice_is_refused():
    data = ledger_bytes([row()])
    assert run(data).ok
    with pytest.raises(importer.LedgerRefused, match="不能重复导入"):
        run(data)


def test_county_official_imports_only_own_county_rows():
    official = make_user(Role.COUNTY, county="350404")
    outcome = run(ledger_bytes([row(name="本县项目"), row(name="外县项目", county="永安市")]), official)
    assert [(p.row, p.column) for p in outcome.report.problems] == [(5, "所属县（市、区）")] and project_count() == 0
    assert run(ledger_bytes([row(name="本县项目")]), official).ok


# ---- Hostile files ----

def test_png_with_an_xlsx_name_is_refused():
    with pytest.raises(ExcelUnreadable, match=".xlsx"):
        check_xlsx(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)


def test_oversized_file_is_refused():
    with pytest.raises(ExcelUnreadable, match="过大"):
        check_xlsx(b"PK\x03\x04" + b"\0" * (10 * 1024 * 1024))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_parsing():
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"\0" * (300 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(ExcelUnreadable, match="压缩炸弹"):
        check_xlsx(bomb)


def test_xml_bomb_is_refused():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>')
    source = zipfile.ZipFile(io.BytesIO(ledger_bytes([row()])))
    members = {name: source.read(name) for name in source.namelist()}
    members["xl/worksheets/sheet1.xml"] = laughs
    with pytest.raises(ExcelUnreadable, match="DTD"):
        importer.import_ledger(_zip(members), by=make_user(Role.COMMERCE))


def test_missing_required_column_is_reported_on_the_header_row():
    outcome = run(ledger_bytes([["甲", "三元区", 100]], header=["项目名称", "所属县（市、区）", "总投资"]))
    assert outcome.report.lines() == ["第3行【投资方】：缺少必需的列“投资方”。"]


# ---- CLI ----

def test_cli_exit_codes_and_row_lines(runner, tmp_path):
    make_user(Role.ADMIN)
    good, bad, junk = tmp_path / "good.xlsx", tmp_path / "bad.xlsx", tmp_path / "junk.xlsx"
    good.write_bytes(ledger_bytes([row(name="命令行项目")]))
    bad.write_bytes(ledger_bytes([row(name="坏行", total="abc"), row(name="好行")]))
    junk.write_bytes(b"\x89PNG\r\n\x1a\nnot a workbook")
    result = runner.invoke(args=["ledger", "import", str(bad)])
    assert result.exit_code == 1 and result.output.splitlines()[0].startswith("第4行【总投资（万元）】")
    result = runner.invoke(args=["ledger", "import", str(good), "--dry-run"])
    assert result.exit_code == 0 and "预览" in result.output and project_count() == 0
    result = runner.invoke(args=["ledger", "import", str(good)])
    assert result.exit_code == 0 and "新建 1 个项目" in result.output and project_count() == 1
    assert runner.invoke(args=["ledger", "import", str(good)]).exit_code == 1  # the same file again
    assert runner.invoke(args=["ledger", "import", str(junk)]).exit_code == 2
    assert runner.invoke(args=["ledger", "import", str(tmp_path / "missing.xlsx")]).exit_code == 2


# ---- Web ----

def test_web_preview_then_confirm(app):
    commerce = make_user(Role.COMMERCE)
    client = new_client(app, commerce)
    data = ledger_bytes([row(name="网页导入项目")])
    response = client.post("/ledgers/import", data={"file": (io.BytesIO(data), "台账.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "将新建 1 个项目" in page_text(response)
    assert project_count() == 0, "the preview wrote nothing"
    digest = importer.sha256(data)
    response = client.post("/ledgers/import/confirm", data={"sha256": digest, "filename": "台账.xlsx"})
    assert response.status_code == 302 and project_count() == 1
    assert client.post("/ledgers/import/confirm", data={"sha256": digest}).status_code == 400  # consumed
    assert client.post("/ledgers/import/confirm", data={"sha256": "../../etc/passwd"}).status_code == 400
    page = page_text(client.get("/ledgers/batches"))
    assert "台账.xlsx" in page and "撤销" not in page  # commerce sees batches; only admins revert


def test_web_preview_lists_problems_and_refuses_bad_uploads(app):
    client = new_client(app, make_user(Role.COMMERCE))
    response = client.post("/ledgers/import", data={"file": (io.BytesIO(ledger_bytes([row(county="福州")])), "a.xlsx")},
                           content_type="multipart/form-data")
    assert "第4行【所属县（市、区）】" in page_text(response) and "确认导入" not in page_text(response)
    response = client.post("/ledgers/import", data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" * 10), "x.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "不是 Excel" in page_text(response)


def test_admin_reverts_from_the_batch_page(app):
    admin = make_user(Role.ADMIN)
    outcome = run(ledger_bytes([row(name="待撤销项目")]))
    client = new_client(app, admin)
    assert "撤销" in page_text(client.get("/ledgers/batches"))
    response = client.post(f"/ledgers/batches/{outcome.batch.id}/revert")
    assert response.status_code == 302 and project_count() == 0
