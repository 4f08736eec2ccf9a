"""The input rules every door applies (forms, ledger cells, the CLI): clean text, money, dates and ids in range."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

# Ids in URLs and forms: the columns are PostgreSQL `integer`; a larger number names no row.
MAX_ID = 2**31 - 1


def id_value(text) -> int:
    """A row id as given in a URL's query or a select (``type=``/``coerce=``): ValueError when it is no number or
    lies outside 1..MAX_ID, so it never reaches a query the database would refuse."""
    number = int(text)
    if not 0 < number <= MAX_ID:
        raise ValueError("编号超出范围。")
    return number

# Every date field, in every form and ledger: wide enough for any project's history and plans, narrow
# enough that each date prints as YYYY-MM-DD and reads back the same (year 1 printed as "1-01-01").
MIN_DATE = dt.date(1990, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)
DATE_RANGE = f"须在 {MIN_DATE:%Y-%m-%d} 到 {MAX_DATE:%Y-%m-%d} 之间。"
DATE_RANGE_MESSAGE = "日期" + DATE_RANGE

# Every amount in 万元: 10^8 万元 (一万亿元) is far above any project, well inside Numeric(14, 2).
MAX_MONEY = Decimal(100_000_000)
MONEY_PLACES = Decimal("0.01")
# Areas: more than any park in Sanming could hold (the largest zones plan a few tens of thousands of 亩) is a typo.
AREA_LIMITS = {"亩": Decimal(1_000_000), "m²": Decimal(100_000_000)}
MONEY_RANGE = "0 到 100,000,000 万元（一万亿元），保留两位小数"

# C0 and C1 control characters, DEL, the bidirectional overrides and isolates (they reorder what a reader
# sees: "Trojan Source"), and the two non-characters XML cannot carry.
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# What XML 1.0 (so an .xlsx cell) cannot hold at all: old rows get these dropped on export.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str, label: str, *, multiline: bool = False) -> str:
    """``value`` in NFC with line ends as \\n; raises ValueError (Chinese, naming ``label``) for what may not be stored.

    Tab and newline are allowed only in multi-line fields; trimming is left to each field."""
    if _SURROGATE.search(value):
        raise ValueError(f"“{label}”含有无效的字符编码，请重新输入。")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    for match in _REFUSED.finditer(text):
        if multiline and match.group() in "\t\n":
            continue
        raise ValueError(f"“{label}”含有不可见的控制字符（U+{ord(match.group()):04X}），请删除后重新输入。")
    return text


def stored_text_problem(text: str) -> str | None:
    """Why ``text`` may not be stored by any path at all (tab and line ends pass: rows from before keep CR LF)."""
    if _SURROGATE.search(text):
        return "内容含有无效的字符编码，未保存。"
    for match in _REFUSED.finditer(text):
        if match.group() not in "\t\n\r":
            return f"内容含有不可见的控制字符（U+{ord(match.group()):04X}），未保存。"
    return None


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a C0 or C1 control character (a redirect target with one goes home instead)."""
    return _CONTROL.search(text) is not None


def xml_safe(text: str) -> str:
    """``text`` without the characters an .xlsx cell cannot carry (rows saved before the text rules)."""
    return _NOT_XML.sub("", text)


def check_money(amount: Decimal, label: str = "金额") -> Decimal:
    """``amount`` rounded to two places if it is a finite amount in range; else ValueError naming ``label``."""
    if not amount.is_finite():
        raise ValueError("请输入数字（单位：万元）。")
    if amount < 0:
        raise ValueError(f"{label}不能为负数。")
    if amount > MAX_MONEY:
        raise ValueError(f"{label}不能超过 100,000,000 万元（一万亿元）。")
    return amount.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def check_area(area: Decimal, label: str, unit: str) -> Decimal:
    """``area`` (亩 or m²) rounded to two places if it is finite, not negative and within AREA_LIMITS; else
    ValueError naming ``label`` without its unit (“可供地不能为负数。”)."""
    name = label.split("（")[0]
    if not area.is_finite():
        raise ValueError(f"请输入数字（单位：{unit}）。")
    if area < 0:
        raise ValueError(f"{name}不能为负数。")
    if area > AREA_LIMITS[unit]:
        raise ValueError(f"{name}超过 {AREA_LIMITS[unit]:,} {unit}，请核对单位和数值。")
    return area.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def date_in_range(date: dt.date) -> bool:
    return MIN_DATE <= date <= MAX_DATE


def check_date(date: dt.date, label: str = "日期") -> dt.date:
    if not date_in_range(date):
        raise ValueError(f"{label}{DATE_RANGE}")
    return date
