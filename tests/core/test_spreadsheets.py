"""Spreadsheet uploads in every format: told apart by content, CSV encodings, the limits (size, rows, columns,
sheets) for each format, the .xls reader's guards (formula cells, hidden sheets, shared strings, compound files
that hold no workbook or an encrypted one)."""
from __future__ import annotations

import pytest

from core.excel import read_sheets
from core.spreadsheets import FORMULA, ExcelUnreadable, decode_text, kind_of, open_sheets
from tests.projects.ledgers.files import ONE_ROW, Layout, csv_bytes, layout, row, xls_bytes, xlsx_bytes

KNOWN = set(ONE_ROW)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"


def is_known(text: str) -> bool:
    return text in KNOWN


def sheets_of(data: bytes, **limits) -> list[tuple[str, bool, list[list]]]:
    with open_sheets(data, **limits) as sheets:
        return [(s.name, s.hidden, [list(r) for r in s.rows]) for s in sheets]


def test_the_format_is_judged_by_content():
    assert kind_of(xlsx_bytes(layout([row()]))) == "xlsx"
    assert kind_of(xls_bytes(layout([row()]))) == "xls"
    assert kind_of(csv_bytes(layout([row()]))) == "csv"


@pytest.mark.parametrize("text", ["项目名称,投资方\n联通,三元区\n", "项目名称\n𠮷祥项目\n", "a,b\n"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_text_is_utf8_or_gb18030(text, encoding):
    # 联通 in GBK is the classic pair that looks like UTF-8 to loose decoders; 𠮷 is outside GBK (GB18030 only).
    assert decode_text(text.encode(encoding)) == text


def test_gbk_text_decodes_as_gbk():
    assert decode_text("所属县（市、区）,总投资（万元）\n三元区,5000\n".encode("gbk")) == "所属县（市、区）,总投资（万元）\n三元区,5000\n"


@pytest.mark.parametrize("data, message", [
    ("项目名称,投资方\n".encode("utf-16"), "CSV 文件须为 UTF-8 或 GB18030（GBK）编码"),
    (PNG, "不是 Excel 工作簿（.xlsx、.xls），也不是 CSV 文本（含有二进制内容）"),
    (b"", "文件是空的"),
])
def test_what_is_neither_a_workbook_nor_csv_text_is_refused(data, message):
    with pytest.raises(ExcelUnreadable, match=message):
        sheets_of(data)


def test_csv_cells_blank_fields_formulas_and_quoted_line_breaks():
    data = '标题\r\n项目名称,总投资,备注\r\n甲,=1+1,"两行\r\n备注"\r\n,,\r\n'.encode("gbk")
    [(name, hidden, rows)] = sheets_of(data)
    assert name == "" and not hidden
    assert rows == [["标题"], ["项目名称", "总投资", "备注"], ["甲", (FORMULA, "=1+1"), "两行\r\n备注"], [None, None, None]]


@pytest.mark.parametrize("write", [xls_bytes, xlsx_bytes], ids=["xls", "xlsx"])
def test_formula_cells_are_marked_in_their_own_sheet_and_hidden_sheets_flagged(write):
    first = layout([row(name="一月项目")], name="一月")
    second = layout([row(name="二月项目")], name="二月", formulas={(4, 7): "=1+1"}, hidden=True)
    (name1, hidden1, rows1), (name2, hidden2, rows2) = sheets_of(write(first, second))
    assert (name1, hidden1, name2, hidden2) == ("一月", False, "二月", True)
    assert not any(isinstance(v, tuple) for r in rows1 for v in r)
    assert rows2[3][6][0] == FORMULA and rows2[3][1] == "二月项目"
    assert [v for r in rows2 for v in r if isinstance(v, tuple)] == [rows2[3][6]]


def test_xls_values_dates_and_numbers():
    import datetime as dt

    data = xls_bytes(Layout([["文本", 5000, 1234.5, dt.date(2026, 6, 18), True, None, ""]]))
    [(_, _, [values])] = sheets_of(data)
    assert values == ["文本", 5000, 1234.5, dt.datetime(2026, 6, 18), True]
    assert isinstance(values[1], int)


def test_xls_shared_strings_stay_shared():
    # A .xls keeps a text once and points cells at it: a 200 KB file can name a 30,000-character text in
    # thousands of cells. A reader copying it per cell (python-calamine does) needs gigabytes; xlrd shares it.
    long = "字" * 30_000
    [(_, _, rows)] = sheets_of(xls_bytes(Layout([[long] for _ in range(2000)])))
    assert len(rows) == 2000 and all(r[0] is rows[0][0] for r in rows)


def _rename_stream(data: bytes, old: str, new: str) -> bytes:
    """The compound file with a directory entry renamed (the name field is 64 bytes, its length at 64)."""
    at = data.index(old.encode("utf-16-le") + b"\0\0")
    name = new.encode("utf-16-le") + b"\0\0"
    entry = bytearray(data[at:at + 128])
    entry[0:64] = name.ljust(64, b"\0")
    entry[64:66] = len(name).to_bytes(2, "little")
    return data[:at] + bytes(entry) + data[at + 128:]


def test_compound_files_without_a_workbook_or_encrypted_are_refused():
    data = xls_bytes(layout([row()]))
    with pytest.raises(ExcelUnreadable, match="可能是 Word、PowerPoint"):
        sheets_of(_rename_stream(data, "Workbook", "WordDocument"))
    with pytest.raises(ExcelUnreadable, match="设有打开密码"):  # an encrypted .xlsx is a compound file too
        sheets_of(_rename_stream(data, "Workbook", "EncryptedPackage"))
    with pytest.raises(ExcelUnreadable, match="请确认是有效的 .xls 文件"):
        sheets_of(data[:1000])


@pytest.mark.parametrize("write", [xls_bytes, xlsx_bytes, lambda *sheets: csv_bytes(sheets[0])],
                         ids=["xls", "xlsx", "csv"])
def test_size_limit_holds_for_every_format(write):
    data = write(layout([row()]))
    assert sheets_of(data, max_bytes=len(data))
    with pytest.raises(ExcelUnreadable, match="文件过大"):
        sheets_of(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("write", [xls_bytes, xlsx_bytes], ids=["xls", "xlsx"])
def test_row_limit_counts_every_sheet(write):
    data = write(layout([row(name=f"甲{i}") for i in range(3)], name="一月"),
                 layout([row(name=f"乙{i}") for i in range(3)], name="二月"))
    assert [len(s.frame) for s in read_sheets(data, is_known, max_rows=6).sheets] == [3, 3]
    with pytest.raises(ExcelUnreadable, match="每个文件最多 5 行（各工作表合计）"):
        read_sheets(data, is_known, max_rows=5)


def test_row_and_column_limits_hold_for_csv():
    data = csv_bytes(layout([row(name=f"甲{i}") for i in range(3)]))
    assert len(read_sheets(data, is_known, max_rows=3).sheets[0].frame) == 3
    with pytest.raises(ExcelUnreadable, match="数据行过多"):
        read_sheets(data, is_known, max_rows=2)
    wide = csv_bytes(layout([row() + [""] * 300 + ["尾"]]))
    with pytest.raises(ExcelUnreadable, match="第4行有 318 列，每行最多 256 列"):
        read_sheets(wide, is_known)
    assert read_sheets(csv_bytes(layout([row() + [""] * 300])), is_known).sheets  # blank cells past the end


def test_sheet_count_is_limited():
    many = [layout([], titles=(), header=[], name=f"S{i}") for i in range(101)]
    with pytest.raises(ExcelUnreadable, match="工作表过多（101 个）"):
        sheets_of(xlsx_bytes(*many))
