"""Cache test helpers: a browser that keeps ETags and sends them back, and what every cached view shows."""
from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass

from openpyxl import load_workbook

from tests.maps.helpers import features
from tests.projects.web import page_text

# The cached views a test looks at; the dashboard over all time (the factories sign projects in 2025).
PROJECTS, PARKS, FRAME, DASHBOARD = ("/api/v1/projects.geojson", "/api/v1/parks.geojson", "/map/frame",
                                     "/dashboard?date_from=&date_to=")
CACHED = (PROJECTS, PARKS, FRAME, DASHBOARD)


@dataclass
class Views:
    """What the cached views (and the briefing, which is built each time) showed on one look."""

    projects: dict  # the projects GeoJSON
    parks: dict
    frame: str
    dashboard: str  # the page's text
    figures: dict[str, str]  # the dashboard's headline figures by key ("signed": "3 个")
    briefing: str  # every cell of the workbook's sheets, one per line

    def frame_projects(self) -> dict[int, dict]:
        return {f["properties"]["id"]: f for f in features(self.frame, "projects")}

    def api_projects(self) -> dict[int, dict]:
        return {f["properties"]["id"]: f for f in self.projects["features"]}

    def park(self, park_id: int) -> list[dict]:
        return [f for f in self.parks["features"] if f["properties"]["id"] == park_id]


class Browser:
    """One logged-in user's client that sends back the ETag it got for each URL and accepts gzip, as a browser does."""

    def __init__(self, client):
        self.client = client
        self.etags: dict[str, str] = {}

    def get(self, path: str):
        """The response to ``path`` (200, or 304 when the kept copy is current), its body unzipped when gzipped."""
        headers = {"Accept-Encoding": "gzip"}
        if path in self.etags:
            headers["If-None-Match"] = self.etags[path]
        response = self.client.get(path, headers=headers)
        assert response.status_code in (200, 304), (path, response.status_code)
        if response.status_code == 200:
            self.etags[path] = response.headers["ETag"]
        body = response.get_data()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return response, body.decode()

    def statuses(self, paths=CACHED) -> dict[str, int]:
        return {path: self.get(path)[0].status_code for path in paths}

    def look(self, *, fresh: bool = True) -> Views:
        """Every cached view and the briefing; ``fresh``: each must come back in full (200), none as 304."""
        bodies = {}
        for path in CACHED:
            response, body = self.get(path)
            if fresh:
                assert response.status_code == 200, f"{path}: 304 after a write (stale)"
            bodies[path] = body
        briefing = self.client.get("/reports/briefing")
        assert briefing.status_code == 200
        cells = "\n".join(str(cell) for sheet in load_workbook(io.BytesIO(briefing.data)).worksheets
                          for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
        page = bodies[DASHBOARD]
        figures = dict(re.findall(r'id="figure-(\w+)">([^<]*)<', page))
        return Views(json.loads(bodies[PROJECTS]), json.loads(bodies[PARKS]), bodies[FRAME], page_text(page),
                     {key: value.strip() for key, value in figures.items()}, cells)

    def settled(self) -> Views:
        """Look twice: the first fills the cache, the second must be all 304 (so a later 200 is the write's doing)."""
        views = self.look(fresh=False)
        assert set(self.statuses().values()) == {304}, "the views did not settle"
        return views
