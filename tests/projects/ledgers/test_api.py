"""The ledger export in the API: the page's workbook, its county scope, and problem+json errors."""
from __future__ import annotations

import io

import openpyxl
import pytest

from core.auth.models import Role
from tests.factories import bearer, make_project, make_token, make_user
from tests.projects.web import new_client

pytestmark = pytest.mark.usefixtures("project_ref")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEM = "application/problem+json"


@pytest.fixture
def projects():
    commerce = make_user(Role.COMMERCE)
    make_project(by=commerce, name="三元项目", county_code="350404")
    make_project(by=commerce, name="永安项目", county_code="350481")
    make_project(by=commerce, name="沙县项目", county_code="350405")


def sheet_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.data)).active


def names(response) -> set[str]:
    """The project names: column B below the two header rows, above the 合计 row ("N 个项目")."""
    return {cell.value for cell in sheet_of(response)["B"][3:-1]}


def export(client, user, query: str = "", *, read_only: bool = False):
    return client.get(f"/api/v1/ledgers/export{query}", headers=bearer(make_token(user, read_only=read_only)))


@pytest.mark.parametrize("role", [Role.COMMERCE, Role.LEADER, Role.ADMIN])
@pytest.mark.parametrize("read_only", [False, True])
def test_city_roles_export_the_whole_city_or_one_county(client, projects, role, read_only):
    user = make_user(role)
    everything = export(client, user, read_only=read_only)
    assert names(everything) == {"三元项目", "永安项目", "沙县项目"}
    assert everything.headers["Content-Disposition"] == "attachment; filename=ledger-all.xlsx"
    one = export(client, user, "?county=永安市", read_only=read_only)
    assert names(one) == {"永安项目"} and sheet_of(one)["A1"].value.startswith("三明市永安市")
    assert one.headers["Content-Disposition"] == "attachment; filename=ledger-350481.xlsx"


def test_an_old_countys_name_or_code_means_its_successor(client, projects):
    user = make_user(Role.COMMERCE)
    assert names(export(client, user, "?county=350427")) == {"沙县项目"}  # 沙县 became 沙县区 in 2021


def test_a_county_officials_export_holds_only_their_county(client, projects):
    official = make_user(Role.COUNTY, county="350404")
    for query in ("", "?county=350404", "?county=350481", "?county=永安市"):
        response = export(client, official, query)
        assert names(response) == {"三元项目"}, query
        assert response.headers["Content-Disposition"] == "attachment; filename=ledger-350404.xlsx"


def test_the_workbook_is_the_ledger_pages(app, client, projects):
    def cells(sheet) -> list[tuple]:
        return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]

    for user, query in ((make_user(Role.COMMERCE), "?county=350481"), (make_user(Role.COUNTY, county="350404"), "")):
        page = new_client(app, user).get(f"/ledgers/export{query}")
        assert cells(sheet_of(export(client, user, query))) == cells(sheet_of(page))


def test_an_unknown_county_is_a_422_problem_in_chinese(client, projects):
    response = export(client, make_user(Role.COMMERCE), "?county=火星县")
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"] == {"county": "未知的县区：火星县。"}
    too_long = export(client, make_user(Role.COUNTY), "?county=" + "县" * 21)
    assert too_long.status_code == 422 and set(too_long.get_json()["errors"]) == {"county"}


def test_no_token_is_401_and_the_export_takes_no_writes(client, auth, projects):
    for headers in ({}, {"Authorization": "Bearer sm_nope"}):
        response = client.get("/api/v1/ledgers/export", headers=headers)
        assert response.status_code == 401 and response.mimetype == PROBLEM
    auth.login(make_user(Role.ADMIN))
    assert client.get("/api/v1/ledgers/export").status_code == 401  # a token-only resource: no session
    key = bearer(make_token(make_user(Role.ADMIN)))
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/api/v1/ledgers/export", headers=key)
        assert response.status_code == 405 and response.mimetype == PROBLEM


def test_the_document_names_the_workbooks_content_type(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/ledgers/export"]["get"]
    assert list(operation["responses"]["200"]["content"]) == [XLSX]
    assert [parameter["name"] for parameter in operation["parameters"]] == ["county"]
