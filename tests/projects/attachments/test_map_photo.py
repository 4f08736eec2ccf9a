"""The map: a project with photos shows its newest one as a thumbnail in its popup (frame and GeoJSON alike)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.auth.models import Role
from core.db import db
from parks.models import Park
from tests.factories import make_project, make_user
from tests.maps.helpers import blobs
from tests.projects.web import new_client

from . import files
from .helpers import files_on_disk, stored_rows, upload


@pytest.fixture(autouse=True)
def _empty_folder(app):
    for path in files_on_disk():
        path.unlink()


def test_the_popup_shows_the_newest_photo(app, project_ref):
    park = db.session.scalar(select(Park).where(Park.county_code == "350404").order_by(Park.id))
    with_photos, without = make_project(park_id=park.id), make_project(park_id=park.id)
    client = new_client(app, make_user(Role.COMMERCE))
    upload(client, with_photos.id, (files.photo(color=(1, 1, 1)), "旧.jpg"))
    upload(client, with_photos.id, (files.photo(color=(2, 2, 2)), "新.jpg"), (files.pdf(), "合同.pdf"))
    old, new, _document = stored_rows()
    response = client.get("/map/frame")
    assert response.status_code == 200
    frame = response.get_data(as_text=True)
    photos = {int(k): v for layer in blobs(frame, "projects") for k, v in layer["photos"].items()}
    assert photos == {with_photos.id: new.id}
    assert "/thumb" in frame and "function photo(id)" in frame
    features = {f["properties"]["id"]: f["properties"] for f in client.get("/api/v1/projects.geojson").get_json()["features"]}
    assert features[with_photos.id]["photo"] == f"/attachments/{new.id}/thumb"
    assert features[without.id]["photo"] is None
    # A county official never gets another county's photo, on the map as anywhere.
    other = make_project(county_code="350481", park_id=None)
    upload(client, other.id, (files.photo(color=(3, 3, 3)), "外县.jpg"))
    county = new_client(app, make_user(Role.COUNTY, county="350404"))
    county_features = county.get("/api/v1/projects.geojson").get_json()["features"]
    assert {f["properties"]["id"] for f in county_features} == {with_photos.id, without.id}
    assert old.id not in photos.values()
