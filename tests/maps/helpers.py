"""Maps test helpers: logged-in clients by role, project fixtures and the GeoJSON blobs read back out of a map."""
from __future__ import annotations

import json
import re

from core.auth.models import Role
from maps.folium_map import PROJECT_ROW
from tests.factories import make_project, make_user
from tests.projects.web import new_client

OWN_COUNTY, OTHER_COUNTY = "350404", "350481"  # 三元区 (the county official's), 永安市
URL_RE = re.compile(r"https?://", re.I)


def client_as(app, role: Role, **overrides):
    """A client of its own, logged in as a new user of ``role`` (a county official sits in 三元区)."""
    user = make_user(role, **overrides)
    return new_client(app, user), user


def blobs(page: str, kind: str) -> list[dict]:
    """Every blob the map hands to sanmingMap.<kind>(...), one per layer, decoded: the parks' FeatureCollections,
    the projects' rows of one stage each."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(rf"sanmingMap\.{kind}\(", page):
        collection, _end = decoder.raw_decode(page, match.end())
        found.append(collection)
    return found


def features(page: str, kind: str) -> list[dict]:
    """The features the map draws, as its script makes them (the projects' from their rows)."""
    if kind == "parks":
        return [feature for collection in blobs(page, kind) for feature in collection["features"]]
    return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [row[1], row[2]]},
             "properties": {**dict(zip(PROJECT_ROW, row)), "stage": layer["stage"]}}
            for layer in blobs(page, kind) for row in layer["rows"]]


def project_ids(page: str) -> set[int]:
    return {feature["properties"]["id"] for feature in features(page, "projects")}


def layer_names(page: str) -> set[str]:
    """The overlay names the map's layer control lists."""
    overlays = page.split("overlays :", 1)[1].split("}", 1)[0]
    return {json.loads(name) for name in re.findall(r'^\s*("(?:[^"\\]|\\.)*")\s*:', overlays, re.M)}


def two_counties(by=None):
    """One project in 三元区 and one in 永安市."""
    own = make_project(by, name="三元区项目", county_code=OWN_COUNTY)
    other = make_project(by, name="永安市项目", county_code=OTHER_COUNTY)
    return own, other
