"""Every route under /api/v1 is in the API document with each of its methods (a view only the code knows of is
undocumented, and schemathesis would never call it)."""
from __future__ import annotations

import re

UNDOCUMENTED = {"api-docs.openapi_json", "api_docs.docs", "api_docs.asset"}  # the document and its page


def test_every_api_route_and_method_is_documented(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    routes = [rule for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.endpoint not in UNDOCUMENTED]
    assert {"/api/v1/chains", "/api/v1/parks.geojson", "/api/v1/projects.geojson", "/api/v1/counties.geojson"} <= {
        rule.rule for rule in routes}
    for rule in routes:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in paths, f"{rule.endpoint}: {path} is not in the document"
        assert {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}} <= set(paths[path]), rule.endpoint
