"""What an administrator's park changes mean for projects: a retired park leaves the choices but stays on its
projects; a former name still finds the park in ledgers and search; a move to another county first lists the
projects it leaves behind, then keeps them for review, and a ledger naming the park under its new county imports."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from core.transaction import transaction
from parks import editing
from parks.models import ChainNode, Park
from projects.ledgers import importer
from projects.models import Project
from tests.factories import make_lead, make_project, make_user, park_data, rename_park
from tests.projects.ledgers.files import ledger_bytes, row
from tests.projects.web import fresh, input_value, new_client, page_text, project_form_data, project_names, snapshot

pytestmark = pytest.mark.usefixtures("project_ref")

RARE_EARTH = "三明稀土产业园"  # the policy names no county: seeded in 三元区, as a guess


def park(name: str) -> Park:
    db.session.rollback()
    return db.session.scalar(select(Park).filter_by(name=name))


def options(response, field: str) -> list[str]:
    """The option labels of a <select> on the page."""
    page = response.get_data(as_text=True)
    select_html = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", select_html)]


def run(data: bytes, user):
    try:
        with transaction():
            return importer.import_ledger(data, by=user, filename="台账.xlsx")
    except importer.SheetRefused as refused:
        return refused.outcome


# ---- Retired parks and chain nodes ----

def test_a_retired_park_leaves_every_choice_but_stays_on_its_project(app):
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    project = make_project(by=commerce, park_id=park(RARE_EARTH).id)
    editing.retire(park(RARE_EARTH), by=admin)
    db.session.commit()
    client = new_client(app, commerce)

    label = f"三元区 · {RARE_EARTH}"
    assert label not in options(client.get("/projects/new"), "park_id")
    assert label not in options(client.get("/leads/new"), "park_id")
    assert RARE_EARTH not in options(client.get("/projects/"), "park")
    assert RARE_EARTH not in page_text(client.get("/api/v1/parks.geojson"))

    assert f"三元区 / {RARE_EARTH} 园区已撤销" in page_text(client.get(f"/projects/{project.id}"))
    assert RARE_EARTH in options(client.get(f"/projects/?park={park(RARE_EARTH).id}"), "park")  # the park page's link
    assert project_names(client.get(f"/projects/?park={park(RARE_EARTH).id}")) == [project.name]
    assert label in options(client.get(f"/projects/{project.id}/edit"), "park_id")
    response = client.post(f"/projects/{project.id}/edit", data=project_form_data(project, name="稀土新材料项目"))
    assert response.status_code == 302 and fresh(Project, project.id).park_id == park(RARE_EARTH).id

    before = snapshot()
    response = client.post("/projects/new", data={**project_form_data(project, name="新项目"), "version": "0"})
    assert response.status_code == 400 and snapshot() == before  # not a choice for a new project


def test_a_lead_keeps_its_retired_park_in_its_own_edit_form(app):
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    lead = make_lead(by=commerce, park_id=park(RARE_EARTH).id)
    editing.retire(park(RARE_EARTH), by=admin)
    db.session.commit()
    assert f"三元区 · {RARE_EARTH}" in options(new_client(app, commerce).get(f"/leads/{lead.id}/edit"), "park_id")


def test_a_retired_chain_node_leaves_the_picker_but_not_its_projects_form(app):
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    node = db.session.scalar(select(ChainNode).filter_by(name="萤石"))
    project = make_project(by=commerce, industry_id=node.chain.industry_id, chain_node_id=node.id)
    editing.retire(node, by=admin)
    db.session.commit()
    client = new_client(app, commerce)
    label = "氟新材料 · 氟化工产业链 · 萤石"
    assert label not in options(client.get("/projects/new"), "chain_node_id")
    assert "氟新材料 · 氟化工产业链 · 氢氟酸" in options(client.get("/projects/new"), "chain_node_id")
    assert label in options(client.get(f"/projects/{project.id}/edit"), "chain_node_id")
    assert label not in options(client.get("/leads/new"), "chain_node_id")


# ---- Former names ----

def test_a_former_name_resolves_in_a_ledger_with_a_notice_and_in_the_search(app):
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    rename_park(park(RARE_EARTH), "三明稀土新材料产业园", by=admin)
    outcome = run(ledger_bytes([row(name="钕铁硼磁材项目", park=RARE_EARTH, industry="稀土")]), commerce)
    assert outcome.ok, outcome.report.problems
    assert f"园区“{RARE_EARTH}”已更名为“三明稀土新材料产业园”，按新名称导入（第4行）。" in outcome.report.notices
    project = db.session.scalar(select(Project).filter_by(name="钕铁硼磁材项目"))
    assert project.park.name == "三明稀土新材料产业园"

    client = new_client(app, commerce)
    for query in (RARE_EARTH, "稀土产业园", "稀土新材料产业园"):
        assert project_names(client.get("/projects/", query_string={"q": query})) == ["钕铁硼磁材项目"], query


def test_a_retired_park_in_a_ledger_is_resolved_with_a_notice(app):
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    editing.retire(park(RARE_EARTH), by=admin)
    db.session.commit()
    outcome = run(ledger_bytes([row(name="稀土永磁电机项目", park=RARE_EARTH, industry="稀土"),
                                row(name="稀土抛光粉项目", park=RARE_EARTH, industry="稀土", seq=2)]), commerce)
    assert outcome.ok, outcome.report.problems
    assert f"园区“{RARE_EARTH}”已撤销，仍按原园区导入（第4行、第5行）。" in outcome.report.notices
    assert {p.park_id for p in db.session.scalars(select(Project))} == {park(RARE_EARTH).id}


# ---- Moving a park to another county ----

def edit_form(park_row: Park, **changes) -> dict:
    return {key: "" if value is None else getattr(value, "value", value)
            for key, value in park_data(park_row, **changes).items()}


def test_the_done_when_a_park_moved_to_its_real_county_then_takes_that_countys_ledger(app):
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    ledger = ledger_bytes([row(name="沙县稀土催化材料项目", county="沙县区", park=RARE_EARTH, industry="稀土")])
    refused = run(ledger, commerce)
    assert not refused.ok and "园区不在沙县区（它属于三元区）。" in [p.message for p in refused.report.problems]

    client = new_client(app, admin)
    response = client.post(f"/parks/{park(RARE_EARTH).id}/edit", data=edit_form(park(RARE_EARTH), county_code="350405"))
    assert response.status_code == 302  # no project in the park yet: nothing to confirm
    assert park(RARE_EARTH).county_code == "350405"

    outcome = run(ledger, commerce)
    assert outcome.ok and outcome.count("create") == 1
    project = db.session.scalar(select(Project).filter_by(name="沙县稀土催化材料项目"))
    assert (project.county_code, project.park.name) == ("350405", RARE_EARTH)


def test_a_move_that_leaves_projects_behind_lists_them_first_and_keeps_them_for_review(app):
    admin, commerce = make_user(Role.ADMIN, display_name="王管理"), make_user(Role.COMMERCE)
    kept = make_project(by=commerce, name="三元稀土分离项目", park_id=park(RARE_EARTH).id)
    elsewhere = make_project(by=commerce, name="三元氟化工项目", park_id=park("吉口循环经济产业园").id)
    client = new_client(app, admin)
    url = f"/parks/{park(RARE_EARTH).id}/edit"

    before = snapshot()
    response = client.post(url, data=edit_form(park(RARE_EARTH), county_code="350405"))
    assert response.status_code == 400 and snapshot() == before  # nothing written until confirmed
    page = page_text(response)
    assert "园区调整到沙县区后，下列 1 个项目将不在园区所在县区" in page
    assert "项目 三元稀土分离项目 （三元区）" in page and elsewhere.name not in page
    assert f'href="/projects/{kept.id}"' in response.get_data(as_text=True)
    token = input_value(response, "confirm_move")

    response = client.post(url, data={**edit_form(park(RARE_EARTH), county_code="350405"), "confirm_move": token})
    assert response.status_code == 302
    assert park(RARE_EARTH).county_code == "350405"
    assert fresh(Project, kept.id).county_code == "350404"  # the project's own county does not change silently
    history = page_text(client.get(f"/parks/{park(RARE_EARTH).id}"))
    assert "王管理 · 修改" in history and "所在县区：三元区 → 沙县区" in history
    assert "列为待复核：项目“三元稀土分离项目”（三元区）" in history

    reader = new_client(app, commerce)
    park_page = page_text(reader.get(f"/parks/{park(RARE_EARTH).id}"))
    assert "待复核：1 个项目的县区与园区所在县区（沙县区）不一致" in park_page and "三元稀土分离项目 （三元区）" in park_page
    assert "待复核：园区“三明稀土产业园”已调整到沙县区" in page_text(reader.get(f"/projects/{kept.id}"))

    # Still editable while under review; a new mismatch is refused; moving it to a 三元区 park settles it.
    project = fresh(Project, kept.id)
    assert reader.post(f"/projects/{kept.id}/edit", data=project_form_data(project, liaison="张三")).status_code == 302
    other = make_project(by=commerce)
    response = reader.post(f"/projects/{other.id}/edit", data=project_form_data(other, park_id=park(RARE_EARTH).id))
    assert response.status_code == 400 and "不在三元区" in page_text(response)
    project = fresh(Project, kept.id)
    response = reader.post(f"/projects/{kept.id}/edit",
                           data=project_form_data(project, park_id=park("吉口循环经济产业园").id))
    assert response.status_code == 302
    assert "个项目的县区与园区所在县区" not in page_text(reader.get(f"/parks/{park(RARE_EARTH).id}"))


def test_a_confirmation_for_another_list_or_county_is_asked_again(app):
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    make_project(by=commerce, park_id=park(RARE_EARTH).id)
    client = new_client(app, admin)
    url = f"/parks/{park(RARE_EARTH).id}/edit"
    token = input_value(client.post(url, data=edit_form(park(RARE_EARTH), county_code="350405")), "confirm_move")
    make_project(by=commerce, name="确认之后新登记的项目", park_id=park(RARE_EARTH).id)

    before = snapshot()
    for county in ("350405", "350421"):  # the list grew; another county
        response = client.post(url, data={**edit_form(park(RARE_EARTH), county_code=county), "confirm_move": token})
        assert response.status_code == 400 and "确认之后新登记的项目" in page_text(response)
    assert snapshot() == before


def test_the_parks_history_names_the_projects_under_review_only_to_those_who_see_every_county(app):
    # The park page (and its change history) is open to every county; the review list names projects and leads.
    admin, commerce = make_user(Role.ADMIN), make_user(Role.COMMERCE)
    make_project(by=commerce, name="三元保密稀土项目", park_id=park(RARE_EARTH).id)
    client = new_client(app, admin)
    url = f"/parks/{park(RARE_EARTH).id}/edit"
    token = input_value(client.post(url, data=edit_form(park(RARE_EARTH), county_code="350405")), "confirm_move")
    assert client.post(url, data={**edit_form(park(RARE_EARTH), county_code="350405"),
                                  "confirm_move": token}).status_code == 302
    detail = f"/parks/{park(RARE_EARTH).id}"
    for role, county in ((Role.COUNTY, "350405"), (Role.COUNTY, "350481")):
        page = page_text(new_client(app, make_user(role, county=county)).get(detail))
        assert "列为待复核：1 个项目" in page and "三元保密稀土项目" not in page, county
    for reader in (commerce, make_user(Role.LEADER), admin):
        assert "列为待复核：项目“三元保密稀土项目”（三元区）" in page_text(new_client(app, reader).get(detail))
