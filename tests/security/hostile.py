"""Hostile input for the sweep: strings, numbers, dates, ids and files a form should refuse or store safely, and
the Hypothesis strategies that put them into a form."""
from __future__ import annotations

import functools
import io
import json
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from hypothesis import strategies as st

from tests.projects.ledgers.files import ledger_bytes
from tests.projects.ledgers.files import row as ledger_row


@dataclass(frozen=True)
class Hostile:
    """A value and the short name it goes by in a falsifying example (100,000 characters would bury the report)."""

    name: str
    value: str | bytes | tuple  # a tuple is an upload: (a callable giving its bytes, its filename)

    def __repr__(self) -> str:
        return self.name

    def _repr_pretty_(self, printer, cycle) -> None:  # how Hypothesis prints a falsifying example
        printer.text(self.name)


def plain(*values: str | bytes) -> list[Hostile]:
    return [Hostile(repr(value), value) for value in values]


LONG = 100_000
TEXT = plain(
    "\x00", "名称\x00后缀", "\x0b", "a\x1fb", "\x85", "\x7f", "\x1b[31m红", "\x08\x0c",  # C0, DEL and C1 controls
    "a\r\nb", "\r\nSet-Cookie: injected=1", "\n", "\r",  # line breaks: headers, logs, CSV rows
    "\u202e反转文字\u202c", "\u200b", "\ufeff开头", "\u2028\u2029", "\ufffe", "\U0010ffff", "😀",
    unicodedata.normalize("NFD", "Café Ångström 한국"), "e\u0301" * 50,  # decomposed: é as e + combining accent
    "   ", "\u3000", "", "<script>alert(1)</script>", "{{ 7*7 }}", "=1+1", "=HYPERLINK(\"http://x\")", "@SUM(A1)",
    "'; DROP TABLE project; --", "%s%n%x", "../../etc/passwd",
    # Paths, for a field that must name a page of this site (login's next): past a starts-with-"/" check.
    "/projects/\r\nSet-Cookie: injected=1", "/\x00", "/\t/evil.example", "/\u202e/evil.example",
    # Lone surrogates and broken UTF-8 cannot be a str in a form: they go as raw bytes.
    b"\xed\xa0\x80", b"\xc0\x80", b"\xff\xfe", b"\x80",
) + [Hostile(f"'x' * {LONG}", "x" * LONG), Hostile(f"'项' * {LONG}", "项" * LONG),
     Hostile("'\\x00' * 1000", "\x00" * 1000)]
NUMBERS = plain(
    "1e1000000", "-1e1000000", "1e-999999", "-0", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf",
    "9" * 40, "-" + "9" * 40, "1e308", "2e308", "9999999999.995", "1e15", "-0.001", "0e0", "0x1F", "1_000",
    "１２３", "١٢٣", "12.345.6", "1,,", "5万元", "   7  ", "+5", "1" + "0" * 400,
) + [Hostile("'9' * 5000", "9" * 5000)]  # past int()'s 4300-digit limit
DATES = plain(
    "0001-01-01", "9999-12-31", "2026-02-30", "1989-12-31", "2101-01-01", "0000-00-00", "2026-13-01",
    "10000-01-01", "-2026-01-01", "2026-1-1", "２０２６-０１-０１", "2026-01-01T00:00", "2026/01/01", "20260101",
    "1970-01-01", "2038-01-19", "1900-02-29", "2000-02-29", "1899-12-30",
)
MONTHS = plain("0001-01", "9999-12", "2026-00", "2020-13", "0000-01", "10000-01", "2026-1", "1989-12", "2101-01",
               "-2026-01", "2026-02-30", "2026-12-31")
IDS = plain(
    "9223372036854775808", "9223372036854775807", "-9223372036854775809", "18446744073709551616", "2147483648",
    "2147483647", "-2147483649", "-1", "0", "1.5", "1e3", "00001", "None", "null", " 1",
) + [Hostile("'9' * 5000", "9" * 5000)]
CHOICES = IDS + plain("admin", "__class__", "CONTRACT", " contract", "signed\x00", "350404\n")
# URL ids: past SQLite's and PostgreSQL's 64-bit integers, past a 32-bit integer column, and zero (no row has it).
URL_IDS = [2**63, 2**64, 2**31, 10**30, 0]


def _ledger(**cells) -> bytes:
    return ledger_bytes([ledger_row(**{"name": "敌意台账项目", **cells})])


def _boundary(ring: str) -> bytes:
    return ('{"type": "Polygon", "coordinates": [[' + ring + "]]}").encode()


def _upload(name: str, make, filename: str) -> Hostile:
    return Hostile(f"{name} as {filename!r}", (functools.cache(make), filename))


# Files: the same for any upload, then the ones shaped like what each upload expects.
ANY_FILE = [
    _upload("empty", lambda: b"", "空.xlsx"),
    _upload("NUL bytes", lambda: b"\x00" * 4096, "\x00.geojson"),
    _upload("a broken zip", lambda: b"PK\x03\x04" + b"\xff" * 200, "台账.xlsx"),
    _upload("text", lambda: "项目名称,总投资\n敌意,1e1000000\n".encode(), "../../etc/passwd"),
]
GEOJSON_FILES = [
    _upload("nested 100000 deep", lambda: b"[" * 100_000 + b"]" * 100_000, "边界.geojson"),
    _upload("1e1000000 coordinates", lambda: _boundary("[1e1000000, 26.25], [117.66, 26.25], [117.66, 26.3], "
                                                        "[1e1000000, 26.25]"), "边界.geojson"),
    _upload("NaN coordinates", lambda: _boundary("[NaN, 26.25], [117.66, 26.25], [117.66, 26.3], [NaN, 26.25]"),
            "边界.geojson"),
    _upload("400-digit integer coordinates", lambda: _boundary(f"[1{'0' * 400}, 26.25], [117.66, 26.25], "
                                                               f"[117.66, 26.3], [1{'0' * 400}, 26.25]"), "b.geojson"),
    _upload("string coordinates", lambda: _boundary('["117.6", "26.25"], ["117.66", "26.25"], ["117.66", "26.3"], '
                                                    '["117.6", "26.25"]'), "边界.geojson"),
    _upload("a two-point ring", lambda: _boundary("[117.6, 26.25], [117.6, 26.25]"), "边界.geojson"),
    _upload("a bow tie", lambda: _boundary("[117.6, 26.25], [117.66, 26.3], [117.66, 26.25], [117.6, 26.3], "
                                           "[117.6, 26.25]"), "边界.geojson"),
    _upload("JSON null", lambda: b"null", "边界.geojson"),
    _upload("a JSON number", lambda: b"1e1000000", "边界.geojson"),
    _upload("UTF-16", lambda: '{"type": "Polygon", "coordinates": []}'.encode("utf-16"), "边界.geojson"),
    _upload("a feature with control characters", lambda: json.dumps(
        {"type": "Feature", "properties": {"name": "\x00\x0b\u202e"}, "geometry": None}).encode(), "边界.geojson"),
    _upload("a nested geometry collection", lambda: json.dumps(
        functools.reduce(lambda inner, _: {"type": "GeometryCollection", "geometries": [inner]}, range(500),
                         {"type": "Point", "coordinates": [117.6, 26.25]})).encode(), "边界.geojson"),
]
LEDGER_FILES = [
    _upload(f"a ledger row with {column}={text!r}", functools.partial(_ledger, **{column: value}), filename)
    for column, text, value, filename in [
        ("name", "'x' * 40000", "x" * 40_000, "台账.xlsx"),  # past Excel's 32,767 characters a cell
        ("name", "\\u202e\\x85", "\u202e反转\x85", "台账\u202exslx.exe"),
        ("name", "=1+1", "=1+1", "台账.xlsx"),
        ("investor", "'\\x7f' * 3", "\x7f" * 3, "a" * 300 + ".xlsx"),
        ("total", "1e1000000", "1e1000000", "台账.xlsx"),
        ("total", "NaN", "NaN", "台账.xlsx"),
        ("total", "-0", "-0", "台账.xlsx"),
        ("total", "'9' * 40", "9" * 40, "台账.xlsx"),
        ("sign_date", "0001-01-01", "0001-01-01", "台账.xlsx"),
        ("sign_date", "9999-12-31", "9999-12-31", "台账.xlsx"),
        ("sign_date", "2026-02-30", "2026-02-30", "台账.xlsx"),
        ("sign_date", "1989-12-31", "1989-12-31", "台账.xlsx"),
        ("planned_start", "0001-01-01", "0001-01-01", "台账.xlsx"),
        ("completed", "1e1000000", "1e1000000", "台账.xlsx"),
        ("county", "不存在的县", "不存在的县", "台账.xlsx"),
        ("stage", "\u3000", "\u3000", "台账.xlsx"),
    ]
]

BY_KIND = {"text": TEXT, "number": NUMBERS, "date": DATES, "month": MONTHS, "id": IDS, "choice": CHOICES}
EVERY_VALUE = TEXT + NUMBERS + DATES + MONTHS + CHOICES
# The input types a page renders, as the kind of hostile value that field is most likely to mishandle.
HTML_KINDS = {"number": "number", "date": "date", "month": "month", "select": "choice", "checkbox": "choice",
              "file": "file"}


def field_kind(html_type: str | None, sample: str | None) -> str:
    """The kind of a field from its input's type, else from the shape of a value it takes."""
    if html_type in HTML_KINDS:
        return HTML_KINDS[html_type]
    if isinstance(sample, tuple):
        return "file"
    text = sample if isinstance(sample, str) else ""
    if html_type in (None, "hidden") and text.isdigit():
        return "id"  # a version, a row's id, a page number
    if len(text) == 7 and text[4] == "-" and text.replace("-", "").isdigit():
        return "month"
    if len(text) == 10 and text[4] == text[7] == "-" and text.replace("-", "").isdigit():
        return "date"
    return "text"


def files_for(filename: str) -> list[Hostile]:
    """Hostile uploads for a file field whose valid upload is called ``filename``."""
    return ANY_FILE + (GEOJSON_FILES if filename.endswith(".geojson") else LEDGER_FILES)


def values_for(kind: str, sample) -> st.SearchStrategy[Hostile]:
    """Mostly values of the field's own kind, which get furthest through its checks; any other kind too."""
    if kind == "file":
        return st.sampled_from(files_for(sample[1] if isinstance(sample, tuple) else ""))
    return st.one_of(st.sampled_from(BY_KIND[kind]), st.sampled_from(EVERY_VALUE))


@dataclass(frozen=True)
class Plan:
    """One hostile request: some fields of the valid form replaced (the rest stay valid, so a value that passes
    the checks is saved), perhaps one URL id swapped for one no database row can have."""

    replaced: dict[str, Hostile] = field(default_factory=dict)
    url_id: tuple[str, int] | None = None

    def form(self, valid: dict) -> dict:
        return {**valid, **{name: hostile.value for name, hostile in self.replaced.items()}}


@st.composite
def plans(draw, fields: dict[str, tuple[str, object]], url_args: list[str]) -> Plan:
    """``fields``: name -> (kind, a valid value or None); ``url_args``: the URL's <int:> arguments."""
    url_id = None
    if url_args and draw(st.integers(0, 4)) == 0:  # now and then: most examples should reach the form
        url_id = (draw(st.sampled_from(url_args)), draw(st.sampled_from(URL_IDS)))
    if not fields:
        return Plan(url_id=url_id)
    # A handful of fields on average (the rest stay valid, so a value the checks let through is saved), now and
    # then all of them.
    names = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, unique=True))
    return Plan({name: draw(values_for(*fields[name])) for name in names}, url_id)


def opened(form: dict) -> dict:
    """The form with each upload as a fresh file (a file is read once), ready for a multipart body."""
    return {name: (io.BytesIO(value[0]()), value[1]) if isinstance(value, tuple) and callable(value[0])
            else (io.BytesIO(value), "hostile.bin") if isinstance(value, bytes)  # bytes in multipart go as a file
            else value for name, value in form.items()}


def is_multipart(form: dict) -> bool:
    return any(isinstance(value, (tuple, io.IOBase)) for value in form.values())


def urlencoded(form: dict) -> str:
    """A form as a browser encodes it, by hand: bytes values go through as they are, valid UTF-8 or not."""
    return "&".join(f"{quote_plus(name)}={quote_plus(value)}" for name, value in form.items())
