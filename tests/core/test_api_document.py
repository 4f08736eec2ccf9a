"""The API's document and docs page: OpenAPI 3.1 from the code, in Chinese, served with no outside resource."""
from __future__ import annotations

import re

CJK = re.compile("[\u4e00-\u9fff]")
METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_document_is_openapi_31_with_bearer_tokens_and_problem_errors(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert CJK.search(document["info"]["title"]) and CJK.search(document["info"]["description"])
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "个人访问令牌（sm_ 开头）"}
    assert document["security"] == [{"bearerAuth": []}]
    assert set(document["components"]["responses"]["DEFAULT_ERROR"]["content"]) == {"application/problem+json"}


def test_every_operation_and_group_reads_in_chinese(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = [(path, method, operation) for path, item in document["paths"].items()
                  for method, operation in item.items() if method in METHODS]
    assert len(operations) >= 6
    for path, method, operation in operations:
        assert path.startswith("/api/v1/"), path
        assert CJK.search(operation.get("summary", "")), (method, path, operation.get("summary"))
        assert all(CJK.search(tag) for tag in operation["tags"]), (method, path, operation["tags"])
    assert all(CJK.search(tag["name"]) and CJK.search(tag.get("description", "")) for tag in document["tags"])


def test_a_nullable_field_is_a_31_type_list_and_examples_are_listed(client):
    document = client.get("/api/v1/openapi.json").get_json()
    fields = document["components"]["schemas"]["ProjectFields"]["properties"]
    assert fields["park_id"]["type"] == ["integer", "null"] and "nullable" not in fields["park_id"]
    assert fields["name"]["examples"] == ["年产5万吨氟化工新材料项目"]


def test_the_docs_page_loads_swagger_ui_from_the_app_itself(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "接口文档" in html and "/api/v1/openapi.json" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the docs page must load nothing from elsewhere"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        with client.get(f"/api/v1/docs/assets/{name}") as asset:
            assert asset.status_code == 200 and len(asset.data) > 10_000
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2f..%2fcore%2fconfig.py").status_code == 404
