"""Parks test helpers: committed-state look-ups, page sections and asset URLs pulled out of HTML."""
from __future__ import annotations

import html
import io
import re

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core.audit import AuditEntry
from core.auth.models import Role
from core.db import db
from parks.models import Park

ROLES = [Role.COMMERCE, Role.COUNTY, Role.LEADER, Role.ADMIN]
NON_ADMIN_ROLES = [Role.COMMERCE, Role.COUNTY, Role.LEADER]


def park_by_name(name: str) -> Park:
    """The park as committed now: the test's session is rolled back first, so nothing is stale."""
    db.session.rollback()
    park = db.session.scalar(select(Park).filter_by(name=name))
    assert park is not None, f"no park named {name}"
    return park


def audit_count(**filters) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(**filters))


def text_of(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed (none before Chinese punctuation)."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" (?=[：，。；）])", "", text)


def sections(page: str) -> dict[str, str]:
    """{heading text of each <section>: its HTML}; the park list has one section per industry."""
    found = {}
    for chunk in re.findall(r"<section\b.*?</section>", page, re.S):
        heading = re.search(r"<h2\b.*?</h2>", chunk, re.S)
        assert heading, "section without a heading"
        found[text_of(heading.group(0))] = chunk
    return found


def section_for(page: str, industry: str) -> str:
    matches = [chunk for heading, chunk in sections(page).items() if heading.split()[0] == industry]
    assert len(matches) == 1, f"expected one section for {industry}, found {len(matches)}"
    return matches[0]


def table_rows(fragment: str) -> list[list[str]]:
    """The visible cell texts of each body row of the tables in a fragment."""
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", fragment, re.S):
        for row in re.findall(r"<tr\b.*?</tr>", body, re.S):
            rows.append([text_of(cell) for cell in re.findall(r"<td\b.*?</td>", row, re.S)])
    return rows


def upload(client, park_id: int, content: bytes, filename: str = "boundary.geojson", **extra):
    """POST a file to the boundary form, as a browser does.

    The body is encoded here, in memory: given `data={"file": (BytesIO, name)}`, Werkzeug's
    test client spools bodies over 500 KB to a temporary file it never closes (a
    ResourceWarning, which this suite turns into an error).
    """
    fields = {"file": FileStorage(io.BytesIO(content), filename=filename, content_type="application/octet-stream"),
              **extra}
    boundary, body = encode_multipart(fields)
    return client.post(f"/parks/{park_id}/boundary", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


ATTR_URL_RE = re.compile(r"""\b(?:src|href|srcset|action|poster|data)\s*=\s*(["']?)([^"'\s>]+)\1""", re.I)
CSS_URL_RE = re.compile(r"""url\(\s*(["']?)([^"')]*)\1\s*\)""", re.I)
IMPORT_RE = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"');\s]+)""", re.I)


def attribute_urls(page: str) -> list[str]:
    return [html.unescape(m.group(2)) for m in ATTR_URL_RE.finditer(page)]


def css_urls(text: str) -> list[str]:
    """Every url(...) and @import target; data: URIs are kept so callers can tell them apart."""
    return [m.group(2) for m in CSS_URL_RE.finditer(text)] + [m.group(1) for m in IMPORT_RE.finditer(text)]


def is_remote(url: str) -> bool:
    """A URL the browser would fetch from another host (http, https or protocol-relative)."""
    return bool(re.match(r"\s*(https?:)?//", url, re.I))
