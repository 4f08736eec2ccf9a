"""Making the database's text inert in the map page: as HTML, in a JS template literal, in folium's Jinja pass."""
from __future__ import annotations

import json
import re

import orjson

# One C-level pass per string: HTML's five, the three that matter inside a JS template literal, and
# braces, because folium compiles each element's rendered script as a Jinja template ("{{ }}" would run).
_SAFE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
                       "\\": "&#92;", "`": "&#96;", "$": "&#36;", "{": "&#123;", "}": "&#125;"})
_UNSAFE = re.compile(r"[&<>\"'\\`${}]")


def safe_text(value: str) -> str:
    """Text from the database, made inert both as HTML and inside a JS template literal."""
    return value.translate(_SAFE) if _UNSAFE.search(value) else value  # most names need nothing


def script_json(data) -> str:
    # Every string is already entity-escaped; "<" is escaped again so no "</script>" can ever form.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def script_json_bytes(data) -> bytes:
    """script_json for the big blobs: orjson writes UTF-8 (no \\u escapes) several times faster."""
    return orjson.dumps(data).replace(b"<", b"\\u003c")
