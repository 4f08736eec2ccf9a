"""Validators: the 统一社会信用代码 check character and the national project-code shape (pure functions)."""
from __future__ import annotations

import pytest

from core.validators import CREDIT_CODE_CHARS, credit_code_check_char, credit_code_problem, project_code_problem

# Published codes of real enterprises (their check characters are the oracle, not our arithmetic).
REAL_CODES = [
    "91350100M000100Y43",
    "911100001000080343",
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
]
BAD_CHECK = "统一社会信用代码校验位不正确，请核对。"
BAD_CHARS = "统一社会信用代码含有不允许的字符（只能是数字和除 I、O、S、V、Z 外的大写字母）。"
BAD_LENGTH = "统一社会信用代码应为 18 位。"


@pytest.fixture(autouse=True)
def _clean_database():
    """Pure functions: override the root fixture so these tests need no app and no database."""
    yield


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code):
    assert credit_code_problem(code) is None
    assert credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_character_change_is_caught(code):
    for position in range(18):
        for ch in CREDIT_CODE_CHARS:
            if ch != code[position]:
                altered = code[:position] + ch + code[position + 1:]
                assert credit_code_problem(altered) == BAD_CHECK, altered


@pytest.mark.parametrize("code", REAL_CODES)
def test_adjacent_swaps_are_caught(code):
    for position in range(17):
        if code[position] != code[position + 1]:
            swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
            assert credit_code_problem(swapped) == BAD_CHECK, swapped


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
@pytest.mark.parametrize("position", [0, 8, 17])
def test_forbidden_letters(letter, position):
    code = REAL_CODES[0]
    assert credit_code_problem(code[:position] + letter + code[position + 1:]) == BAD_CHARS


@pytest.mark.parametrize("code", ["91350100m000100y43", "91350100M000100Y4 ", "9135010０M000100Y43",
                                  "91350100M000100Y4-"])
def test_other_characters_refused(code):
    assert credit_code_problem(code) == BAD_CHARS


@pytest.mark.parametrize("code", ["", "9", REAL_CODES[0][:17], REAL_CODES[0] + "3", REAL_CODES[1] * 2])
def test_length(code):
    assert credit_code_problem(code) == BAD_LENGTH


def test_check_character_may_be_zero_or_a_letter():
    # The check character is CHARS[(31 - sum % 31) % 31]: a sum ≡ 0 gives "0", not an index of 31.
    assert credit_code_check_char("0" * 17) == "0"
    assert credit_code_problem("0" * 18) is None
    assert credit_code_check_char("1" + "0" * 16) == "Y"  # 31 - 1 = 30 → the last character


# Project codes -----------------------------------------------------------------------------------

SANMING = {"350400", "350404", "350405", "350421", "350481", "350402"}
SHAPE = "项目代码格式应为 YYYY-RRRRRR-DD-TT-NNNNNC（如 2026-350404-26-03-00012A）。"
YEAR = 2026


def code_problem(code: str) -> str | None:
    return project_code_problem(code, SANMING, this_year=YEAR)


@pytest.mark.parametrize("code", ["2026-350404-26-03-00012A", "2025-350400-89-01-000001",
                                  "2020-350481-07-02-99999Z", "2019-350402-26-03-123450"])
def test_valid_project_codes(code):
    assert code_problem(code) is None


@pytest.mark.parametrize("code", [
    "",
    "2026350404260300012A",          # no dashes
    "2026-350404-26-03-00012",       # no check character
    "2026-350404-26-03-00012a",      # lower-case check character
    "2026-350404-26-03-0012A",       # four-digit serial
    "26-350404-26-03-00012A",        # two-digit year
    "2026-35040-26-03-00012A",       # five-digit region
    "2026-350404-2-03-00012A",
    "2026-350404-26-3-00012A",
    "2026_350404_26_03_00012A",
    " 2026-350404-26-03-00012A",
    "2026-350404-26-03-00012A ",
    "2026-350404-26-03-00012A\n",    # "$" alone would let this through
    "2026-350404-26-03-00012AB",
    "2026-350404-２６-03-00012A",     # full-width digits are not ASCII digits
    "２０２６-350404-26-03-00012A",
    "2026-350404-26-03-00012-",
])
def test_malformed_project_codes(code):
    assert code_problem(code) == SHAPE


@pytest.mark.parametrize("region", ["350100", "350102", "110000", "350406", "000000"])
def test_region_must_be_sanming(region):
    assert code_problem(f"2026-{region}-26-03-00012A") == f"项目代码中的区划代码 {region} 不是三明市的区划。"


def test_region_set_comes_from_the_caller():
    assert project_code_problem("2026-350100-26-03-00012A", {"350100"}, this_year=YEAR) is None
    assert project_code_problem("2026-350404-26-03-00012A", set(), this_year=YEAR) is not None


@pytest.mark.parametrize(("year", "ok"), [(1999, False), (2000, True), (YEAR, True), (YEAR + 1, True),
                                          (YEAR + 2, False), (9999, False), (0, False)])
def test_year_bounds(year, ok):
    problem = code_problem(f"{year:04d}-350404-26-03-00012A")
    assert problem is None if ok else problem == f"项目代码中的年份 {year} 不合理。"


def test_year_bound_follows_this_year():
    assert project_code_problem("2031-350404-26-03-00012A", SANMING, this_year=2030) is None
    assert project_code_problem("2031-350404-26-03-00012A", SANMING, this_year=2029) is not None
