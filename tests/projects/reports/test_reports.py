"""Monthly progress reports: save_report's rules and derived totals, and the /reports/monthly scoreboard and page."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import clock
from core.auth.models import Role
from core.db import db
from core.errors import NotAllowed
from projects import rules, services
from projects.models import EventKind, Project, ProjectEvent
from projects.reports import queries as report_queries
from projects.reports import services as report_services
from projects.reports.models import ProgressReport
from projects.reports.services import FundsOverTotal
from projects.rules import Conflict, ProjectInvalid
from projects.stages import Stage
from tests.conftest import csrf_token_from
from tests.factories import make_project, make_user
from tests.projects.web import changed_tables, input_value, new_client, page_text, snapshot

pytestmark = pytest.mark.usefixtures("project_ref")

NOW = dt.datetime(2025, 7, 15, 4, 0, tzinfo=dt.UTC)  # 2025-07-15, noon in Sanming
JULY, JUNE, MAY, MARCH = dt.date(2025, 7, 1), dt.date(2025, 6, 1), dt.date(2025, 5, 1), dt.date(2025, 3, 1)
SANYUAN, YONGAN, SHAXIAN = "350404", "350481", "350405"


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def staff():
    return make_user(Role.COMMERCE)


def report(project: Project, month: dt.date, by, *, investment="0", funds="0", note: str = "", no_change=False,
           confirm=False) -> ProgressReport:
    """Save one report as a request would: the service call at the project's current version, then commit."""
    saved = report_services.save_report(project, month, investment=None if investment is None else Decimal(investment),
                                 funds_arrived=None if funds is None else Decimal(funds), note=note,
                                 no_change=no_change, version=project.version, by=by,
                                 confirm_funds_over_total=confirm)
    db.session.commit()
    return saved


def refused(project: Project, month: dt.date, by, **kwargs) -> dict[str, str]:
    with pytest.raises(ProjectInvalid) as info:
        report(project, month, by, **kwargs)
    db.session.rollback()
    return info.value.errors


def reports_of(project: Project) -> list[ProgressReport]:
    db.session.rollback()
    return list(db.session.scalars(select(ProgressReport).where(ProgressReport.project_id == project.id)
                                   .order_by(ProgressReport.month)))


def fresh(project: Project) -> Project:
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Project, project.id)


# save_report ---------------------------------------------------------------------------------------

def test_months_outside_signing_to_production_are_refused_in_chinese(staff):
    project = make_project(staff, sign_date=dt.date(2025, 3, 10))
    assert "签约之前" in refused(project, dt.date(2025, 2, 1), staff, investment="10")["month"]
    assert "未来月份" in refused(project, dt.date(2025, 8, 1), staff, investment="10")["month"]
    report(project, MARCH, staff, investment="10")  # the signing month itself is due
    report(project, JULY, staff, investment="10")  # and so is the current month

    producing = make_project(staff, sign_date=MARCH)
    producing.stage, producing.actual_start = Stage.PRODUCING, dt.date(2025, 3, 20)
    producing.actual_completion, producing.actual_production = dt.date(2025, 4, 20), dt.date(2025, 5, 20)
    db.session.commit()
    assert "已于 2025年05月 投产" in refused(producing, JUNE, staff, investment="10")["month"]
    report(producing, dt.date(2025, 5, 31), staff, investment="10")  # the production month, any day of it
    assert [r.month for r in reports_of(producing)] == [MAY]

    for stage in (Stage.PAUSED, Stage.DROPPED):
        other = make_project(staff, sign_date=MARCH)
        other.stage = stage
        db.session.commit()
        assert "不填报月度进展" in refused(other, JUNE, staff, investment="10")["month"]
        assert reports_of(other) == []
    negotiating = make_project(staff, stage=Stage.NEGOTIATING, sign_type=None, sign_date=None)
    assert "不填报月度进展" in refused(negotiating, JUNE, staff, investment="10")["month"]
    assert [r.month for r in reports_of(project)] == [MARCH, JULY]


def test_negative_and_empty_reports_are_refused(staff):
    project = make_project(staff)
    assert "不能为负数" in refused(project, JUNE, staff, investment="-1")["investment"]
    assert "不能为负数" in refused(project, JUNE, staff, funds="-0.01")["investment"]
    assert "本月无变化" in refused(project, JUNE, staff, investment="0", funds="0", note="  ")["note"]
    assert reports_of(project) == []
    assert fresh(project).version == 1


def test_funds_above_total_investment_need_confirming(staff):
    project = make_project(staff, total_investment=Decimal("10000"))
    report(project, MAY, staff, funds="6000")
    with pytest.raises(FundsOverTotal) as info:
        report(project, JUNE, staff, funds="5000")
    db.session.rollback()
    assert info.value.funds == Decimal("11000") and "超过总投资" in str(info.value) and "请确认" in str(info.value)
    assert [r.month for r in reports_of(project)] == [MAY]
    # Correcting May replaces May's figure: 9000 in all, not 15000.
    report(project, MAY, staff, funds="9000")
    assert fresh(project).funds_arrived == Decimal("9000")
    project = fresh(project)
    report(project, JUNE, staff, funds="5000", confirm=True)
    assert fresh(project).funds_arrived == Decimal("14000")


def test_a_second_report_for_the_month_updates_the_same_row_and_totals_stay_derived(staff):
    project = make_project(staff, investment_baseline=Decimal("1000"), total_investment=Decimal("50000"))
    assert project.investment_completed == Decimal("1000")
    first = report(project, MAY, staff, investment="200", funds="150", note="场地平整")
    report(project, JUNE, staff, investment="100", funds="50")
    report(project, JUNE, staff, investment="300", funds="80", note="主体厂房开工")
    rows = reports_of(project)
    assert [(r.month, r.investment, r.funds_arrived) for r in rows] == [
        (MAY, Decimal("200"), Decimal("150")), (JUNE, Decimal("300"), Decimal("80"))]
    assert rows[0].id == first.id and rows[1].note == "主体厂房开工"
    project = fresh(project)
    assert (project.investment_completed, project.funds_arrived) == (Decimal("1500"), Decimal("230"))
    # The figure carried in before the reports is edited on the project: the total follows it.
    data = {field: getattr(project, field) for field in rules.EDITABLE_FIELDS}
    services.update_project(project, {**data, "investment_baseline": Decimal("400")}, version=project.version, by=staff)
    db.session.commit()
    assert fresh(project).investment_completed == Decimal("900")
    # An unchanged second save writes nothing and does not bump the version.
    project = fresh(project)
    version = project.version
    report(project, JUNE, staff, investment="300", funds="80", note="主体厂房开工")
    assert fresh(project).version == version


def test_no_change_saves_zeros(staff):
    project = make_project(staff, investment_baseline=Decimal("700"))
    report(project, JUNE, staff, investment="500", funds="100")
    project = fresh(project)
    report(project, JUNE, staff, investment="80", funds="30", note="正在办理施工许可", no_change=True)
    (row,) = reports_of(project)
    assert (row.investment, row.funds_arrived, row.no_change, row.note) == (Decimal("0"), Decimal("0"), True,
                                                                          "正在办理施工许可")
    project = fresh(project)
    assert (project.investment_completed, project.funds_arrived) == (Decimal("700"), Decimal("0"))
    report(project, JULY, staff, investment=None, funds=None, no_change=True)
    assert reports_of(project)[-1].no_change is True


def test_reports_write_project_events_and_check_the_version(staff):
    project = make_project(staff)
    start = project.version
    report(project, JUNE, staff, investment="100")
    project = fresh(project)
    report(project, JUNE, staff, investment="250", note="设备进场")
    project = fresh(project)
    assert project.version == start + 2
    rows = list(db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                                             ProjectEvent.kind == EventKind.REPORT)
                                   .order_by(ProjectEvent.id)))
    assert [(r.version, r.label, r.old_value, r.new_value) for r in rows] == [
        (start + 1, "2025年06月月报", None, "已填报"),
        (start + 2, "2025年06月·完成投资（万元）", "100.00", "250.00"),
        (start + 2, "2025年06月·进展说明", None, "设备进场")]
    assert all(r.user_id == staff.id for r in rows)
    with pytest.raises(Conflict):
        report_services.save_report(project, JUNE, investment=Decimal("999"), funds_arrived=None, note="", no_change=False,
                             version=start + 1, by=staff)
    db.session.rollback()
    with pytest.raises(Conflict):
        report_services.save_report(project, JULY, investment=Decimal("1"), funds_arrived=None, note="", no_change=False,
                             version=None, by=staff)
    db.session.rollback()
    assert [r.investment for r in reports_of(project)] == [Decimal("250")]


def test_only_editors_of_the_county_report(staff):
    project = make_project(staff, county_code=YONGAN)
    for user in (make_user(Role.COUNTY, county=SANYUAN), make_user(Role.LEADER)):
        with pytest.raises(NotAllowed):
            report_services.save_report(project, JUNE, investment=Decimal("1"), funds_arrived=None, note="", no_change=False,
                                 version=project.version, by=user)
        db.session.rollback()
    report(project, JUNE, make_user(Role.COUNTY, county=YONGAN), investment="1")
    assert len(reports_of(project)) == 1


# completeness --------------------------------------------------------------------------------------

def place(project: Project, **facts) -> Project:
    for field, value in facts.items():
        setattr(project, field, value)
    db.session.commit()
    return project


@pytest.fixture
def board(staff):
    """July 2025. 三元区 must report S1, S2 (signed this month) and S4 (in production this month) and
    has reported S1 and S4; S5 produced in June, S6 is paused, S7 dropped, S8 still negotiating.
    永安市: Y1 reported, Y2 not (2 due, 1 reported). 沙县区: X1 reported June only (1 due, 0 reported)."""
    p = {}
    p["S1"] = make_project(staff, name="三元甲", county_code=SANYUAN, sign_date=MARCH)
    p["S2"] = make_project(staff, name="三元乙", county_code=SANYUAN, sign_date=dt.date(2025, 7, 10))
    p["S4"] = place(make_project(staff, name="三元丁", county_code=SANYUAN, sign_date=MARCH), stage=Stage.PRODUCING,
                    actual_start=dt.date(2025, 4, 1), actual_completion=dt.date(2025, 6, 1),
                    actual_production=dt.date(2025, 7, 5))
    p["S5"] = place(make_project(staff, name="三元戊", county_code=SANYUAN, sign_date=MARCH), stage=Stage.PRODUCING,
                    actual_start=dt.date(2025, 4, 1), actual_completion=dt.date(2025, 5, 1),
                    actual_production=dt.date(2025, 6, 20))
    p["S6"] = place(make_project(staff, name="三元己", county_code=SANYUAN, sign_date=MARCH), stage=Stage.PAUSED,
                    paused_from=Stage.SIGNED, pause_reason="资金未到位", resume_expected=dt.date(2025, 12, 1))
    p["S7"] = place(make_project(staff, name="三元庚", county_code=SANYUAN, sign_date=MARCH), stage=Stage.DROPPED,
                    drop_reason="投资方撤资")
    p["S8"] = make_project(staff, name="三元辛", county_code=SANYUAN, stage=Stage.NEGOTIATING, sign_type=None,
                           sign_date=None)
    p["Y1"] = make_project(staff, name="永安甲", county_code=YONGAN, sign_date=MARCH)
    p["Y2"] = make_project(staff, name="永安乙", county_code=YONGAN, sign_date=MARCH)
    p["X1"] = make_project(staff, name="沙县甲", county_code=SHAXIAN, sign_date=MARCH)
    for key in ("S1", "S4", "Y1"):
        report(p[key], JULY, staff, investment="100", funds="10")
    report(p["X1"], JUNE, staff, investment="100")
    return p


def by_code(rows) -> dict[str, dict]:
    return {row["code"]: row for row in rows}


def test_completeness_per_county_and_ranking(board):
    rows = by_code(report_queries.completeness_by_county(JULY))
    assert {code: (r["due"], r["reported"]) for code, r in rows.items() if r["due"]} == {
        SANYUAN: (3, 2), YONGAN: (2, 1), SHAXIAN: (1, 0)}
    assert rows[SANYUAN]["rate"] == pytest.approx(2 / 3) and rows[SHAXIAN]["rate"] == 0
    assert (rows[SANYUAN]["rank"], rows[YONGAN]["rank"], rows[SHAXIAN]["rank"]) == (1, 2, 3)
    assert all(r["rate"] is None and r["rank"] > 3 for code, r in rows.items() if code not in (SANYUAN, YONGAN, SHAXIAN))
    assert len(rows) == 11  # the current counties only (梅列区 merged into 三元区)
    june = by_code(report_queries.completeness_by_county(JUNE))
    # June: S2 was not yet signed, S5 produced that month; X1 reported.
    assert (june[SANYUAN]["due"], june[SANYUAN]["reported"]) == (3, 0)
    assert (june[SHAXIAN]["due"], june[SHAXIAN]["reported"], june[SHAXIAN]["rank"]) == (1, 1, 1)
    # Equal rates share a rank, whatever the division codes: 三元区 0/3 and 永安市 0/2 are both second,
    # and the eight counties with nothing due are all fourth.
    assert (june[SANYUAN]["rank"], june[YONGAN]["rank"]) == (2, 2)
    assert {r["rank"] for code, r in june.items() if r["rate"] is None} == {4}
    official = make_user(Role.COUNTY, county=SANYUAN)
    due = {project.name: rep is not None for project, rep in report_queries.projects_due_for_month(official, JULY)}
    assert due == {"三元甲": True, "三元乙": False, "三元丁": True}
    assert {p.name for p, _ in report_queries.projects_due_for_month(official, JUNE)} == {"三元甲", "三元丁", "三元戊"}
    missing, count = report_queries.missing_reports(official, JULY)
    assert [p.name for p in missing] == ["三元乙"] and count == 1


def scoreboard(response) -> list[tuple[int, str, int, int]]:
    """(rank, county, due, reported) rows of the completeness table, in page order."""
    table = response.get_data(as_text=True).split("各县区填报完成情况")[1].split("</table>")[0]
    rows = re.findall(r'<tr[^>]*><td>(\d+)</td><td>([^<]+)</td><td class="text-end">(\d+)</td>'
                      r'<td class="text-end">(\d+)</td>', table)
    return [(int(rank), name, int(due), int(done)) for rank, name, due, done in rows]


def test_monthly_page_shows_the_scoreboard_ranked(app, board):
    response = new_client(app, make_user(Role.LEADER)).get("/reports/monthly?month=2025-07")
    assert response.status_code == 200
    rows = scoreboard(response)
    assert rows[:3] == [(1, "三元区", 3, 2), (2, "永安市", 2, 1), (3, "沙县区", 1, 0)]
    assert len(rows) == 11 and "无应报项目" in page_text(response)
    assert 'name="p' not in response.get_data(as_text=True)  # a leader only reads


@pytest.mark.parametrize("month", ["garbage", "2025-13", "2025-08", "2030-01", "1999-12", "2025-07-01"])
def test_bad_or_future_month_is_400(app, board, month):
    client = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    assert client.get(f"/reports/monthly?month={month}").status_code == 400
    before = snapshot()
    assert client.post(f"/reports/monthly?month={month}", data={"month": month}).status_code == 400
    assert changed_tables(before, snapshot()) == []


def row_data(response, project: Project, **values) -> dict[str, str]:
    """One row of the report page as a browser posts it: its version as shown, plus the given fields."""
    prefix = f"p{project.id}-"
    data = {prefix + "version": input_value(response, prefix + "version")}
    data.update({prefix + name: value for name, value in values.items()})
    return data


def test_county_official_reports_all_of_theirs_in_one_post(app, board):
    client = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    page = client.get("/reports/monthly?month=2025-07")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    listed = {int(pid) for pid in re.findall(r'name="p(\d+)-version"', html)}
    assert listed == {board[k].id for k in ("S1", "S2", "S4")}
    assert "永安甲" not in page_text(page).split("逐项填报")[1]
    data = {"month": "2025-07"}
    data.update(row_data(page, board["S1"], investment="150", funds_arrived="20", note="更正"))
    data.update(row_data(page, board["S2"], investment="300.5", funds_arrived="100", note="开始平整土地"))
    data.update(row_data(page, board["S4"], no_change="y"))
    response = client.post("/reports/monthly?month=2025-07", data=data)
    assert response.status_code == 302 and "month=2025-07" in response.headers["Location"]
    db.session.rollback()
    july = {r.project_id: r for r in db.session.scalars(select(ProgressReport).where(ProgressReport.month == JULY))}
    assert (july[board["S1"].id].investment, july[board["S1"].id].note) == (Decimal("150"), "更正")
    assert (july[board["S2"].id].investment, july[board["S2"].id].funds_arrived) == (Decimal("300.5"), Decimal("100"))
    assert (july[board["S4"].id].no_change, july[board["S4"].id].investment) == (True, Decimal("0"))
    assert db.session.scalar(select(func.count()).select_from(ProgressReport)
                             .where(ProgressReport.project_id == board["S1"].id)) == 1
    assert fresh(board["S2"]).investment_completed == Decimal("300.5")
    follow = client.get(response.headers["Location"])
    assert "已保存 3 个项目的 2025年07月 进展" in page_text(follow)
    assert scoreboard(follow)[0] == (1, "三元区", 3, 3)


def test_one_bad_row_saves_nothing_and_each_bad_row_shows_its_message(app, board):
    client = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    page = client.get("/reports/monthly?month=2025-07")
    data = {"month": "2025-07"}
    data.update(row_data(page, board["S1"], investment="999", note="本行无误"))
    data.update(row_data(page, board["S2"], investment="-5"))
    data.update(row_data(page, board["S4"], funds_arrived="20000"))  # total investment is 10000
    before = snapshot()
    response = client.post("/reports/monthly?month=2025-07", data=data)
    assert response.status_code == 400
    assert changed_tables(before, snapshot()) == []
    text = page_text(response)
    assert "有 2 个项目的填报需要修改，本次没有保存任何内容" in text
    assert "不能为负数" in text and "超过总投资" in text
    assert text.count("不能为负数") == 1 and text.count("到位资金累计 20000.00 万元，超过总投资 10000.00 万元") == 1
    assert input_value(response, f"p{board['S1'].id}-investment") == "999"  # what was typed is kept
    # Confirming the funds and fixing the negative figure then saves all three.
    data[f"p{board['S2'].id}-investment"] = "5"
    data[f"p{board['S4'].id}-confirm_funds"] = "y"
    assert client.post("/reports/monthly?month=2025-07", data=data).status_code == 302
    assert fresh(board["S4"]).funds_arrived == Decimal("20000")  # July's 10 replaced, not added to


def test_stale_row_is_a_conflict_and_nothing_is_saved(app, board, staff):
    client = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    page = client.get("/reports/monthly?month=2025-07")
    report(fresh(board["S2"]), JULY, staff, investment="1")  # someone else reports S2 meanwhile
    data = {"month": "2025-07"}
    data.update(row_data(page, board["S1"], investment="5"))
    data.update(row_data(page, board["S2"], investment="7"))
    before = snapshot()
    response = client.post("/reports/monthly?month=2025-07", data=data)
    assert response.status_code == 400 and "已被他人修改" in page_text(response)
    assert changed_tables(before, snapshot()) == []


def test_county_is_forced_and_leaders_cannot_post(app, board):
    official = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    other_page = new_client(app, make_user(Role.COMMERCE)).get("/reports/monthly?month=2025-07&county=350481")
    assert {int(p) for p in re.findall(r'name="p(\d+)-version"', other_page.get_data(as_text=True))} == {
        board["Y1"].id, board["Y2"].id}
    # The official asks for 永安市's page: they get their own county's rows.
    page = official.get("/reports/monthly?month=2025-07&county=350481")
    assert {int(p) for p in re.findall(r'name="p(\d+)-version"', page.get_data(as_text=True))} == {
        board[k].id for k in ("S1", "S2", "S4")}
    data = {"month": "2025-07", "county": YONGAN}
    data.update(row_data(other_page, board["Y2"], investment="50", note="越权填报"))
    before = snapshot()
    response = official.post("/reports/monthly?month=2025-07&county=350481", data=data)
    assert response.status_code == 400 and "没有填写任何项目的进展" in page_text(response)
    assert changed_tables(before, snapshot()) == []

    leader = new_client(app, make_user(Role.LEADER))
    before = snapshot()
    for url in ("/reports/monthly?month=2025-07&county=350404", "/reports/monthly?month=2025-07"):
        data = {"month": "2025-07", "county": SANYUAN, f"p{board['S2'].id}-investment": "5",
                f"p{board['S2'].id}-version": str(fresh(board["S2"]).version)}
        assert leader.post(url, data=data).status_code == 403
    assert changed_tables(before, snapshot()) == []
    commerce = new_client(app, make_user(Role.COMMERCE))
    assert commerce.post("/reports/monthly?month=2025-07", data={"month": "2025-07"}).status_code == 403
    assert commerce.get("/reports/monthly?month=2025-07&county=999999").status_code == 404


def test_report_page_posts_with_its_csrf_token_only(app, board, csrf_on):
    client = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    page = client.get("/reports/monthly?month=2025-07")
    data = {"month": "2025-07", **row_data(page, board["S2"], investment="12")}
    before = snapshot()
    assert client.post("/reports/monthly?month=2025-07", data=data).status_code == 400
    assert changed_tables(before, snapshot()) == []
    data["csrf_token"] = csrf_token_from(page.get_data(as_text=True))
    assert client.post("/reports/monthly?month=2025-07", data=data).status_code == 302
    assert fresh(board["S2"]).investment_completed == Decimal("12")
