"""The API document in tests: fetching it, and what in an answer breaks one of its schemas."""
from __future__ import annotations

import jsonschema_rs


def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def problems(document: dict, name: str, body) -> list[str]:
    """What in ``body`` breaks the document's schema ``name`` (JSON Schema 2020-12, as OpenAPI 3.1 says)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return [f"{error.instance_path}: {error.message}"
            for error in jsonschema_rs.Draft202012Validator(schema).iter_errors(body)]
