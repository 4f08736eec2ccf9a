"""Historical stages: a ledger's stage is recorded as stated, the facts it lacks listed as 资料缺项 until filled in."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.auth.models import Role
from core.db import db
from maps.briefing.excel import SHEETS
from projects.ledgers.models import ImportBatch
from projects.models import ApprovalStatus, Project
from projects.stages import FACT_LABELS, Stage
from tests.factories import make_user
from tests.projects.ledgers.files import ledger_bytes, row
from tests.projects.web import fresh, new_client, page_text, project_form_data

from .test_import import run

pytestmark = pytest.mark.usefixtures("project_ref")

# Stage words only: no sign type or date, no 项目代码 column, no 施工许可 column, no actual dates.
STAGE_WORDS = {"在谈": Stage.NEGOTIATING, "已签约": Stage.SIGNED, "前期手续办理中": Stage.APPROVAL,
               "在建": Stage.STARTED, "已竣工": Stage.COMPLETED, "已投产": Stage.PRODUCING}
GAPS = {
    "在谈": [],
    "已签约": ["签约类型（协议或合同）", "签约日期"],
    "前期手续办理中": ["签约类型（协议或合同）", "签约日期", "项目代码"],
    "在建": ["签约类型（协议或合同）", "签约日期", "项目代码", "实际开工日期", "前期手续“施工许可”已办结"],
    "已竣工": ["签约类型（协议或合同）", "签约日期", "项目代码", "实际开工日期", "前期手续“施工许可”已办结",
            "实际竣工日期"],
    "已投产": ["签约类型（协议或合同）", "签约日期", "项目代码", "实际开工日期", "前期手续“施工许可”已办结",
            "实际竣工日期", "实际投产日期"],
}


def stage_words_ledger() -> bytes:
    return ledger_bytes([row(name=f"{word}项目", investor=f"{word}投资有限公司", stage=word, sign_type="", sign_date="")
                         for word in STAGE_WORDS])


def by_name() -> dict[str, Project]:
    return {p.name: p for p in db.session.scalars(select(Project))}


def test_every_project_is_recorded_in_its_stated_stage_with_its_gaps_listed():
    outcome = run(stage_words_ledger())
    assert outcome.ok, outcome.report.lines()
    projects = by_name()
    for word, stage in STAGE_WORDS.items():
        project = projects[f"{word}项目"]
        assert project.stage is stage, word
        assert [label for label in _labels(project)] == GAPS[word], word
        # Never invented: the facts stay empty.
        assert (project.project_code, project.sign_date, project.actual_start) == (None, None, None)
        assert not project.construction_permit_done
    notices = outcome.report.notices
    assert notices[0].startswith("5 个项目按台账所载阶段导入，但缺少该阶段应有的资料（资料缺项）")
    assert "第7行 在建项目（开工）：缺签约类型（协议或合同）、签约日期、项目代码、实际开工日期、前期手续“施工许可”已办结。" in notices
    assert not any("在谈项目" in notice for notice in notices)


def _labels(project):
    return [FACT_LABELS[key] for key in project.gaps()]


def test_strict_restores_the_gates():
    outcome = run(stage_words_ledger(), strict=True)
    assert not outcome.ok and db.session.scalar(select(func.count()).select_from(Project)) == 0
    lines = outcome.report.lines()
    assert "第5行【签约时间】：已签约的项目必须填写签约类型和签约日期。" in lines, lines
    assert sum(1 for line in lines if "必须填写签约类型和签约日期" in line) == 5


def test_an_existing_project_moves_forward_to_the_stated_stage_but_never_back():
    run(ledger_bytes([row(name="推进项目", stage="已签约")]))
    project = by_name()["推进项目"]
    assert project.stage is Stage.SIGNED and project.gaps() == []
    outcome = run(ledger_bytes([row(name="推进项目", stage="在建", seq=2)]))
    assert outcome.ok, outcome.report.lines()
    project = fresh(Project, project.id)
    assert project.stage is Stage.STARTED
    assert project.gaps() == ["project_code", "actual_start", "construction_permit_done"]
    back = run(ledger_bytes([row(name="推进项目", stage="已签约", seq=3)]))
    assert any("退回阶段须在系统中办理并填写原因" in line for line in back.report.lines())
    assert fresh(Project, project.id).stage is Stage.STARTED


def test_a_permit_date_in_the_sheet_is_recorded_and_is_no_gap():
    header = ["序号", "项目名称", "投资方", "所属县（市、区）", "所属园区", "产业类别", "总投资（万元）", "签约类型", "签约时间",
              "签约活动", "项目阶段", "计划开工时间", "实际开工时间", "累计完成投资（万元）", "挂钩领导", "责任单位", "存在问题",
              "施工许可办结时间"]
    run(ledger_bytes([row(name="有许可项目", stage="在建", actual_start="2025-09-01") + ["2025-08-01"]], header=header))
    project = by_name()["有许可项目"]
    assert project.construction_permit_done and project.gaps() == ["project_code"]


def test_gaps_show_on_the_project_page_in_the_list_filter_and_clear_when_filled_in(app):
    run(stage_words_ledger())
    official = make_user(Role.COUNTY, county="350404")
    client = new_client(app, official)
    project = by_name()["前期手续办理中项目"]
    page = client.get(f"/projects/{project.id}")
    text = page_text(page)
    assert "待补充（资料缺项）" in text and "项目代码" in text
    assert f'href="/projects/{project.id}/edit#project_code"' in page.get_data(as_text=True)
    listed = page_text(client.get("/projects/?gaps=y"))
    assert "前期手续办理中项目" in listed and "在谈项目" not in listed
    # Filling in the facts clears the item; other edits were never refused for lacking them.
    response = client.post(f"/projects/{project.id}/edit", data=project_form_data(project, liaison="王五"))
    assert response.status_code == 302, page_text(response)
    project = fresh(Project, project.id)
    response = client.post(f"/projects/{project.id}/edit", data=project_form_data(
        project, sign_type="contract", sign_date="2025-03-01", project_code="2025-350404-26-03-00012A"))
    assert response.status_code == 302, page_text(response)
    assert fresh(Project, project.id).gaps() == []
    assert "待补充" not in page_text(client.get(f"/projects/{project.id}"))
    assert "前期手续办理中项目" not in page_text(client.get("/projects/?gaps=y"))


def test_moves_made_in_the_app_keep_their_gates(app):
    run(stage_words_ledger())
    client = new_client(app, make_user(Role.COMMERCE))
    project = by_name()["前期手续办理中项目"]
    response = client.post(f"/projects/{project.id}/stage", data={"version": project.version, "to_stage": "started"})
    assert response.status_code == 400 and "进入“开工”阶段还缺少" in page_text(response)
    assert fresh(Project, project.id).stage is Stage.APPROVAL


def test_the_web_preview_lists_gaps_as_notices_and_strict_refuses(app):
    client = new_client(app, make_user(Role.COMMERCE))
    upload = {"file": (io.BytesIO(stage_words_ledger()), "台账.xlsx")}
    preview = page_text(client.post("/ledgers/import", data=upload, content_type="multipart/form-data"))
    assert "5 个项目按台账所载阶段导入" in preview and "确认导入" in preview
    strict = {"file": (io.BytesIO(stage_words_ledger()), "台账.xlsx"), "strict": "1"}
    refused = page_text(client.post("/ledgers/import", data=strict, content_type="multipart/form-data"))
    assert "未导入任何数据" in refused and "确认导入" not in refused
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_cli_strict_flag(runner, tmp_path):
    make_user(Role.ADMIN)
    path = tmp_path / "台账.xlsx"
    path.write_bytes(stage_words_ledger())
    refused = runner.invoke(args=["ledger", "import", str(path), "--strict"])
    assert refused.exit_code == 1
    imported = runner.invoke(args=["ledger", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "提示：5 个项目按台账所载阶段导入" in imported.output
    assert {p.stage for p in db.session.scalars(select(Project))} == set(STAGE_WORDS.values())


def test_the_permit_item_is_left_open_not_marked_done():
    run(stage_words_ledger())
    project = by_name()["在建项目"]
    permit = next(a for a in project.approvals if a.type.name == "施工许可")
    assert permit.status is not ApprovalStatus.DONE


def two_county_ledger() -> bytes:
    return ledger_bytes([row(name="三元缺项项目", investor="三元甲有限公司", stage="在建", sign_type="", sign_date=""),
                         row(name="永安缺项项目", investor="永安乙有限公司", county="永安市", stage="前期",
                             sign_type="", sign_date="", seq=2),
                         row(name="三元完整项目", investor="三元丙有限公司", stage="已签约", seq=3)])


def test_the_to_do_page_lists_the_county_officials_own_gap_projects(app):
    run(two_county_ledger())
    page = page_text(new_client(app, make_user(Role.COUNTY, county="350404")).get("/"))
    card = page.split("资料缺项待补充")[1]
    assert "三元缺项项目" in card and "永安缺项项目" not in page and "三元完整项目" not in card


def test_dashboard_and_briefing_give_each_countys_data_completeness(app):
    run(two_county_ledger())
    client = new_client(app, make_user(Role.LEADER))
    html = client.get("/dashboard").get_data(as_text=True)
    table = html.split('id="data-completeness"')[1].split("</table>")[0]
    sanyuan = table.split('data-county="350404"')[1].split("</tr>")[0]
    assert [re.sub("<[^>]+>", "", cell).strip() for cell in sanyuan.split("</td>")[1:4]] == ["2", "1", "1"]
    assert 'href="/projects/?county=350404&amp;gaps=y"' in sanyuan
    assert "50.0%" in sanyuan or "50%" in sanyuan
    book = load_workbook(io.BytesIO(client.get("/reports/briefing").data))
    rows = {r[0]: r[1:] for r in book[SHEETS[7]].iter_rows(min_row=2, values_only=True)}
    assert rows["三元区"] == (2, 1, 1, 0.5) and rows["永安市"] == (1, 0, 1, 0)


def test_the_sample_ledger_imports_cleanly_on_the_demo_database(app, runner):
    assert runner.invoke(args=["demo-data", "--projects", "40", "--seed", "7"]).exit_code == 0
    official = make_user(Role.COUNTY, county="350404")
    client = new_client(app, official)
    response = client.get("/ledgers/sample.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert "三元区" in sheet["A1"].value and "示例" in sheet["A1"].value  # a title row above the header
    assert {"H2:J2"} <= {str(r) for r in sheet.merged_cells.ranges}  # the merged 签约情况 group
    before = db.session.scalar(select(func.count()).select_from(Project))
    outcome = run(response.data, official)
    assert outcome.ok, outcome.report.lines()
    assert outcome.count("create") == 8
    assert any("个项目按台账所载阶段导入" in notice for notice in outcome.report.notices)
    created = db.session.scalars(select(Project).where(Project.name.like("示例%"))).all()
    assert len(created) == 8 and db.session.scalar(select(func.count()).select_from(Project)) == before + 8
    assert {p.stage for p in created} == set(STAGE_WORDS.values())
    assert all(p.county_code == "350404" for p in created)
