"""China time: timestamps stored in UTC are shown as China time, and days, months and "overdue" turn at local midnight.

The clock stands at 2026-11-30 23:30 UTC, which is 07:30 on 1 December in Sanming: the last day of a month in
UTC, the first of the next one where the users are."""
from __future__ import annotations

import datetime as dt
import io
import pathlib
import re

import openpyxl
import pytest
from sqlalchemy import select

from core import clock
from core.auth.models import Role
from core.db import UTCDateTime, db
from projects.ledgers import importer
from projects.models import Project
from projects.reports import services as report_services
from projects.reports.models import BlockerCategory, ProgressReport
from tests.factories import make_lead, make_project, make_user, sanming
from tests.projects.ledgers.files import ledger_bytes, row
from tests.projects.web import input_value, new_client, page_text, project_form_data

pytestmark = pytest.mark.usefixtures("project_ref")

MOMENT = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
SHOWN, UTC_SHOWN = "2026-12-01 07:30", "2026-11-30 23:30"
DECEMBER = dt.date(2026, 12, 1)
SANYUAN = "350404"
TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def at_moment(freeze):
    return freeze(MOMENT)


def shows_china_time(text: str) -> bool:
    return SHOWN in text and UTC_SHOWN not in text and "UTC" not in text


# the helpers ------------------------------------------------------------------------------------------------

def test_the_clock_helpers():
    assert clock.format_time(MOMENT) == SHOWN
    assert clock.local(MOMENT).utcoffset() == dt.timedelta(hours=8)
    assert clock.local_date(MOMENT) == DECEMBER and MOMENT.date() == dt.date(2026, 11, 30)
    assert clock.day_start(DECEMBER) == dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)
    assert clock.format_time(None) == "" and clock.local_date(None) is None
    with pytest.raises(ValueError, match="naive"):
        clock.format_time(dt.datetime(2026, 11, 30, 23, 30))


def test_today_and_this_month_are_chinas(at_moment):
    assert clock.today() == DECEMBER
    assert clock.parse_month(None) == DECEMBER and clock.parse_month("2026-12") == DECEMBER


# times on the pages ---------------------------------------------------------------------------------------

def test_project_timeline_and_the_conflict_page_show_china_time(app, at_moment):
    commerce, official = make_user(Role.COMMERCE), make_user(Role.COUNTY, county=SANYUAN)
    project = make_project(commerce, name="时区项目")
    first, second = new_client(app, commerce), new_client(app, official)
    detail = first.get(f"/projects/{project.id}").get_data(as_text=True)
    assert shows_china_time(detail.split("变更记录", 1)[1])

    seen = input_value(second.get(f"/projects/{project.id}/edit"), "version")
    assert first.post(f"/projects/{project.id}/edit", data=project_form_data(project, name="时区项目（改）")).status_code == 302
    conflict = second.post(f"/projects/{project.id}/edit", data=project_form_data(project, version=seen, notes="县区"))
    assert conflict.status_code == 409 and shows_china_time(page_text(conflict))


def test_lead_page_shows_china_time_and_its_day_is_chinas(app, at_moment):
    commerce = make_user(Role.COMMERCE)
    lead = make_lead(commerce)
    client = new_client(app, commerce)
    text = page_text(client.get(f"/leads/{lead.id}"))
    assert f"登记 {SHOWN}" in text and shows_china_time(text)
    # Logged on 1 December in Sanming: a follow-up dated 30 November would predate it.
    response = client.post(f"/leads/{lead.id}/follow-ups", data={
        "date": "2026-11-30", "kind": "phone", "summary": "电话沟通", "next_step": "", "next_due": ""})
    assert response.status_code == 400 and "跟进日期不能早于线索登记日期" in page_text(response)
    response = client.post(f"/leads/{lead.id}/follow-ups", data={
        "date": "2026-12-01", "kind": "phone", "summary": "电话沟通", "next_step": "", "next_due": ""})
    assert response.status_code == 302


def test_batch_list_and_the_repeat_import_message_show_china_time(app, at_moment):
    commerce = make_user(Role.COMMERCE)
    data = ledger_bytes([row()])
    importer.import_ledger(data, by=commerce, filename="台账.xlsx")
    db.session.commit()
    assert shows_china_time(page_text(new_client(app, commerce).get("/ledgers/batches")))
    with pytest.raises(importer.LedgerRefused) as refused:
        importer.import_ledger(data, by=commerce, filename="台账.xlsx")
    assert f"该文件已于 {SHOWN} 导入" in str(refused.value)


def test_admin_users_page_shows_last_login_in_china_time(app, at_moment):
    new_client(app, make_user(Role.COMMERCE, username="logged_in_once"))
    page = page_text(new_client(app, make_user(Role.ADMIN)).get("/admin/users"))
    assert re.search(rf"logged_in_once .*?{SHOWN}", page) and shows_china_time(page)


# months and days that follow China time --------------------------------------------------------------------

def test_a_report_saved_then_belongs_to_december(app, at_moment):
    project = make_project(make_user(Role.COMMERCE), county_code=SANYUAN, sign_date=dt.date(2026, 6, 1))
    client = new_client(app, make_user(Role.COUNTY, county=SANYUAN))
    assert "month=2026-12" in client.get("/").get_data(as_text=True)  # the to-do page asks for December's
    page = client.get("/reports/monthly")
    assert "月度进展 2026-12" in page.get_data(as_text=True)
    prefix = f"p{project.id}-"
    response = client.post("/reports/monthly", data={prefix + "version": input_value(page, prefix + "version"),
                                                     prefix + "investment": "100", prefix + "funds_arrived": "0"})
    assert response.status_code == 302 and "month=2026-12" in response.headers["Location"]
    db.session.rollback()
    saved = db.session.scalars(select(ProgressReport).where(ProgressReport.project_id == project.id)).all()
    assert [(r.month, r.reported_at) for r in saved] == [(DECEMBER, MOMENT)]
    assert "2026年12月" in page_text(client.get(f"/projects/{project.id}"))


def test_a_signing_dated_today_in_sanming_is_not_in_the_future(app, at_moment):
    client = new_client(app, make_user(Role.COMMERCE))
    response = client.post("/projects/new", data={
        "version": "0", "name": "今日签约项目", "investor_name": "福建今日签约有限公司", "county_code": SANYUAN,
        "total_investment": "8000", "sign_type": "contract", "sign_date": "2026-12-01"})
    assert response.status_code == 302
    project = db.session.scalar(select(Project).where(Project.name == "今日签约项目"))
    assert project.sign_date == DECEMBER


def test_a_date_is_never_shifted(app, at_moment):
    """签约日期 is a date: 1 December stays 1 December on the page, in the ledger export and in the briefing."""
    commerce = make_user(Role.COMMERCE)
    project = make_project(commerce, name="签约日期项目", sign_date=DECEMBER)
    db.session.expire_all()
    assert db.session.get(Project, project.id).sign_date == DECEMBER
    client = new_client(app, commerce)
    assert "2026-12-01" in page_text(client.get(f"/projects/{project.id}"))
    export = openpyxl.load_workbook(io.BytesIO(client.get("/ledgers/export").data)).active
    dates = {cell.value.date() for line in export.iter_rows() for cell in line if isinstance(cell.value, dt.datetime)}
    assert dates == {DECEMBER}
    briefing = openpyxl.load_workbook(io.BytesIO(client.get("/reports/briefing?month=2026-12").data))
    signed = list(briefing["本月签约"].iter_rows(values_only=True))
    assert dict(zip(signed[0], signed[1]))["签约日期"] == dt.datetime(2026, 12, 1)


def test_the_briefing_writes_when_a_blocker_was_raised_as_a_china_date(app, at_moment):
    commerce = make_user(Role.COMMERCE)
    project = make_project(commerce, name="有问题的项目")
    report_services.add_blocker(project, category=BlockerCategory.LAND, description="用地指标未落实", department="",
                                due_date=None, escalated=False, version=project.version, by=commerce)
    db.session.commit()
    book = openpyxl.load_workbook(io.BytesIO(new_client(app, commerce).get("/reports/briefing?month=2026-12").data))
    lines = list(book["未解决问题"].iter_rows(values_only=True))
    assert dict(zip(lines[0], lines[1]))["提出日期"] == dt.datetime(2026, 12, 1)


# overdue turns at local midnight (16:00 UTC) --------------------------------------------------------------------

def test_a_blocker_and_a_planned_date_turn_overdue_at_local_midnight(app, freeze):
    freeze(sanming(11, 20, 9))
    commerce = make_user(Role.COMMERCE)
    project = make_project(commerce, county_code=SANYUAN, planned_start=DECEMBER)
    report_services.add_blocker(project, category=BlockerCategory.LAND, description="用地指标未落实", department="",
                                due_date=DECEMBER, escalated=False, version=project.version, by=commerce)
    db.session.commit()
    official = make_user(Role.COUNTY, county=SANYUAN)

    freeze(dt.datetime(2026, 12, 1, 15, 59, tzinfo=dt.UTC))  # 23:59 on 1 December: due today, not late
    page = new_client(app, official).get(f"/projects/{project.id}").get_data(as_text=True)
    assert "已逾期" not in page and "light-red" not in page
    assert "已逾期" not in page_text(new_client(app, official).get("/"))

    freeze(dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC))  # midnight in Sanming, still 1 December in UTC
    page = new_client(app, official).get(f"/projects/{project.id}").get_data(as_text=True)
    assert "已逾期" in page and "light-red" in page
    assert "已逾期" in page_text(new_client(app, official).get("/"))


def test_a_leads_first_response_clock_counts_china_days(app, freeze):
    # Logged at 04:00 on 1 December in Sanming (30 November in UTC): answered in time through 2 December, China time.
    freeze(dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.UTC))
    commerce = make_user(Role.COMMERCE)
    lead = make_lead(commerce, investor_name="凌晨登记有限公司")
    freeze(dt.datetime(2026, 12, 2, 15, 59, tzinfo=dt.UTC))
    assert "首次响应超时" not in page_text(new_client(app, commerce).get(f"/leads/{lead.id}"))
    freeze(dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC))
    assert "首次响应超时" in page_text(new_client(app, commerce).get(f"/leads/{lead.id}"))


# every template writes timestamps through the filters ---------------------------------------------------------

def _timestamp_names() -> set[str]:
    return {column.key for table in db.metadata.tables.values() for column in table.columns
            if isinstance(column.type, UTCDateTime)}


def test_templates_render_timestamps_only_through_the_china_time_filters():
    names = _timestamp_names()
    assert {"at", "created_at", "updated_at", "last_login_at"} <= names
    attribute = re.compile(r"\.(" + "|".join(sorted(names)) + r")\b")
    raw = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for expression in re.findall(r"{{(.*?)}}", text, re.S):
            if attribute.search(expression) and not re.search(r"\|\s*local_(time|date)\b", expression):
                raw.append(f"{path.relative_to(TEMPLATES)}: {{{{{expression.strip()}}}}}")
        if re.search(r"astimezone|%H:%M|\bUTC\b", text):
            raw.append(f"{path.relative_to(TEMPLATES)}: formats a time itself")
    assert raw == []


def test_only_the_clock_converts_time_zones():
    root = TEMPLATES.parent
    offenders = [str(path.relative_to(root)) for package in ("core", "parks", "projects", "maps")
                 for path in (root / package).rglob("*.py")
                 if re.search(r"astimezone|LOCAL_TZ", path.read_text(encoding="utf-8"))
                 and path.relative_to(root).as_posix() not in {"core/clock.py", "core/db.py"}]
    assert offenders == []

