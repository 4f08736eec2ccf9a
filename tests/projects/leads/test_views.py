"""Lead pages over HTTP: duplicate warning, conversion, red overdue rows, status and follow-ups, versions, scoping."""
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
from core.validators import credit_code_check_char
from parks.models import Industry, Park
from projects.leads import services as lead_services
from projects.leads.models import FollowUp, Lead, LeadStatus
from projects.models import Project
from projects.stages import SignType, Stage
from tests.factories import make_lead, make_project, make_user, sanming
from tests.projects.web import changed_tables, fresh, input_value, new_client, page_text, path_of, reread, snapshot

SANYUAN, YONGAN = "350404", "350481"  # 三元区, 永安市
DAY = dt.timedelta(days=1)


@pytest.fixture
def commerce(project_ref):
    return make_user(Role.COMMERCE, display_name="招商科张三")


@pytest.fixture
def county_user(project_ref):
    return make_user(Role.COUNTY, county=SANYUAN, display_name="三元区李四")


@pytest.fixture
def as_commerce(app, commerce):
    return new_client(app, commerce)


@pytest.fixture
def as_county(app, county_user):
    return new_client(app, county_user)


def credit_code(body: str) -> str:
    first17 = "91350400" + body
    return first17 + credit_code_check_char(first17)


def park(name: str) -> Park:
    found = db.session.scalar(select(Park).where(Park.name == name))
    assert found is not None, name
    return found


def count(model) -> int:
    reread()
    return db.session.scalar(select(func.count()).select_from(model))


def new_lead_form(**fields) -> dict[str, str]:
    """The 登记线索 form as a browser posts it (hidden version 0 included)."""
    return {"version": "0", "investor_name": "某投资方有限公司", "source": "visit", "county_code": SANYUAN, **fields}


def edit_form(lead: Lead, **changes) -> dict[str, str]:
    """The lead's edit form as a browser posts it back, hidden version included, with ``changes``."""
    data = {"version": str(lead.version)}
    for field in lead_services.LEAD_FIELD_LABELS:
        value = getattr(lead, field)
        data[field] = "" if value is None else str(value)
    data.update({field: str(value) for field, value in changes.items()})
    return data


def convert_form(lead: Lead, **changes) -> dict[str, str]:
    return {"version": str(lead.version), "name": f"{lead.investor_name}投资项目",
            "county_code": lead.county_code or SANYUAN,
            "total_investment": str(lead.estimated_investment or "1000"), "sign_type": "contract",
            "sign_date": clock.today().isoformat(), "signing_event_id": "", **changes}


def follow_up_form(**changes) -> dict[str, str]:
    return {"date": clock.today().isoformat(), "kind": "phone", "summary": "电话沟通投资意向", "next_step": "",
            "next_due": "", **changes}


def lead_row(response, lead: Lead) -> str:
    """The <tr> of ``lead`` on the list page."""
    page = response.get_data(as_text=True)
    for row in re.findall(r"<tr\b.*?</tr>", page, flags=re.S):
        if f'href="/leads/{lead.id}"' in row:
            return row
    raise AssertionError(f"lead {lead.id} is not listed")


def listed_ids(response) -> set[int]:
    return {int(i) for i in re.findall(r'<a href="/leads/(\d+)">', response.get_data(as_text=True))}


# duplicates -------------------------------------------------------------------------------------------

def test_duplicate_investor_warns_with_links_and_saves_nothing_until_a_reason_is_given(as_commerce, commerce):
    existing = make_lead(commerce, investor_name="福建三农（集团）股份有限公司", county_code=SANYUAN)
    project = make_project(commerce, name="三农含氟新材料项目", investor_name="福建三农集团有限公司")
    unrelated = make_lead(commerce, investor_name="三明金氟化工有限公司")
    before = snapshot()

    response = as_commerce.post("/leads/new", data=new_lead_form(investor_name="福建 三农"))
    assert response.status_code == 200
    page, text = response.get_data(as_text=True), page_text(response)
    assert "发现可能重复的投资方" in text and "请填写理由后再保存" in text
    assert f'href="/leads/{existing.id}"' in page and f'href="/projects/{project.id}"' in page
    assert f'href="/leads/{unrelated.id}"' not in page
    assert 'name="duplicate_reason"' in page  # the reason box is offered
    assert changed_tables(before, snapshot()) == []

    response = as_commerce.post("/leads/new", data=new_lead_form(investor_name="福建 三农",
                                                                  duplicate_reason="集团第二个项目：含氟医药中间体"))
    assert response.status_code == 302
    lead = db.session.scalars(select(Lead).order_by(Lead.id.desc())).first()
    assert path_of(response) == f"/leads/{lead.id}"
    assert (lead.investor_name, lead.duplicate_note) == ("福建 三农", "集团第二个项目：含氟医药中间体")
    text = page_text(as_commerce.get(f"/leads/{lead.id}"))
    assert "重复说明 集团第二个项目：含氟医药中间体" in text  # among the lead's facts
    assert "登记线索（重复说明：集团第二个项目：含氟医药中间体）" in text  # and in its history


def test_same_credit_code_warns_even_under_another_name(as_commerce, commerce):
    code = credit_code("MA2Y00011")
    existing = make_lead(commerce, investor_name="三明金氟化工有限公司", investor_credit_code=code)
    response = as_commerce.post("/leads/new", data=new_lead_form(investor_name="金氟新材料（三明）有限公司",
                                                                  investor_credit_code=code))
    assert response.status_code == 200 and f'href="/leads/{existing.id}"' in response.get_data(as_text=True)
    assert count(Lead) == 1


def test_a_new_lead_is_logged_and_shown(as_commerce, commerce):
    response = as_commerce.post("/leads/new", data=new_lead_form(
        investor_name="翔丰华新能源材料有限公司", county_code=YONGAN, park_id=park("永安石墨和石墨烯产业园").id,
        estimated_investment="25000", contact_person="李总", source="expo"))
    assert response.status_code == 302
    lead = db.session.scalars(select(Lead)).one()
    assert (lead.county_code, lead.owner_id, lead.source.label, lead.duplicate_note) == (YONGAN, commerce.id, "展会", "")
    text = page_text(as_commerce.get(path_of(response)))
    assert "翔丰华新能源材料有限公司" in text and "永安石墨和石墨烯产业园" in text and "登记线索" in text


def test_bad_new_lead_is_refused_and_saves_nothing(as_commerce, commerce):
    other = park("永安石墨和石墨烯产业园")
    response = as_commerce.post("/leads/new", data=new_lead_form(county_code=SANYUAN, park_id=other.id))
    assert response.status_code == 400
    assert f"园区“{other.name}”不在三元区。" in page_text(response)
    assert count(Lead) == 0


# conversion ---------------------------------------------------------------------------------------------

def test_conversion_creates_the_project_links_both_and_refuses_a_second_time(as_commerce, commerce):
    lead = make_lead(commerce, investor_name="福建永晶科技股份有限公司", county_code=SANYUAN,
                     park_id=park("黄砂氟新材料循环经济产业园").id,
                     industry_id=db.session.scalar(select(Industry.id).where(Industry.code == "fluorine")),
                     estimated_investment=Decimal("52000"))
    # The convert form offers the estimate as the total; the user may change it.
    assert input_value(as_commerce.get(f"/leads/{lead.id}"), "total_investment") == "52000.00"
    form = convert_form(lead, name="永晶含氟新材料项目", total_investment="60000")
    response = as_commerce.post(f"/leads/{lead.id}/convert", data=form)
    assert response.status_code == 302
    project = db.session.scalars(select(Project)).one()
    assert path_of(response) == f"/projects/{project.id}"
    assert (project.name, project.investor_name, project.park.name, project.industry.code, project.total_investment,
            project.stage, project.sign_type) == ("永晶含氟新材料项目", "福建永晶科技股份有限公司", "黄砂氟新材料循环经济产业园",
                                                  "fluorine", Decimal("60000"), Stage.SIGNED, SignType.CONTRACT)
    lead = fresh(Lead, lead.id)
    assert (lead.status, lead.project_id) == (LeadStatus.SIGNED, project.id)
    detail = as_commerce.get(f"/leads/{lead.id}")
    assert f'href="/projects/{project.id}"' in detail.get_data(as_text=True)
    assert re.search(r"已转为签约项目：\s*永晶含氟新材料项目", page_text(detail))
    assert f'action="/leads/{lead.id}/' not in detail.get_data(as_text=True)  # no forms on a signed lead
    assert f"#{lead.id} 福建永晶科技股份有限公司" in page_text(as_commerce.get(f"/projects/{project.id}"))

    before = snapshot()
    again = as_commerce.post(f"/leads/{lead.id}/convert", data=convert_form(lead, name="再转一次"))
    assert again.status_code == 400 and "该线索已经转为项目，不能重复转换。" in page_text(again)
    assert changed_tables(before, snapshot()) == []


def test_abandoned_lead_cannot_be_converted_over_http(as_commerce, commerce):
    lead = make_lead(commerce, estimated_investment=Decimal("5000"))
    with transaction():
        lead_services.change_lead_status(lead, LeadStatus.ABANDONED, reason="无意向", version=lead.version, by=commerce)
    before = snapshot()
    response = as_commerce.post(f"/leads/{lead.id}/convert", data=convert_form(fresh(Lead, lead.id)))
    assert response.status_code == 400 and "已放弃的线索不能转为项目。" in page_text(response)
    assert changed_tables(before, snapshot()) == []


def test_county_official_converts_their_own_lead_into_their_own_county(as_county, commerce, county_user):
    lead = make_lead(commerce, county_code=SANYUAN, estimated_investment=Decimal("5000"))
    response = as_county.post(f"/leads/{lead.id}/convert", data=convert_form(lead, county_code=YONGAN))
    # 永安市 is not among a 三元区 official's choices: the form refuses it, nothing is created.
    assert response.status_code == 400 and count(Project) == 0
    response = as_county.post(f"/leads/{lead.id}/convert", data=convert_form(fresh(Lead, lead.id)))
    assert response.status_code == 302
    assert db.session.scalars(select(Project)).one().county_code == SANYUAN


# response clocks on the list -------------------------------------------------------------------------------

def test_overdue_leads_are_red_on_the_list_and_the_detail(as_commerce, commerce, freeze):
    freeze(sanming(3, 10, 10))
    late, answered = make_lead(commerce, investor_name="迟迟未响应有限公司"), make_lead(commerce)
    freeze(sanming(3, 11, 23, 59))  # the first response is due by the end of the day after logging
    page = as_commerce.get("/leads/")
    assert "table-danger" not in lead_row(page, late) and "正常" in page_text(lead_row(page, late))

    freeze(sanming(3, 12))
    with transaction():
        lead_services.add_follow_up(answered, date=clock.today(), kind="phone", summary="已电话联系", next_step="",
                               next_due=None, by=commerce)
    page = as_commerce.get("/leads/")
    assert "table-danger" in lead_row(page, late) and "首次响应超时" in page_text(lead_row(page, late))
    assert "table-danger" not in lead_row(page, answered) and "正常" in page_text(lead_row(page, answered))
    assert listed_ids(as_commerce.get("/leads/?overdue=1")) == {late.id}
    assert "首次响应超时" in page_text(as_commerce.get(f"/leads/{late.id}"))
    assert "首次响应超时" not in page_text(as_commerce.get(f"/leads/{answered.id}"))


def test_list_deadlines_follow_the_configuration(app, as_commerce, commerce, freeze, monkeypatch):
    freeze(sanming(3, 10, 10))
    lead = make_lead(commerce)
    freeze(sanming(3, 12))
    assert "首次响应超时" in page_text(lead_row(as_commerce.get("/leads/"), lead))
    monkeypatch.setitem(app.config, "LEAD_FIRST_RESPONSE_DAYS", 2)
    monkeypatch.setitem(app.config, "LEAD_ASSESS_DAYS", 5)
    monkeypatch.setitem(app.config, "LEAD_FOLLOW_UP_DAYS", 20)
    page = as_commerce.get("/leads/")
    assert "首次响应超时" not in page_text(lead_row(page, lead))
    assert "登记后 2 天内首次响应，5 天内完成研判；在谈线索至少每 20 天跟进一次" in page_text(page)
    freeze(sanming(3, 13))
    assert "首次响应超时" in page_text(lead_row(as_commerce.get("/leads/"), lead))


def test_list_filters_by_status_owner_and_name(as_commerce, commerce):
    someone = make_user(Role.COMMERCE)
    mine = make_lead(commerce, investor_name="海斯福化工有限公司")
    theirs = make_lead(someone, investor_name="东莹化工有限公司")
    with transaction():
        lead_services.change_lead_status(theirs, LeadStatus.ASSESSING, version=theirs.version, by=someone)
    assert listed_ids(as_commerce.get("/leads/")) == {mine.id, theirs.id}
    assert listed_ids(as_commerce.get("/leads/?mine=1")) == {mine.id}
    assert listed_ids(as_commerce.get("/leads/?status=assessing")) == {theirs.id}
    assert listed_ids(as_commerce.get("/leads/?q=海斯福")) == {mine.id}
    assert listed_ids(as_commerce.get("/leads/?q=%25")) == set()  # a literal %, not a wildcard
    assert listed_ids(as_commerce.get("/leads/?status=nonsense")) == {mine.id, theirs.id}


# status and follow-ups -------------------------------------------------------------------------------------

def post_status(client, lead_id: int, target: str, reason: str = ""):
    return client.post(f"/leads/{lead_id}/status",
                       data={"version": fresh(Lead, lead_id).version, "status": target, "reason": reason})


def test_status_moves_over_http(as_commerce, commerce):
    lead = make_lead(commerce)
    before = snapshot()
    skipped = post_status(as_commerce, lead.id, "negotiating")
    assert skipped.status_code == 400 and "线索不能从“新线索”变为“在谈”。" in page_text(skipped)
    unexplained = post_status(as_commerce, lead.id, "abandoned")
    assert unexplained.status_code == 400 and "放弃线索必须填写原因。" in page_text(unexplained)
    assert changed_tables(before, snapshot()) == []

    assert post_status(as_commerce, lead.id, "assessing").status_code == 302
    assert post_status(as_commerce, lead.id, "negotiating").status_code == 302
    assert post_status(as_commerce, lead.id, "abandoned", "企业转投江西").status_code == 302
    lead = fresh(Lead, lead.id)
    assert (lead.status, lead.abandon_reason) == (LeadStatus.ABANDONED, "企业转投江西")
    text = page_text(as_commerce.get(f"/leads/{lead.id}"))
    assert "已放弃：企业转投江西" in text and "状态：在谈 → 放弃（企业转投江西）" in text
    assert "变更状态" not in text and "记录跟进" not in text  # final: no more actions offered
    final = post_status(as_commerce, lead.id, "negotiating")
    assert final.status_code == 400 and "线索不能从“放弃”变为“在谈”。" in page_text(final)


def test_follow_ups_over_http(as_commerce, commerce):
    lead = make_lead(commerce)
    logged = lead.created_at.astimezone(clock.LOCAL_TZ).date()
    before = snapshot()
    future = as_commerce.post(f"/leads/{lead.id}/follow-ups", data=follow_up_form(date=clock.today() + DAY))
    assert future.status_code == 400 and "跟进日期不能晚于今天。" in page_text(future)
    early = as_commerce.post(f"/leads/{lead.id}/follow-ups", data=follow_up_form(date=logged - DAY))
    assert early.status_code == 400 and "跟进日期不能早于线索登记日期。" in page_text(early)
    assert changed_tables(before, snapshot()) == []

    response = as_commerce.post(f"/leads/{lead.id}/follow-ups", data=follow_up_form(
        kind="visit", summary="走访企业总部，确认用地需求", next_step="报送用地方案", next_due=clock.today() + 5 * DAY))
    assert response.status_code == 302 and path_of(response) == f"/leads/{lead.id}"
    assert count(FollowUp) == 1
    text = page_text(as_commerce.get(f"/leads/{lead.id}"))
    assert "走访企业总部，确认用地需求" in text and "下一步：报送用地方案" in text
    assert "跟进（走访）：走访企业总部，确认用地需求" in text


# versions ------------------------------------------------------------------------------------------------

VERBS = {
    "edit": lambda lead: (f"/leads/{lead.id}/edit", edit_form(lead, contact_person="新联系人")),
    "status": lambda lead: (f"/leads/{lead.id}/status", {"version": str(lead.version), "status": "assessing",
                                                          "reason": ""}),
    "convert": lambda lead: (f"/leads/{lead.id}/convert", convert_form(lead)),
}


@pytest.mark.parametrize("verb", VERBS)
def test_lead_writes_without_a_version_are_400_and_with_a_stale_one_409(as_commerce, commerce, verb):
    lead = make_lead(commerce, estimated_investment=Decimal("5000"), contact_person="老联系人")
    url, data = VERBS[verb](lead)  # loaded at version 1...
    with transaction():
        lead_services.update_lead(lead, {**{f: getattr(lead, f) for f in lead_services.LEAD_FIELD_LABELS}, "referrer": "他人先改"},
                             version=lead.version, by=commerce)
    before = snapshot()
    missing = as_commerce.post(url, data={k: v for k, v in data.items() if k != "version"})
    assert missing.status_code == 400
    stale = as_commerce.post(url, data=data)
    assert stale.status_code == 409 and "该线索已被他人修改" in page_text(stale)
    assert changed_tables(before, snapshot()) == []
    url, data = VERBS[verb](fresh(Lead, lead.id))
    assert as_commerce.post(url, data=data).status_code == 302  # the same form at the current version saves
    assert fresh(Lead, lead.id).version == 3


def test_edit_saves_and_is_audited(as_commerce, commerce):
    lead = make_lead(commerce, contact_person="老联系人")
    response = as_commerce.post(f"/leads/{lead.id}/edit", data=edit_form(lead, contact_person="新联系人"))
    assert response.status_code == 302
    assert fresh(Lead, lead.id).contact_person == "新联系人"
    assert "联系人：老联系人 → 新联系人" in page_text(as_commerce.get(f"/leads/{lead.id}"))
    form = as_commerce.get(f"/leads/{lead.id}/edit")
    assert form.status_code == 200 and 'value="新联系人"' in form.get_data(as_text=True)


# county scoping and roles -----------------------------------------------------------------------------------

ROUTES = [
    ("get", "/leads/{id}", None),
    ("get", "/leads/{id}/edit", None),
    ("post", "/leads/{id}/edit", lambda lead: edit_form(lead, contact_person="越权")),
    ("post", "/leads/{id}/follow-ups", lambda lead: follow_up_form()),
    ("post", "/leads/{id}/status", lambda lead: {"version": str(lead.version), "status": "assessing", "reason": ""}),
    ("post", "/leads/{id}/convert", lambda lead: convert_form(lead, county_code=SANYUAN)),
]


def call(client, verb: str, url: str, data):
    return client.get(url) if verb == "get" else client.post(url, data=data)


def test_county_official_lists_only_their_own_countys_leads(as_county, commerce):
    own = make_lead(commerce, county_code=SANYUAN, investor_name="三元线索有限公司")
    other = make_lead(commerce, county_code=YONGAN, investor_name="永安线索有限公司")
    unassigned = make_lead(commerce, county_code=None, investor_name="未定县区线索有限公司")
    page = as_county.get("/leads/")
    assert page.status_code == 200 and listed_ids(page) == {own.id}
    assert "永安线索" not in page_text(page) and "未定县区线索" not in page_text(page)
    assert listed_ids(as_county.get("/leads/?q=线索")) == {own.id}
    assert {other.id, unassigned.id} <= listed_ids(new_client(as_county.application, commerce).get("/leads/"))


@pytest.mark.parametrize(("verb", "path", "form"), ROUTES, ids=[f"{v}:{p}" for v, p, _ in ROUTES])
@pytest.mark.parametrize("county", [YONGAN, None], ids=["other-county", "no-county"])
def test_county_official_gets_404_on_another_countys_lead(as_county, commerce, verb, path, form, county):
    lead = make_lead(commerce, county_code=county, estimated_investment=Decimal("5000"))
    before = snapshot()
    response = call(as_county, verb, path.format(id=lead.id), form(lead) if form else None)
    assert response.status_code == 404
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize(("verb", "path", "form"), ROUTES[:2], ids=["detail", "edit-form"])
def test_county_official_opens_their_own_countys_lead(as_county, commerce, verb, path, form):
    lead = make_lead(commerce, county_code=SANYUAN)
    assert call(as_county, verb, path.format(id=lead.id), None).status_code == 200


def test_county_official_logs_a_lead_for_their_own_county_only(as_county, county_user):
    response = as_county.post("/leads/new", data=new_lead_form(county_code=YONGAN))
    # Only their own county is offered; a forged other county is refused by the form.
    assert response.status_code == 400 and count(Lead) == 0
    assert as_county.post("/leads/new", data=new_lead_form(county_code=SANYUAN)).status_code == 302
    lead = db.session.scalars(select(Lead)).one()
    assert (lead.county_code, lead.owner_id) == (SANYUAN, county_user.id)


@pytest.fixture
def as_leader(app, project_ref):
    return new_client(app, make_user(Role.LEADER))


def test_leaders_read_every_lead(as_leader, commerce):
    leads = [make_lead(commerce, county_code=code) for code in (SANYUAN, YONGAN, None)]
    page = as_leader.get("/leads/")
    assert page.status_code == 200 and listed_ids(page) == {lead.id for lead in leads}
    assert "登记线索" not in page_text(page)
    for lead in leads:
        detail = as_leader.get(f"/leads/{lead.id}")
        assert detail.status_code == 200
        assert not re.search(r'action="/leads/\d+/', detail.get_data(as_text=True))  # no forms to post
        assert "编辑" not in page_text(detail)


WRITES = ROUTES[1:] + [("get", "/leads/new", None), ("post", "/leads/new", lambda lead: new_lead_form())]


@pytest.mark.parametrize(("verb", "path", "form"), WRITES, ids=[f"{v}:{p}" for v, p, _ in WRITES])
def test_every_lead_write_is_403_for_a_leader(as_leader, commerce, verb, path, form):
    lead = make_lead(commerce, county_code=SANYUAN, estimated_investment=Decimal("5000"))
    before = snapshot()
    response = call(as_leader, verb, path.format(id=lead.id), form(lead) if form else None)
    assert response.status_code == 403
    assert changed_tables(before, snapshot()) == []


def test_unknown_lead_is_404(as_commerce):
    assert as_commerce.get("/leads/999999").status_code == 404
    assert as_commerce.post("/leads/999999/status", data={"version": "1", "status": "assessing"}).status_code == 404


def test_anonymous_users_are_sent_to_login(client, project_ref):
    assert path_of(client.get("/leads/")) == "/login"
    assert path_of(client.post("/leads/new", data=new_lead_form())) == "/login"


def test_county_official_edits_a_lead_owned_by_commerce_staff_and_the_owner_stays(as_county, commerce):
    lead = make_lead(commerce, county_code=SANYUAN)
    page = as_county.get(f"/leads/{lead.id}/edit").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="owner_id".*?</select>', page, flags=re.S).group(0)
    assert re.search(rf'<option (selected value="{commerce.id}"|value="{commerce.id}" selected)', select_html)
    response = as_county.post(f"/leads/{lead.id}/edit", data=edit_form(lead, contact_phone="0598-1234567"))
    assert response.status_code == 302
    lead = fresh(Lead, lead.id)
    assert (lead.contact_phone, lead.owner_id) == ("0598-1234567", commerce.id)


def test_a_county_official_learns_only_that_another_countys_match_exists(as_county, as_commerce, commerce):
    code = credit_code("MA2Y00091")
    make_lead(commerce, investor_name="永安秘密投资有限公司", investor_credit_code=code, county_code=YONGAN)
    make_project(commerce, name="永安保密项目", investor_name="永安另一家有限公司", county_code=YONGAN)
    make_lead(commerce, investor_name="市局自管线索有限公司", county_code=None)
    for typed in ({"investor_name": "永安秘密投资"}, {"investor_name": "随便写的公司", "investor_credit_code": code},
                  {"investor_name": "永安另一家"}, {"investor_name": "市局自管线索"}):
        before = snapshot()
        page = as_county.post("/leads/new", data=new_lead_form(**typed))
        assert page.status_code == 200 and snapshot() == before, typed
        warning = page.get_data(as_text=True).split('<div class="alert alert-warning">')[1].split("</div>")[0]
        assert "已有其他县区跟进，请联系市商务局" in warning, typed
        # That line alone: no name, county, stage, status or id (link) of the other county's row.
        assert warning.count("<li>") == 1 and "签约" not in warning and "新线索" not in warning, typed
        for secret in ("永安秘密投资有限公司", "永安保密项目", "永安另一家有限公司", "市局自管线索有限公司", "永安市", "href"):
            assert secret not in warning, (typed, secret)
        assert "永安秘密投资有限公司" not in page_text(page)
    # Commerce staff see the match itself, by name.
    staff_page = page_text(as_commerce.post("/leads/new", data=new_lead_form(investor_name="永安另一家")))
    assert "永安保密项目" in staff_page and "已有其他县区跟进" not in staff_page


def test_a_county_official_sees_their_own_countys_match_by_name(as_county, commerce):
    make_project(commerce, name="三元本地项目", investor_name="三元本地投资有限公司", county_code=SANYUAN)
    text = page_text(as_county.post("/leads/new", data=new_lead_form(investor_name="三元本地投资")))
    assert "三元本地项目" in text and "已有其他县区跟进" not in text
