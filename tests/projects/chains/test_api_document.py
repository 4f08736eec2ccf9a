"""The chain map's JSON in the API document: listed for a token or the login session, and what it answers (valid
filters or ignored ones, any role) is what the document says."""
from __future__ import annotations

import pytest

from core.auth.models import Role
from core.forms import field_names
from projects.chains.forms import ChainFilterForm
from tests.core.api_document import document, problems
from tests.factories import bearer, make_token, make_user
from tests.projects.web import new_client

from .world import OWN, build


@pytest.fixture
def world(project_ref):
    return build()


def test_the_chain_map_is_in_the_document_for_a_token_or_the_login_session(client):
    operation = document(client)["paths"]["/api/v1/chains"]["get"]
    assert operation["tags"] == ["产业链"] and operation["summary"] == "产业链图谱"
    assert operation["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
    assert operation["responses"]["200"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ChainMap"}}}
    assert {p["name"] for p in operation["parameters"]} == field_names(ChainFilterForm)


@pytest.mark.parametrize("signed_in_by", ["token", "session"])
@pytest.mark.parametrize("role", [Role.COUNTY, Role.LEADER])
def test_what_it_answers_is_what_the_document_says(app, client, world, signed_in_by, role):
    spec = document(client)
    user = make_user(role)
    caller = new_client(app, user) if signed_in_by == "session" else client
    headers = bearer(make_token(user, read_only=True)) if signed_in_by == "token" else {}
    for query in ("", f"?county={OWN}&year=2025", "?county=999999&year=abc"):
        response = caller.get(f"/api/v1/chains{query}", headers=headers)
        assert response.status_code == 200 and response.mimetype == "application/json", query
        body = response.get_json()
        assert body["industries"] and problems(spec, "ChainMap", body) == [], query
    assert body["filters"] == {"county": None, "year": None}  # the ignored ones, as documented
