"""The cached views: one county's entry never reaches another, strong ETags and 304s, gzip done once, Cache-Control,
the dashboard's per-user ETag, the cache settings; and, live, two gunicorn workers never serve a stale entry."""
from __future__ import annotations

import gzip
import json

import pytest

from core.app import create_app
from core.auth.models import Role
from core.config import ConfigError
from core.extensions import cache
from tests.factories import make_project, make_user
from tests.maps.cache_helpers import CACHED, DASHBOARD, FRAME, PARKS, PROJECTS, Browser
from tests.maps.helpers import OTHER_COUNTY, OWN_COUNTY, project_ids, two_counties
from tests.projects.web import new_client

PREBUILT = (PROJECTS, PARKS, FRAME)  # stored as gzipped bytes, served as they are


def test_one_countys_cached_views_never_reach_another(app, project_ref):
    own, other = two_counties()
    here = new_client(app, make_user(Role.COUNTY, county=OWN_COUNTY))
    there = new_client(app, make_user(Role.COUNTY, county=OTHER_COUNTY))
    city = new_client(app, make_user(Role.LEADER))
    for path in (PROJECTS, f"{PROJECTS}?county={OTHER_COUNTY}", FRAME, f"{FRAME}?county={OTHER_COUNTY}"):
        seen = {}
        for name, client in (("here", here), ("there", there), ("city", city), ("here again", here)):
            response = client.get(path)
            body = response.get_data(as_text=True)
            seen[name] = (response.headers["ETag"],
                          {f["properties"]["id"] for f in json.loads(body)["features"]} if "geojson" in path
                          else project_ids(body))
        assert seen["here"][1] == seen["here again"][1] == {own.id}, path
        assert seen["there"][1] == {other.id}, path
        assert seen["city"][1] == ({other.id} if f"county={OTHER_COUNTY}" in path else {own.id, other.id}), path
        assert len({seen[name][0] for name in ("here", "there", "city")}) == 3, "two scopes share an ETag"
        # Another county's ETag never gets a 304.
        assert there.get(path, headers={"If-None-Match": seen["here"][0]}).status_code == 200
    dashboards = {name: client.get(DASHBOARD).get_data(as_text=True) for name, client in
                  (("here", here), ("there", there))}
    assert "三元区项目" not in dashboards["there"] and "永安市项目" not in dashboards["here"]


def test_officials_of_one_county_share_the_entry(app, project_ref):
    two_counties()
    first = new_client(app, make_user(Role.COUNTY, county=OWN_COUNTY)).get(PROJECTS)
    second = new_client(app, make_user(Role.COUNTY, county=OWN_COUNTY))
    assert second.get(PROJECTS, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("path", CACHED)
def test_a_matching_etag_gets_304_with_no_body(app, project_ref, path):
    make_project()
    client = new_client(app, make_user(Role.LEADER))
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    etag, weak = first.get_etag()
    assert etag and not weak, "a strong ETag"
    assert "Accept-Encoding" in first.headers["Vary"]
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"] and again.headers["Cache-Control"] == "private, no-cache"
    # The browser keeps the policy of the copy it shows (the frame's script digests, the page's nonce).
    assert "Content-Security-Policy" not in again.headers
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


@pytest.mark.parametrize("path", PREBUILT)
def test_gzip_is_done_once_and_never_twice(app, project_ref, path):
    for _ in range(3):
        make_project()
    client = new_client(app, make_user(Role.LEADER))
    zipped = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})  # as Chromium asks
    plain = client.get(path)
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert gzip.decompress(zipped.get_data()) == plain.get_data()  # one layer of gzip, the same document
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # two representations, two strong validators
    assert zipped.headers["Content-Length"] == str(len(zipped.get_data()))
    unzipped_client = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in unzipped_client.headers and unzipped_client.get_data() == plain.get_data()


def test_the_same_key_gives_the_same_bytes_whoever_builds_it(app, project_ref):
    """A strong ETag promises identical bytes: a second worker (here: an emptied cache) builds the very same page."""
    make_project()
    client = new_client(app, make_user(Role.LEADER))
    first = {path: client.get(path, headers={"Accept-Encoding": "gzip"}) for path in PREBUILT}
    with app.app_context():
        cache.clear()
    for path, response in first.items():
        rebuilt = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert rebuilt.headers["ETag"] == response.headers["ETag"]
        assert rebuilt.get_data() == response.get_data(), path


def test_filters_are_normalised_in_the_key(app, project_ref):
    make_project()
    browser = Browser(new_client(app, make_user(Role.LEADER)))
    browser.get(f"{PROJECTS}?major=y&county={OWN_COUNTY}")
    etag = browser.etags[f"{PROJECTS}?major=y&county={OWN_COUNTY}"]
    for same in (f"{PROJECTS}?county={OWN_COUNTY}&major=y", f"{PROJECTS}?county={OWN_COUNTY}&major=y&utm=1"):
        response = browser.client.get(same, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
        assert response.status_code == 304, same
    for other in (f"{PROJECTS}?county={OWN_COUNTY}", f"{PROJECTS}?county={OTHER_COUNTY}&major=y"):
        assert browser.client.get(other, headers={"If-None-Match": etag}).status_code == 200, other


def test_html_pages_stay_no_store(app, project_ref):
    client = new_client(app, make_user(Role.LEADER))
    for path in ("/", "/map", "/projects/", "/map/export"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_the_dashboards_etag_covers_the_user_and_the_session(app, project_ref, csrf_on):
    make_project()
    one, two = make_user(Role.LEADER), make_user(Role.LEADER)
    first = new_client(app, one)
    etag = first.get(DASHBOARD).headers["ETag"]
    assert first.get(DASHBOARD, headers={"If-None-Match": etag}).status_code == 304
    # Another user of the same scope shares the cached figures, not the page (their name is in the navbar).
    other = new_client(app, two).get(DASHBOARD, headers={"If-None-Match": etag})
    assert other.status_code == 200 and two.username in other.get_data(as_text=True)
    # The same user in a new login (a new session, a new CSRF secret) gets the page again.
    again = new_client(app, one).get(DASHBOARD, headers={"If-None-Match": etag})
    assert again.status_code == 200


def test_a_pending_message_is_never_hidden_by_a_304(app, project_ref):
    client = new_client(app, make_user(Role.LEADER))
    etag = client.get(DASHBOARD).headers["ETag"]
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "一条待显示的提示")]
    response = client.get(DASHBOARD, headers={"If-None-Match": etag})
    assert response.status_code == 200 and "一条待显示的提示" in response.get_data(as_text=True)


def test_without_a_data_version_nothing_is_cached(app, project_ref):
    from sqlalchemy import text

    from core.db import db

    make_project()
    db.session.execute(text("DELETE FROM data_version"))
    db.session.commit()
    client = new_client(app, make_user(Role.LEADER))
    for path in CACHED:
        response = client.get(path)
        assert response.status_code == 200 and "ETag" not in response.headers, path


@pytest.mark.parametrize(("given", "url", "kind"), [
    ({}, "", "FileSystemCache"), ({"CACHE_TYPE": "simple"}, "", "SimpleCache"),
    ({"CACHE_TYPE": "NullCache"}, "", "NullCache"), ({}, "redis://127.0.0.1:6379/0", "RedisCache")])
def test_the_cache_back_end_is_chosen_by_cache_type_and_cache_url(given, url, kind, tmp_path, monkeypatch):
    for name in ("CACHE_TYPE", "CACHE_URL"):
        monkeypatch.delenv(name, raising=False)
    if kind == "RedisCache":
        pytest.importorskip("redis", reason="RedisCache needs the redis package, installed only where Redis is used")
    app = create_app({"TESTING": True, "CACHE_DIR": str(tmp_path), "CACHE_URL": url, **given})
    assert app.config["CACHE_TYPE"] == kind
    if kind == "RedisCache":
        assert app.config["CACHE_REDIS_URL"] == url


@pytest.mark.parametrize("given", [{"CACHE_TYPE": "memcached"}, {"CACHE_TYPE": "redis"}])
def test_an_unknown_or_incomplete_cache_setting_stops_start_up(given, tmp_path):
    with pytest.raises(ConfigError, match="CACHE_"):
        create_app({"TESTING": True, "CACHE_DIR": str(tmp_path), **given})
