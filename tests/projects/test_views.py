"""Project pages over HTTP: list, create, detail, versioned edits, bad input, stages, approvals, milestones."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import clock
from core.auth.models import Role
from core.db import db
from core.transaction import transaction
from core.validators import CREDIT_CODE_CHARS, credit_code_check_char
from parks.models import Industry, Park
from projects import rules, services
from projects.models import ApprovalItem, ApprovalItemType, ApprovalStatus, EventKind, Milestone, Project, ProjectEvent
from projects.stages import SignType, Stage
from tests.factories import make_project, make_user
from tests.projects.web import (
    changed_tables,
    fresh,
    input_value,
    new_client,
    page_text,
    path_of,
    project_form_data,
    project_names,
    reread,
    snapshot,
)

TODAY = clock.today()  # the app's today: China Standard Time, not the server's zone
SANYUAN, YONGAN = "350404", "350481"  # 三元区, 永安市
CODE = "2025-350404-26-03-00012A"  # a well-formed national project code of 三元区


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def park(name: str) -> Park:
    found = db.session.scalar(select(Park).where(Park.name == name))
    assert found is not None, name
    return found


def industry(code: str) -> Industry:
    return db.session.scalar(select(Industry).where(Industry.code == code))


def events_of(project_id: int, kind: EventKind | None = None) -> list[ProjectEvent]:
    reread()
    query = select(ProjectEvent).where(ProjectEvent.project_id == project_id).order_by(ProjectEvent.id)
    if kind is not None:
        query = query.where(ProjectEvent.kind == kind)
    return list(db.session.scalars(query))


def item_of(project_id: int, type_name: str) -> ApprovalItem:
    return db.session.scalar(select(ApprovalItem).join(ApprovalItemType).where(
        ApprovalItem.project_id == project_id, ApprovalItemType.name == type_name))


def totals_line(response) -> str:
    match = re.search(r"共 \S+ 个项目，总投资 \S+ 万元", page_text(response))
    assert match, "no totals line on the list page"
    return match.group(0)


@pytest.fixture
def commerce(project_ref):
    return make_user(Role.COMMERCE, display_name="商务局张三")


@pytest.fixture
def county_user(project_ref):
    return make_user(Role.COUNTY, county=SANYUAN, display_name="三元区李四")


@pytest.fixture
def as_commerce(app, commerce):
    return new_client(app, commerce)


@pytest.fixture
def as_county(app, county_user):
    return new_client(app, county_user)


def advance(project: Project, by, *targets: Stage) -> Project:
    """Move a project through stages with the services (the pages are tested elsewhere)."""
    for target in targets:
        with transaction():
            services.change_stage(project, target, version=project.version, by=by)
    return project


# --- the list ---------------------------------------------------------------------------------------

@pytest.fixture
def three_projects(commerce):
    """A: 三元区 fluorine, contract 2024, major, red. B: 永安 graphite, agreement 2025, yellow. C: 三元区 negotiating, green."""
    a = make_project(by=commerce, name="氟化工甲项目", investor_name="福建金氟化工有限公司", county_code=SANYUAN,
                     park_id=park("黄砂氟新材料循环经济产业园").id, industry_id=industry("fluorine").id,
                     sign_type=SignType.CONTRACT, sign_date=dt.date(2024, 5, 1), is_major=True,
                     total_investment=Decimal("12000.50"), planned_start=days(-10))
    b = make_project(by=commerce, name="石墨烯乙项目", investor_name="永安翔丰华新能源材料有限公司", county_code=YONGAN,
                     park_id=park("永安石墨和石墨烯产业园").id, industry_id=industry("graphite").id,
                     sign_type=SignType.AGREEMENT, sign_date=dt.date(2025, 3, 1),
                     total_investment=Decimal("3000"), planned_start=days(5))
    c = make_project(by=commerce, name="在谈丙项目", investor_name="厦门丙_100%科技有限公司", county_code=SANYUAN,
                     stage=Stage.NEGOTIATING, sign_type=None, sign_date=None, total_investment=Decimal("800"),
                     planned_start=days(100))
    return a, b, c


FILTERS = [
    ("", {"A", "B", "C"}, "共 3 个项目，总投资 15,800.50 万元"),
    ("county=350481", {"B"}, "共 1 个项目，总投资 3,000.00 万元"),
    ("park={huangsha}", {"A"}, "共 1 个项目，总投资 12,000.50 万元"),
    ("industry={graphite}", {"B"}, "共 1 个项目，总投资 3,000.00 万元"),
    ("stage=negotiating", {"C"}, "共 1 个项目，总投资 800.00 万元"),
    ("stage=signed", {"A", "B"}, "共 2 个项目，总投资 15,000.50 万元"),
    ("sign_type=agreement", {"B"}, "共 1 个项目，总投资 3,000.00 万元"),
    ("year=2024", {"A"}, "共 1 个项目，总投资 12,000.50 万元"),
    ("major=y", {"A"}, "共 1 个项目，总投资 12,000.50 万元"),
    ("light=red", {"A"}, "共 1 个项目，总投资 12,000.50 万元"),
    ("light=yellow", {"B"}, "共 1 个项目，总投资 3,000.00 万元"),
    ("light=green", {"C"}, "共 1 个项目，总投资 800.00 万元"),
    ("q=乙项目", {"B"}, "共 1 个项目，总投资 3,000.00 万元"),
    ("q=翔丰华", {"B"}, "共 1 个项目，总投资 3,000.00 万元"),  # investor name
    ("q=%25", {"C"}, "共 1 个项目，总投资 800.00 万元"),  # a literal %, not a wildcard
    ("q=_", {"C"}, "共 1 个项目，总投资 800.00 万元"),  # a literal _, not a wildcard
    ("county=350404&light=red&major=y", {"A"}, "共 1 个项目，总投资 12,000.50 万元"),
    ("county=350481&stage=negotiating", set(), "共 0 个项目，总投资 0.00 万元"),
    # Nonsense values are ignored, never a 500.
    ("county=999999&park=abc&year=x&stage=nope&light=blue&sort=evil&page=abc", {"A", "B", "C"},
     "共 3 个项目，总投资 15,800.50 万元"),
]


@pytest.mark.parametrize(("query", "letters", "totals"), FILTERS, ids=[f[0] or "none" for f in FILTERS])
def test_list_filters_search_and_totals(as_commerce, three_projects, query, letters, totals):
    names = {"A": "氟化工甲项目", "B": "石墨烯乙项目", "C": "在谈丙项目"}
    query = query.format(huangsha=park("黄砂氟新材料循环经济产业园").id, graphite=industry("graphite").id)
    response = as_commerce.get(f"/projects/?{query}")
    assert response.status_code == 200
    assert set(project_names(response)) == {names[letter] for letter in letters}
    assert totals_line(response) == totals


@pytest.mark.parametrize(("sort", "order"), [("investment", "ABC"), ("sign_date", "BAC"), ("light", "ABC")])
def test_list_sorts(as_commerce, three_projects, sort, order):
    names = {"A": "氟化工甲项目", "B": "石墨烯乙项目", "C": "在谈丙项目"}
    response = as_commerce.get(f"/projects/?sort={sort}")
    assert project_names(response) == [names[letter] for letter in order]


def test_list_by_name_sorts_by_name(as_commerce, commerce):
    for name in ("丙", "甲", "乙", "Alpha"):
        make_project(by=commerce, name=f"{name}项目")
    expected = sorted(f"{name}项目" for name in ("丙", "甲", "乙", "Alpha"))
    assert sorted(project_names(as_commerce.get("/projects/?sort=name"))) == expected
    assert project_names(as_commerce.get("/projects/?sort=name"))[0] == "Alpha项目"


def test_list_paginates_50_per_page_and_keeps_the_filters(as_commerce, commerce):
    for n in range(53):
        make_project(by=commerce, name=f"分页项目{n:02d}", county_code=SANYUAN, total_investment=Decimal("100"))
    make_project(by=commerce, name="永安不计入", county_code=YONGAN)
    first = as_commerce.get("/projects/?county=350404&sort=name")
    assert len(project_names(first)) == 50
    assert totals_line(first) == "共 53 个项目，总投资 5,300.00 万元"  # the whole filtered set, not the page
    assert "第 1 / 2 页" in page_text(first)
    next_link = re.search(r'<a class="page-link" href="([^"]+)">下一页</a>', first.get_data(as_text=True)).group(1)
    assert "county=350404" in next_link and "sort=name" in next_link and "page=2" in next_link
    second = as_commerce.get(next_link.replace("&amp;", "&"))
    assert project_names(second) == [f"分页项目{n:02d}" for n in range(50, 53)]
    assert totals_line(second) == "共 53 个项目，总投资 5,300.00 万元"
    assert set(project_names(first)).isdisjoint(project_names(second))
    # Out-of-range and odd page numbers land on a real page; odd query keys never break the links.
    assert project_names(as_commerce.get("/projects/?county=350404&sort=name&page=99")) == project_names(second)
    for odd in ("page=%C2%B2", "page=-3", "page=1e3", "_scheme=javascript", "endpoint=x", "_external=1"):
        response = as_commerce.get(f"/projects/?county=350404&sort=name&{odd}")
        assert response.status_code == 200, odd
        assert "javascript:" not in response.get_data(as_text=True), odd


def test_county_official_sees_own_county_red_then_yellow_first(app, as_county, commerce, county_user):
    green = make_project(by=commerce, name="绿灯项目", planned_start=days(60))
    make_project(by=commerce, name="黄灯项目", planned_start=days(3))
    red = make_project(by=commerce, name="红灯项目", planned_start=days(30))
    with transaction():
        services.add_milestone(red, name="用地报批", planned_date=days(-2), version=red.version, by=commerce)
        make_project(by=commerce, name="永安红灯项目", county_code=YONGAN, planned_start=days(-30))
    # Touch the green one last: "most recently updated" must not beat the lights.
    with transaction():
        services.update_project(green, {**{f: getattr(green, f) for f in rules.EDITABLE_FIELDS}, "notes": "刚更新"},
                                version=green.version, by=commerce)
    response = as_county.get("/projects/")
    assert response.status_code == 200
    assert project_names(response) == ["红灯项目", "黄灯项目", "绿灯项目"]
    assert totals_line(response) == "共 3 个项目，总投资 30,000.00 万元"
    page = response.get_data(as_text=True)
    assert "永安" not in re.search(r'<select[^>]*name="county".*?</select>', page, re.S).group(0)
    # Asking for another county shows nothing of it.
    assert "永安红灯项目" not in project_names(as_county.get("/projects/?county=350481"))
    assert "永安红灯项目" not in project_names(as_county.get("/projects/?q=永安"))
    # Everyone else defaults to the most recently updated first.
    everyone = project_names(new_client(app, commerce).get("/projects/"))
    assert everyone[0] == "绿灯项目" and "永安红灯项目" in everyone


# --- registering a project --------------------------------------------------------------------------

def new_project_form(**changes) -> dict[str, str]:
    data = {"version": "0", "name": "新登记项目", "investor_name": "福建新登记材料有限公司", "county_code": SANYUAN,
            "park_id": "", "industry_id": "", "chain_node_id": "", "total_investment": "8000", "sign_type": "contract",
            "sign_date": "2025-06-01", "investor_origin": "", "investor_type": "", "hooked_leader_id": "",
            "notes": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_commerce_registers_a_project(as_commerce, commerce):
    response = as_commerce.post("/projects/new", data=new_project_form(
        park_id=str(park("黄砂氟新材料循环经济产业园").id), industry_id=str(industry("fluorine").id),
        total_investment="1,234.5", is_major="y"))
    assert response.status_code == 302
    project = db.session.scalar(select(Project).where(Project.name == "新登记项目"))
    assert path_of(response) == f"/projects/{project.id}"
    assert (project.stage, project.county_code, project.total_investment, project.is_major, project.version) == \
        (Stage.SIGNED, SANYUAN, Decimal("1234.50"), True, 1)
    assert project.updated_by_id == commerce.id
    assert len(project.approvals) == len(services.APPROVAL_TYPES)
    created = {e.field for e in events_of(project.id, EventKind.CREATED)}
    assert {"stage", "name", "investor_name", "total_investment", "park_id"} <= created
    detail = page_text(as_commerce.get(path_of(response)))
    assert "已登记项目“新登记项目”。" in detail and "项目名称：（空） → 新登记项目" in detail


def test_new_project_can_start_as_negotiating(as_commerce):
    response = as_commerce.post("/projects/new", data=new_project_form(negotiating="1", sign_type="", sign_date=""))
    assert response.status_code == 302, page_text(response)
    assert db.session.scalar(select(Project.stage).where(Project.name == "新登记项目")) is Stage.NEGOTIATING


def test_county_officials_county_is_forced_on_new_projects(as_county, county_user):
    form = as_county.get("/projects/new").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="county_code".*?</select>', form, re.S).group(0)
    assert re.findall(r'<option[^>]*value="(\d+)"', select_html) == [SANYUAN]
    assert re.search(r'<option selected value="350404"|<option value="350404" selected', select_html)
    # Posting another county (or none) still registers the project in their own county.
    for county in (YONGAN, None):
        response = as_county.post("/projects/new", data=new_project_form(name=f"县区登记{county}", county_code=county))
        assert response.status_code == 302, page_text(response)
        assert db.session.scalar(select(Project.county_code).where(Project.name == f"县区登记{county}")) == SANYUAN
    assert db.session.scalar(select(func.count()).select_from(Project).where(Project.county_code == YONGAN)) == 0


def test_park_of_another_county_is_refused_on_new(as_county, as_commerce):
    yongan_park = park("永安石墨和石墨烯产业园")
    for client in (as_county, as_commerce):
        before = snapshot()
        response = client.post("/projects/new", data=new_project_form(park_id=str(yongan_park.id)))
        assert response.status_code == 400
        assert "园区“永安石墨和石墨烯产业园”不在三元区，请选择该县区的园区。" in page_text(response)
        assert changed_tables(before, snapshot()) == []


def test_new_project_ignores_fields_the_form_does_not_offer(as_commerce, commerce):
    other = make_user(Role.COMMERCE)
    response = as_commerce.post("/projects/new", data=new_project_form(
        stage="producing", id="4242", version="7", created_at="2000-01-01 00:00:00", updated_by_id=str(other.id),
        signed_as="agreement", contract_date="2000-01-01", drop_reason="x", paused_from="started"))
    assert response.status_code == 302
    project = db.session.scalar(select(Project).where(Project.name == "新登记项目"))
    assert project.id != 4242 and project.stage is Stage.SIGNED and project.version == 1
    assert project.updated_by_id == commerce.id and project.created_at.year == clock.now().year
    assert (project.signed_as, project.contract_date, project.drop_reason, project.paused_from) == \
        (SignType.CONTRACT, dt.date(2025, 6, 1), "", None)


# --- the detail page --------------------------------------------------------------------------------

def test_detail_shows_approvals_milestones_lights_and_timeline(app, as_commerce, commerce):
    project = make_project(by=commerce, name="详情项目", planned_start=days(40), planned_completion=days(400))
    with transaction():
        services.add_milestone(project, name="用地报批", planned_date=days(-3), version=project.version, by=commerce)
        services.add_milestone(project, name="设备进场", planned_date=days(7), version=project.version, by=commerce)
        services.update_approval(project, item_of(project.id, "环评"), status=ApprovalStatus.DONE, planned_date=None,
                                 done_date=days(-1), document_no="明环审〔2026〕8号", version=project.version, by=commerce)
    # A leader reads the page: every fact as text, and no form to change anything.
    leader_view = new_client(app, make_user(Role.LEADER)).get(f"/projects/{project.id}")
    assert leader_view.status_code == 200
    text = page_text(leader_view)
    for name in services.APPROVAL_TYPES:
        assert re.search(rf"{re.escape(name)} (未办|已办结) ", text), name
    assert f"环评 已办结 办结 {days(-1)} · 明环审〔2026〕8号" in text
    assert f"用地报批 逾期 计划 {days(-3)}" in text and f"设备进场 临期 计划 {days(7)}" in text
    assert f"开工 {days(40)} — 正常" in text
    assert "项目名称：（空） → 详情项目" in text  # the creation, in the timeline
    assert "环评·状态：未办 → 已办结" in text and f"节点“用地报批”·计划日期：（空） → {days(-3)}" in text
    assert "商务局张三" in text
    header = leader_view.get_data(as_text=True).split("<dl")[0]
    assert 'class="badge light-red"' in header  # the project's light is its worst milestone's
    assert '<form method="post" action="/projects/' not in leader_view.get_data(as_text=True)
    assert 'name="version"' not in leader_view.get_data(as_text=True)
    # An editor gets one form per approval item and milestone, each carrying the version.
    page = as_commerce.get(f"/projects/{project.id}").get_data(as_text=True)
    version = fresh(Project, project.id).version
    assert len(re.findall(rf'action="/projects/{project.id}/approvals/\d+"', page)) == len(services.APPROVAL_TYPES)
    assert len(re.findall(rf'action="/projects/{project.id}/milestones/\d+"', page)) == 2
    assert len(re.findall(rf'name="version" type="hidden" value="{version}"', page)) >= 2 + len(services.APPROVAL_TYPES)
    assert 'value="明环审〔2026〕8号"' in page


# --- editing: versions, conflicts, audit, mass assignment ---------------------------------------------

def test_edit_form_carries_the_version_hidden(as_commerce, commerce):
    project = make_project(by=commerce)
    with transaction():
        services.add_milestone(project, name="节点", planned_date=days(9), version=project.version, by=commerce)
    response = as_commerce.get(f"/projects/{project.id}/edit")
    assert response.status_code == 200
    tag = re.search(r'<input\b[^>]*\bname="version"[^>]*>', response.get_data(as_text=True)).group(0)
    assert 'type="hidden"' in tag and input_value(response, "version") == "2"
    assert input_value(response, "name") == project.name


@pytest.mark.parametrize("trick", ["missing", "in_query_only", "empty", "not_a_number", "blank_spaces"])
def test_edit_without_a_usable_version_is_400_and_saves_nothing(as_commerce, commerce, trick):
    project = make_project(by=commerce)
    data = project_form_data(project, name="不该保存")
    url = f"/projects/{project.id}/edit"
    if trick in ("missing", "in_query_only"):
        data.pop("version")
        if trick == "in_query_only":
            url += f"?version={project.version}"
    else:
        data["version"] = {"empty": "", "not_a_number": "abc", "blank_spaces": "  "}[trick]
    before = snapshot()
    response = as_commerce.post(url, data=data)
    assert response.status_code == 400
    assert changed_tables(before, snapshot()) == []


def test_stale_version_gets_the_conflict_page_and_overwrites_nothing(app, commerce, county_user):
    project = make_project(by=commerce, name="冲突项目", notes="原备注")
    first, second = new_client(app, commerce), new_client(app, county_user)
    loaded_by_second = second.get(f"/projects/{project.id}/edit")
    seen_version = input_value(loaded_by_second, "version")
    assert first.post(f"/projects/{project.id}/edit",
                      data=project_form_data(project, name="冲突项目（商务局改）")).status_code == 302
    # What the second user's browser posts: the form as loaded, with their own changes.
    mine = project_form_data(project, version=seen_version, name="冲突项目", total_investment="99999",
                             notes="县区的备注")
    before = snapshot()
    response = second.post(f"/projects/{project.id}/edit", data=mine)
    assert response.status_code == 409
    assert changed_tables(before, snapshot()) == []
    text = page_text(response)
    assert "内容已被他人修改" in text
    assert re.search(r"商务局张三 项目名称 冲突项目 冲突项目（商务局改）", text), "who changed which field since"
    assert "总投资（万元） 10000.00 99999.00" in text  # current value, then the user's own input
    assert "备注 原备注 县区的备注" in text
    assert "项目名称 冲突项目（商务局改） 冲突项目" in text
    saved = fresh(Project, project.id)
    assert (saved.name, saved.total_investment, saved.notes, saved.version) == \
        ("冲突项目（商务局改）", Decimal("10000.00"), "原备注", 2)
    # A version from the future is no better than a stale one.
    response = second.post(f"/projects/{project.id}/edit", data={**mine, "version": "9"})
    assert response.status_code == 409 and fresh(Project, project.id).notes == "原备注"


def test_stale_version_on_a_detail_action_gets_409(as_commerce, commerce):
    project = make_project(by=commerce)
    stale = project.version
    with transaction():
        services.add_milestone(project, name="先保存的节点", planned_date=days(9), version=project.version, by=commerce)
    before = snapshot()
    response = as_commerce.post(f"/projects/{project.id}/milestones",
                                data={"version": stale, "name": "后保存的节点", "planned_date": days(10)})
    assert response.status_code == 409
    assert "节点“先保存的节点”·计划日期" in page_text(response)
    assert changed_tables(before, snapshot()) == []


def test_successful_edit_writes_one_event_per_changed_field(as_commerce, commerce):
    project = make_project(by=commerce, name="审计项目", notes="")
    before_events = len(events_of(project.id))
    response = as_commerce.post(f"/projects/{project.id}/edit", data=project_form_data(
        project, name="审计项目（更名）", total_investment="12,345.60", notes="补充备注", liaison="王五"))
    assert response.status_code == 302 and path_of(response) == f"/projects/{project.id}"
    events = events_of(project.id)[before_events:]
    assert sorted((e.kind, e.field, e.old_value, e.new_value, e.version) for e in events) == sorted([
        (EventKind.UPDATED, "name", "审计项目", "审计项目（更名）", 2),
        (EventKind.UPDATED, "total_investment", "10000.00", "12345.60", 2),
        (EventKind.UPDATED, "notes", None, "补充备注", 2),
        (EventKind.UPDATED, "liaison", None, "王五", 2),
    ])
    assert all(e.user_id == commerce.id and e.at.tzinfo is not None for e in events)
    detail = as_commerce.get(f"/projects/{project.id}")
    text = page_text(detail)
    assert "已保存：项目名称、总投资（万元）、联络员、备注。" in text and "总投资（万元）：10000.00 → 12345.60" in text
    # Saving the same values again changes nothing and writes nothing.
    saved = fresh(Project, project.id)
    response = as_commerce.post(f"/projects/{project.id}/edit", data=project_form_data(saved), follow_redirects=True)
    assert "没有修改任何内容。" in page_text(response)
    assert len(events_of(project.id)) == before_events + 4 and fresh(Project, project.id).version == 2


def test_edit_ignores_fields_the_form_does_not_offer(as_county, commerce, county_user):
    other = make_user(Role.COMMERCE)
    project = make_project(by=commerce, sign_type=SignType.AGREEMENT)
    before = {attr.key: getattr(project, attr.key) for attr in Project.__mapper__.column_attrs}
    data = project_form_data(project, notes="县区补充", county_code=YONGAN, stage="producing", id="999",
                             created_at="2000-01-01T00:00:00", updated_by_id=str(other.id), signed_as="contract",
                             contract_date="2025-04-01", paused_from="started", drop_reason="想终止",
                             pause_reason="想暂缓", resume_expected="2030-01-01", project_id="999")
    response = as_county.post(f"/projects/{project.id}/edit", data=data)
    assert response.status_code == 302, page_text(response)
    saved = fresh(Project, project.id)
    after = {attr.key: getattr(saved, attr.key) for attr in Project.__mapper__.column_attrs}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"notes", "version", "updated_at", "updated_by_id"}
    assert (saved.notes, saved.updated_by_id, saved.county_code, saved.stage) == \
        ("县区补充", county_user.id, SANYUAN, Stage.SIGNED)
    assert db.session.get(Project, 999) is None


# --- bad input: a Chinese message, status 400 (or 404), nothing saved, never 500 ----------------------

_CREDIT_BODY = "91350402MA31K8Q5X"
BAD_CREDIT_CODE = _CREDIT_BODY + next(c for c in CREDIT_CODE_CHARS if c != credit_code_check_char(_CREDIT_BODY))


def _edit(project, **changes):
    return f"/projects/{project.id}/edit", project_form_data(project, **changes)


BAD_INPUT = {
    "stage skip": (lambda p, pa: (f"/projects/{p.id}/stage", {"version": p.version, "to_stage": "started"}),
                   400, "不能跳过阶段：下一阶段是“前期”。"),
    "unknown stage": (lambda p, pa: (f"/projects/{p.id}/stage", {"version": p.version, "to_stage": "flying"}),
                      400, "不是有效的选择"),
    "missing gate item": (lambda p, pa: (f"/projects/{pa.id}/stage", {"version": pa.version, "to_stage": "started"}),
                          400, "进入“开工”阶段还缺少：实际开工日期、前期手续“施工许可”已办结。"),
    "pause without reason": (lambda p, pa: (f"/projects/{p.id}/stage", {"version": p.version, "to_stage": "paused"}),
                             400, "暂缓项目必须填写原因。"),
    "drop without reason": (lambda p, pa: (f"/projects/{p.id}/stage", {"version": p.version, "to_stage": "dropped"}),
                            400, "终止项目必须填写原因。"),
    "back without reason": (lambda p, pa: (f"/projects/{pa.id}/stage", {"version": pa.version, "to_stage": "signed"}),
                            400, "退回到“签约”阶段必须填写原因。"),
    "actual start before sign date": (lambda p, pa: _edit(p, actual_start="2025-01-01"), 400,
                                      "实际开工日期不能早于签约日期。"),
    "completion before start": (lambda p, pa: _edit(p, actual_start="2025-06-01", actual_completion="2025-05-01"),
                                400, "实际竣工日期不能早于实际开工日期。"),
    "actual date in the future": (lambda p, pa: _edit(p, actual_start=str(days(3))), 400, "实际开工日期不能晚于今天。"),
    "negative money": (lambda p, pa: _edit(p, total_investment="-5"), 400, "不能为负数"),
    "money abc": (lambda p, pa: _edit(p, total_investment="abc"), 400, "请输入数字（单位：万元）。"),
    "money NaN": (lambda p, pa: _edit(p, fixed_asset_investment="NaN"), 400, "请输入数字（单位：万元）。"),
    "money too big": (lambda p, pa: _edit(p, total_investment="1e15"), 400, "不能超过 100,000,000 万元（一万亿元）"),
    "money past the exponent range": (lambda p, pa: _edit(p, total_investment="1e1000000"), 400,
                                      "不能超过 100,000,000 万元（一万亿元）"),
    "control character in a name": (lambda p, pa: _edit(p, name="项目\x0b名称"), 400,
                                    "“项目名称”含有不可见的控制字符（U+000B），请删除后重新输入。"),
    "NUL in the notes": (lambda p, pa: _edit(p, notes="备注\x00"), 400, "“备注”含有不可见的控制字符（U+0000）"),
    "a newline in a one-line field": (lambda p, pa: _edit(p, liaison="张三\n李四"), 400, "“联络员”含有不可见的控制字符"),
    "bidi override in the investor": (lambda p, pa: _edit(p, investor_name="正常\u202e司公限有"), 400,
                                      "“投资方（企业名称）”含有不可见的控制字符（U+202E）"),
    "year 1": (lambda p, pa: _edit(p, planned_start="0001-01-01"), 400, "日期须在 1990-01-01 到 2100-12-31 之间。"),
    "year 2101": (lambda p, pa: _edit(p, planned_completion="2101-01-01"), 400, "日期须在 1990-01-01 到 2100-12-31 之间。"),
    "milestone in 9999": (lambda p, pa: (f"/projects/{p.id}/milestones", {"version": p.version, "name": "x",
                                                                          "planned_date": "9999-12-31"}),
                          400, "日期须在 1990-01-01 到 2100-12-31 之间。"),
    "version past the integer range": (lambda p, pa: _edit(p, version=str(2**63)), 400, "表单有错误"),
    "project id past 64 bits": (lambda p, pa: (f"/projects/{2**63}/edit", project_form_data(p)), 404, "页面不存在"),
    "item id past 32 bits": (lambda p, pa: (f"/projects/{p.id}/approvals/{2**31}", {
        "version": p.version, "status": "in_progress"}), 404, "页面不存在"),
    "fixed part above total": (lambda p, pa: _edit(p, fixed_asset_investment="20000"), 400,
                               "固定资产投资不能大于总投资。"),
    "missing total": (lambda p, pa: _edit(p, total_investment=""), 400, "请填写总投资。"),
    "park in another county": (lambda p, pa: _edit(p, park_id=park("永安石墨和石墨烯产业园").id), 400,
                               "园区“永安石墨和石墨烯产业园”不在三元区，请选择该县区的园区。"),
    "unknown park": (lambda p, pa: _edit(p, park_id="987654"), 400, "不是有效的选择"),
    "malformed project code": (lambda p, pa: _edit(p, project_code="2025-350404-26-03-0001"), 400,
                               "项目代码格式应为 YYYY-RRRRRR-DD-TT-NNNNNC"),
    "project code outside Sanming": (lambda p, pa: _edit(p, project_code="2025-350102-26-03-00012A"), 400,
                                     "不是三明市的区划"),
    "over-long project code": (lambda p, pa: _edit(p, project_code="2025-350404-26-03-00012AB"), 400,
                               "项目代码不能超过 24 个字符。"),
    "bad credit code": (lambda p, pa: _edit(p, investor_credit_code=BAD_CREDIT_CODE), 400,
                        "统一社会信用代码校验位不正确，请核对。"),
    "over-long name": (lambda p, pa: _edit(p, name="长" * 201), 400, "项目名称不能超过 200 个字符。"),
    "over-long notes": (lambda p, pa: _edit(p, notes="备" * 4001), 400, "备注不能超过 4000 个字符。"),
    "blank name": (lambda p, pa: _edit(p, name="   "), 400, "请填写项目名称。"),
    "bad date": (lambda p, pa: _edit(p, planned_start="2025-13-45"), 400, "不是有效的日期值"),
    "project code dropped after 前期": (lambda p, pa: _edit(pa, project_code=""), 400,
                                      "项目进入“前期”阶段后必须填写项目代码。"),
    "milestone without date": (lambda p, pa: (f"/projects/{p.id}/milestones", {"version": p.version, "name": "x"}),
                               400, "请填写计划日期。"),
    "milestone over-long name": (lambda p, pa: (f"/projects/{p.id}/milestones", {
        "version": p.version, "name": "节" * 101, "planned_date": days(5)}), 400, "节点名称不能超过 100 个字符。"),
    "approval done without date": (lambda p, pa: (f"/projects/{p.id}/approvals/{item_of(p.id, '环评').id}", {
        "version": p.version, "status": "done"}), 400, "已办结的手续必须填写办结日期。"),
    "approval unknown status": (lambda p, pa: (f"/projects/{p.id}/approvals/{item_of(p.id, '环评').id}", {
        "version": p.version, "status": "bribed"}), 400, "不是有效的选择"),
    "contract before agreement": (lambda p, pa: (f"/projects/{pa.id}/convert", {
        "version": pa.version, "contract_date": "2025-01-01"}), 400, "合同签订日期不能早于协议签约日期。"),
    "convert a contract": (lambda p, pa: (f"/projects/{p.id}/convert", {"version": p.version, "contract_date": TODAY}),
                           400, "只有协议项目才能转为合同项目。"),
    "unknown project (edit)": (lambda p, pa: ("/projects/987654/edit", project_form_data(p)), 404, "页面不存在"),
    "unknown project (stage)": (lambda p, pa: ("/projects/987654/stage", {"version": 1, "to_stage": "approval"}),
                                404, "页面不存在"),
    "unknown approval item": (lambda p, pa: (f"/projects/{p.id}/approvals/987654", {
        "version": p.version, "status": "in_progress"}), 404, "页面不存在"),
    "unknown milestone": (lambda p, pa: (f"/projects/{p.id}/milestones/987654", {
        "version": p.version, "planned_date": days(5)}), 404, "页面不存在"),
    "another project's approval item": (lambda p, pa: (f"/projects/{p.id}/approvals/{item_of(pa.id, '环评').id}", {
        "version": p.version, "status": "in_progress"}), 404, "页面不存在"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_in_chinese_and_saves_nothing(as_commerce, commerce, case):
    contract = make_project(by=commerce, name="合同项目", sign_type=SignType.CONTRACT)
    agreement = make_project(by=commerce, name="协议项目", sign_type=SignType.AGREEMENT, project_code=CODE)
    advance(agreement, commerce, Stage.APPROVAL)
    build, status, message = BAD_INPUT[case]
    url, data = build(contract, agreement)
    before = snapshot()
    response = as_commerce.post(url, data=data)
    assert response.status_code == status, page_text(response)[:500]
    assert message in page_text(response)
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("typed", ["1,234.5", "1234.5万元", "1，234.5 万", " 1234.50 "])
def test_money_as_typed_in_ledgers_is_accepted(as_commerce, commerce, typed):
    project = make_project(by=commerce)
    url, data = _edit(project, total_investment=typed, fixed_asset_investment=typed)
    response = as_commerce.post(url, data=data)
    assert response.status_code == 302, page_text(response)
    saved = fresh(Project, project.id)
    assert saved.total_investment == Decimal("1234.50") and saved.fixed_asset_investment == Decimal("1234.50")


@pytest.mark.parametrize(("typed", "stored"), [("12.345", "12.35"), ("1e-999999999", "0.00"), ("0e-99999", "0.00"),
                                               ("-0", "0.00")])
def test_money_is_kept_to_the_cent_whatever_the_exponent(as_commerce, commerce, typed, stored):
    # PostgreSQL refuses a numeric like 1e-999999999 outright: the form must round it, not crash.
    project = make_project(by=commerce)
    url, data = _edit(project, fixed_asset_investment=typed)
    response = as_commerce.post(url, data=data)
    assert response.status_code == 302, page_text(response)
    assert fresh(Project, project.id).fixed_asset_investment == Decimal(stored)


@pytest.mark.parametrize("path", ["/projects/987654", "/projects/987654/edit"])
def test_unknown_project_pages_are_404(as_commerce, path):
    response = as_commerce.get(path)
    assert response.status_code == 404 and "页面不存在" in page_text(response)


# --- stages through their gates -------------------------------------------------------------------

def post_stage(client, project_id: int, to_stage: str, **extra):
    version = fresh(Project, project_id).version
    return client.post(f"/projects/{project_id}/stage", data={"version": version, "to_stage": to_stage, **extra})


def test_stage_moves_through_the_gates(as_county, commerce, county_user):
    project = make_project(by=commerce, name="开工项目", project_code=CODE)
    pid = project.id
    assert post_stage(as_county, pid, "approval").status_code == 302
    refused = post_stage(as_county, pid, "started")
    assert refused.status_code == 400
    assert "进入“开工”阶段还缺少：实际开工日期、前期手续“施工许可”已办结。" in page_text(refused)
    # The actual start date, through the edit form...
    url, data = _edit(fresh(Project, pid), actual_start=str(days(-2)))
    assert as_county.post(url, data=data).status_code == 302
    still = post_stage(as_county, pid, "started")
    assert still.status_code == 400 and "前期手续“施工许可”已办结" in page_text(still)
    assert "实际开工日期、" not in page_text(still)
    # ...and the construction permit, through the approval route.
    permit = item_of(pid, "施工许可")
    response = as_county.post(f"/projects/{pid}/approvals/{permit.id}", data={
        "version": fresh(Project, pid).version, "status": "done", "done_date": str(days(-3)),
        "document_no": "三建施〔2026〕12号"})
    assert response.status_code == 302
    assert fresh(ApprovalItem, permit.id).status is ApprovalStatus.DONE
    response = post_stage(as_county, pid, "started")
    assert response.status_code == 302
    assert fresh(Project, pid).stage is Stage.STARTED
    stage_events = [(e.old_value, e.new_value, e.user_id) for e in events_of(pid, EventKind.STAGE)]
    assert stage_events == [("签约", "前期", county_user.id), ("前期", "开工", county_user.id)]
    page = page_text(as_county.get(f"/projects/{pid}"))
    assert "已变更项目阶段。" in page and "阶段：前期 → 开工" in page and "施工许可·状态：未办 → 已办结" in page


def test_pause_and_drop_need_reasons(as_commerce, commerce):
    project = make_project(by=commerce, name="暂缓项目")
    pid = project.id
    response = post_stage(as_commerce, pid, "paused", reason="资金未到位")
    assert response.status_code == 400 and "暂缓项目必须填写预计恢复日期。" in page_text(response)
    response = post_stage(as_commerce, pid, "paused", reason="资金未到位", resume_date=str(TODAY))
    assert response.status_code == 400 and "预计恢复日期必须晚于今天。" in page_text(response)
    assert fresh(Project, pid).stage is Stage.SIGNED
    response = post_stage(as_commerce, pid, "paused", reason="资金未到位", resume_date=str(days(60)))
    assert response.status_code == 302
    paused = fresh(Project, pid)
    assert (paused.stage, paused.paused_from, paused.pause_reason, paused.resume_expected) == \
        (Stage.PAUSED, Stage.SIGNED, "资金未到位", days(60))
    assert "暂缓（自“签约”阶段）：资金未到位" in page_text(as_commerce.get(f"/projects/{pid}"))
    response = post_stage(as_commerce, pid, "approval")
    assert response.status_code == 400 and "只能恢复到暂缓前的“签约”阶段" in page_text(response)
    assert post_stage(as_commerce, pid, "signed").status_code == 302
    response = post_stage(as_commerce, pid, "dropped", reason="  ")
    assert response.status_code == 400 and "终止项目必须填写原因。" in page_text(response)
    assert post_stage(as_commerce, pid, "dropped", reason="投资方战略调整").status_code == 302
    dropped = fresh(Project, pid)
    assert (dropped.stage, dropped.drop_reason) == (Stage.DROPPED, "投资方战略调整")
    page = page_text(as_commerce.get(f"/projects/{pid}"))
    assert "已终止：投资方战略调整" in page and "原因：投资方战略调整" in page
    response = post_stage(as_commerce, pid, "signed", reason="恢复")
    assert response.status_code == 400 and "项目已终止，不能再变更阶段。" in page_text(response)


def test_convert_an_agreement_to_a_contract(as_commerce, commerce):
    project = make_project(by=commerce, sign_type=SignType.AGREEMENT)
    pid = project.id
    assert f'action="/projects/{pid}/convert"' in as_commerce.get(f"/projects/{pid}").get_data(as_text=True)
    response = as_commerce.post(f"/projects/{pid}/convert", data={"version": project.version,
                                                                  "contract_date": str(days(-1))})
    assert response.status_code == 302
    saved = fresh(Project, pid)
    assert (saved.sign_type, saved.signed_as, saved.contract_date) == (SignType.CONTRACT, SignType.AGREEMENT, days(-1))
    assert [(e.field, e.old_value, e.new_value) for e in events_of(pid, EventKind.CONVERTED)] == [
        ("sign_type", "协议", "合同"), ("contract_date", None, str(days(-1)))]
    page = as_commerce.get(f"/projects/{pid}")
    assert "已登记协议转合同。" in page_text(page) and f"（{days(-1)} 转为合同）" in page_text(page)
    assert f'action="/projects/{pid}/convert"' not in page.get_data(as_text=True)


def test_add_and_update_milestones(as_commerce, commerce):
    project = make_project(by=commerce)
    pid = project.id
    response = as_commerce.post(f"/projects/{pid}/milestones", data={
        "version": project.version, "name": "厂房主体封顶", "planned_date": str(days(-1)), "note": "一期"})
    assert response.status_code == 302
    milestone = db.session.scalar(select(Milestone).where(Milestone.project_id == pid))
    assert (milestone.name, milestone.planned_date, milestone.actual_date, milestone.note) == \
        ("厂房主体封顶", days(-1), None, "一期")
    page = page_text(as_commerce.get(f"/projects/{pid}"))
    assert "已添加节点。" in page and "厂房主体封顶 一期 逾期" in page
    response = as_commerce.post(f"/projects/{pid}/milestones/{milestone.id}", data={
        "version": fresh(Project, pid).version, "planned_date": str(days(-1)), "actual_date": str(TODAY)})
    assert response.status_code == 302
    assert fresh(Milestone, milestone.id).actual_date == TODAY
    labels = [(e.label, e.old_value, e.new_value) for e in events_of(pid, EventKind.MILESTONE)]
    assert labels == [("节点“厂房主体封顶”·计划日期", None, str(days(-1))),
                      ("节点“厂房主体封顶”·实际完成日期", None, str(TODAY))]
    page = page_text(as_commerce.get(f"/projects/{pid}"))
    assert "已保存节点。" in page and "厂房主体封顶 一期 正常" in page
    response = as_commerce.post(f"/projects/{pid}/milestones/{milestone.id}", data={
        "version": fresh(Project, pid).version, "planned_date": str(days(-1)), "actual_date": str(days(2))})
    assert response.status_code == 400 and "实际完成日期不能晚于今天。" in page_text(response)


def test_admin_adds_an_approval_type_to_every_project(app, commerce):
    admin = new_client(app, make_user(Role.ADMIN))
    projects = [make_project(by=commerce), make_project(by=commerce, county_code=YONGAN)]
    page = page_text(admin.get("/admin/approval-types/"))
    assert all(name in page for name in services.APPROVAL_TYPES)
    response = admin.post("/admin/approval-types/", data={"name": "  消防审查 "})
    assert response.status_code == 302
    assert "已添加前期手续“消防审查”，所有项目都已加上此项。" in page_text(admin.get(path_of(response)))
    for project in projects:
        assert item_of(project.id, "消防审查") is not None
        assert len(fresh(Project, project.id).approvals) == len(services.APPROVAL_TYPES) + 1
    assert "消防审查" in page_text(admin.get(f"/projects/{projects[0].id}"))
    later = make_project(by=commerce)
    assert item_of(later.id, "消防审查") is not None  # new projects carry it too
    for name, message in (("消防审查", "前期手续“消防审查”已存在。"), ("", "请填写名称。"),
                          ("手" * 65, "手续名称不能超过 64 个字符。")):
        before = snapshot()
        response = admin.post("/admin/approval-types/", data={"name": name})
        assert response.status_code == 400 and message in page_text(response)
        assert changed_tables(before, snapshot()) == []


def test_a_milestone_name_of_the_full_hundred_characters_saves(as_commerce, commerce):
    # Its timeline label quotes the name: a 64-character label column made this a 500 on PostgreSQL.
    project = make_project(by=commerce)
    response = as_commerce.post(f"/projects/{project.id}/milestones",
                                data={"version": project.version, "name": "节" * 100, "planned_date": days(5)})
    assert response.status_code == 302, page_text(response)[:300]
