"""Each role's to-do page at `/`: commerce, county, leader and admin see their own sections, scoped."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from core import clock
from core.auth.models import Role, User
from core.db import db
from projects.leads import services as lead_services
from projects.leads.models import FollowUpKind
from projects.reports import services as report_services
from projects.stages import Stage
from tests.factories import make_lead, make_project, make_user
from tests.prepared import prepare
from tests.projects.web import new_client, page_text, path_of

NOW = dt.datetime(2025, 7, 15, 4, 0, tzinfo=dt.UTC)  # 2025-07-15, noon in Sanming
TODAY, JULY, MARCH = dt.date(2025, 7, 15), dt.date(2025, 7, 1), dt.date(2025, 3, 1)
SANYUAN, YONGAN = "350404", "350481"

OVERDUE_LEADS, FOLLOW_UPS, MISSING, LIT, HOOKED, BLOCKERS, BOARD, GAPS = (
    "超时的招商线索", "近期到期的跟进", "本月（7月）尚未填报进展", "红灯、黄灯项目", "我挂钩的项目", "未解决的存在问题",
    "本月月报完成情况", "资料缺项待补充")
ALL_SECTIONS = (OVERDUE_LEADS, FOLLOW_UPS, MISSING, LIT, HOOKED, BLOCKERS, BOARD, GAPS)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def sections(response) -> dict[str, str]:
    """Section title → the visible text of its card, for each card on the to-do page."""
    assert response.status_code == 200
    cards = response.get_data(as_text=True).split('<h2 class="h5">')[1:]
    found = {}
    for card in cards:
        title = re.match(r"\s*([^<]+?)\s*<", card).group(1)
        found[title] = page_text(card.split("</div></div></div>")[0])
    return found


def lead(owner, name: str, *, county: str = SANYUAN, age: dt.timedelta = dt.timedelta(days=5)):
    """A lead logged ``age`` before now (overdue from two days on: no first response)."""
    made = make_lead(owner, investor_name=name, county_code=county)
    made.created_at = made.status_changed_at = NOW - age
    db.session.commit()
    return made


def follow_up(made, by, next_due: dt.date, next_step: str):
    lead_services.add_follow_up(made, date=TODAY, kind=FollowUpKind.PHONE, summary="电话沟通投资意向",
                           next_step=next_step, next_due=next_due, by=by)
    db.session.commit()


def project(by, name: str, county: str = SANYUAN, **facts):
    made = make_project(by, name=name, county_code=county, sign_date=MARCH)
    for field, value in facts.items():
        setattr(made, field, value)
    db.session.commit()
    return made


def blocker(made, by, description: str, *, close: bool = False) -> None:
    added = report_services.add_blocker(made, category="land", description=description, department="市自然资源局",
                                 due_date=None, escalated=False, version=made.version, by=by)
    db.session.commit()
    if close:
        report_services.close_blocker(made, added, closing_note="已解决", version=made.version, by=by)
        db.session.commit()


def build_world() -> dict[str, int]:
    """Two commerce staff with leads; 三元区 and 永安市 projects, reported or not, lit or not, hooked or not,
    with open and closed blockers. Returns the users' ids by name."""
    w = {"alice": make_user(Role.COMMERCE, display_name="商务局张三"),
         "bob": make_user(Role.COMMERCE, display_name="商务局李四"),
         "leader": make_user(Role.LEADER, display_name="王市长"),
         "other_leader": make_user(Role.LEADER, display_name="李副市长")}
    alice, bob, leader = w["alice"], w["bob"], w["leader"]
    lead(alice, "张三超时线索投资方")
    lead(alice, "张三新线索投资方", age=dt.timedelta(hours=2))
    follow_up(lead(alice, "张三待跟进投资方", age=dt.timedelta(hours=2)), alice, TODAY + dt.timedelta(days=2),
              "寄送园区资料")
    follow_up(lead(alice, "张三远期跟进投资方", age=dt.timedelta(hours=2)), alice, TODAY + dt.timedelta(days=20),
              "月底回访")
    lead(bob, "李四超时线索投资方", county=YONGAN)
    follow_up(lead(bob, "李四待跟进投资方", county=YONGAN, age=dt.timedelta(hours=2)), bob, TODAY, "约见董事长")

    reported = project(alice, "三元已报项目")
    report_services.save_report(reported, JULY, investment=Decimal("10"), funds_arrived=None, note="", no_change=False,
                         version=reported.version, by=alice)
    db.session.commit()
    blocker(reported, alice, "三元已关闭问题", close=True)
    project(alice, "三元未报项目")
    project(alice, "永安未报项目", YONGAN)
    blocker(project(alice, "三元红灯项目", planned_start=dt.date(2025, 7, 1), hooked_leader_id=leader.id),
            alice, "三元用地问题")
    project(alice, "三元黄灯项目", planned_start=TODAY + dt.timedelta(days=10))
    project(alice, "三元绿灯项目", planned_start=dt.date(2025, 12, 1), hooked_leader_id=leader.id)
    blocker(project(alice, "永安红灯项目", YONGAN, planned_start=dt.date(2025, 6, 1), hooked_leader_id=leader.id),
            alice, "永安环评问题")
    blocker(project(alice, "李副市长项目", planned_start=dt.date(2025, 5, 1), hooked_leader_id=w["other_leader"].id),
            alice, "他人挂钩问题")
    project(alice, "三元终止项目", planned_start=dt.date(2025, 5, 1), stage=Stage.DROPPED, drop_reason="撤资")
    return {name: user.id for name, user in w.items()}


@pytest.fixture(scope="module")
def prepared_world(app, reference):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(clock, "now", lambda: NOW)
        return prepare(app, build_world, *reference)


@pytest.fixture
def world(prepared_world) -> dict[str, User]:
    """The world's users by name, its rows put back for this test."""
    user_ids, rows = prepared_world
    rows.insert()
    return {name: db.session.get(User, user_id) for name, user_id in user_ids.items()}


def assert_lists(section: str, shown: tuple[str, ...], hidden: tuple[str, ...]) -> None:
    for name in shown:
        assert name in section, name
    for name in hidden:
        assert name not in section, name


def test_login_lands_on_the_to_do_page(auth, world):
    assert path_of(auth.login(world["alice"])) == "/"


def test_commerce_sees_their_own_overdue_leads_and_follow_ups_due(app, world):
    found = sections(new_client(app, world["alice"]).get("/"))
    assert set(found) == {OVERDUE_LEADS, FOLLOW_UPS}
    assert_lists(found[OVERDUE_LEADS], ("张三超时线索投资方", "首次响应超时"),
                 ("李四超时线索投资方", "张三新线索投资方", "张三待跟进投资方"))
    assert_lists(found[FOLLOW_UPS], ("张三待跟进投资方", "寄送园区资料", "期限 2025-07-17"),
                 ("张三远期跟进投资方", "李四待跟进投资方", "张三超时线索投资方"))


def test_county_official_sees_their_countys_missing_reports_lights_blockers_and_leads(app, world):
    official = make_user(Role.COUNTY, county=SANYUAN)
    found = sections(new_client(app, official).get("/"))
    assert set(found) == {OVERDUE_LEADS, MISSING, LIT, BLOCKERS, GAPS}
    assert_lists(found[MISSING], ("三元未报项目", "三元红灯项目", "三元黄灯项目", "三元绿灯项目", "李副市长项目", "去填报"),
                 ("三元已报项目", "永安未报项目", "永安红灯项目", "三元终止项目"))
    assert re.search(r"尚未填报进展 5\b", found[MISSING])
    lit = found[LIT]
    assert_lists(lit, ("三元红灯项目", "三元黄灯项目", "李副市长项目"),
                 ("三元绿灯项目", "永安红灯项目", "三元已报项目", "三元未报项目", "三元终止项目"))
    assert lit.index("三元红灯项目") < lit.index("三元黄灯项目") and lit.index("李副市长项目") < lit.index("三元黄灯项目")
    assert re.search(r"逾期 三元红灯项目", lit) and re.search(r"临期 三元黄灯项目", lit)
    assert_lists(found[BLOCKERS], ("三元用地问题", "他人挂钩问题"), ("永安环评问题", "三元已关闭问题"))
    assert_lists(found[OVERDUE_LEADS], ("张三超时线索投资方",), ("李四超时线索投资方",))


def test_county_official_of_another_county_sees_only_theirs(app, world):
    found = sections(new_client(app, make_user(Role.COUNTY, county=YONGAN)).get("/"))
    assert_lists(found[MISSING], ("永安未报项目", "永安红灯项目"), ("三元未报项目",))
    assert_lists(found[LIT], ("永安红灯项目",), ("三元红灯项目", "李副市长项目"))
    assert_lists(found[BLOCKERS], ("永安环评问题",), ("三元用地问题", "他人挂钩问题"))
    assert_lists(found[OVERDUE_LEADS], ("李四超时线索投资方",), ("张三超时线索投资方",))


def test_leader_sees_the_projects_hooked_to_them_with_lights_and_blockers(app, world):
    found = sections(new_client(app, world["leader"]).get("/"))
    assert set(found) == {HOOKED, BLOCKERS}
    hooked = found[HOOKED]
    assert_lists(hooked, ("三元红灯项目", "三元绿灯项目", "永安红灯项目"), ("李副市长项目", "三元黄灯项目", "三元未报项目"))
    assert re.search(r"逾期 三元红灯项目", hooked) and re.search(r"逾期 永安红灯项目", hooked)
    assert re.search(r"正常 三元绿灯项目", hooked)
    assert hooked.index("三元绿灯项目") > max(hooked.index("三元红灯项目"), hooked.index("永安红灯项目"))
    assert_lists(found[BLOCKERS], ("三元用地问题", "永安环评问题"), ("他人挂钩问题", "三元已关闭问题"))
    lonely = sections(new_client(app, make_user(Role.LEADER)).get("/"))
    assert "您目前没有挂钩的项目" in lonely[HOOKED] and "没有未解决的问题" in lonely[BLOCKERS]


def test_admin_sees_every_section_for_every_county(app, world):
    found = sections(new_client(app, make_user(Role.ADMIN)).get("/"))
    assert set(found) == set(ALL_SECTIONS) - {HOOKED}
    assert_lists(found[OVERDUE_LEADS], ("张三超时线索投资方", "李四超时线索投资方"), ("张三新线索投资方",))
    assert_lists(found[FOLLOW_UPS], ("张三待跟进投资方", "李四待跟进投资方"), ("张三远期跟进投资方",))
    assert_lists(found[MISSING], ("三元未报项目", "永安未报项目"), ("三元已报项目", "去填报"))
    assert_lists(found[LIT], ("三元红灯项目", "永安红灯项目", "三元黄灯项目", "李副市长项目"), ("三元绿灯项目", "三元终止项目"))
    assert_lists(found[BLOCKERS], ("三元用地问题", "永安环评问题", "他人挂钩问题"), ("三元已关闭问题",))
    assert "1 三元区 1/6" in found[BOARD] and "2 永安市 0/2" in found[BOARD]


def test_empty_to_do_pages_say_so(app, project_ref):
    found = sections(new_client(app, make_user(Role.COUNTY, county=SANYUAN)).get("/"))
    assert "没有超时的线索" in found[OVERDUE_LEADS] and "本月应报项目已全部填报" in found[MISSING]
    assert "没有亮红灯或黄灯的项目" in found[LIT] and "没有未解决的问题" in found[BLOCKERS]
    found = sections(new_client(app, make_user(Role.COMMERCE)).get("/"))
    assert "三天内没有到期的跟进" in found[FOLLOW_UPS]
