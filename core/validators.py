"""Checks for unified social credit codes and national project codes, and the company-name key (pure functions)."""
from __future__ import annotations

import re

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# ASCII: a bare \d would also take full-width and other Unicode digits.
PROJECT_CODE_RE = re.compile(r"(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{5})([0-9A-Z])", re.ASCII)


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """None when ``code`` is a well-formed 统一社会信用代码 (GB 32100-2015), else why not."""
    if len(code) != 18:
        return "统一社会信用代码应为 18 位。"
    if any(ch not in CREDIT_CODE_CHARS for ch in code):
        return "统一社会信用代码含有不允许的字符（只能是数字和除 I、O、S、V、Z 外的大写字母）。"
    if credit_code_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确，请核对。"
    return None


def project_code_problem(code: str, region_codes: set[str], *, this_year: int) -> str | None:
    """None when ``code`` has the national project-code shape with a Sanming region, else why not."""
    match = PROJECT_CODE_RE.fullmatch(code)  # not .match: "$" lets a trailing newline through
    if not match:
        return "项目代码格式应为 YYYY-RRRRRR-DD-TT-NNNNNC（如 2026-350404-26-03-00012A）。"
    year, region = int(match.group(1)), match.group(2)
    if not 2000 <= year <= this_year + 1:
        return f"项目代码中的年份 {year} 不合理。"
    if region not in region_codes:
        return f"项目代码中的区划代码 {region} 不是三明市的区划。"
    return None


_BRACKETS = str.maketrans("", "", "()（）[]【】〔〕<>《》{}「」")
_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "集团", "公司", "股份", "有限")


def company_key(name: str | None) -> str:
    """A company name reduced for matching: no spaces or brackets, no 有限公司/集团-style suffixes.

    "福建三农（集团）股份有限公司", "福建三农集团有限公司" and "福建 三农" all become "福建三农".
    """
    key = "".join((name or "").split()).translate(_BRACKETS).upper()
    stripped = True
    while stripped:
        stripped = False
        for suffix in _COMPANY_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, stripped = key[: -len(suffix)], True
    return key
