"""Generic spreadsheet handling: finding each sheet's table into a DataFrame, formatted sheet writing and the import report."""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Callable, Iterable

import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from core.inputs import xml_safe
from core.spreadsheets import MAX_FILE_BYTES, ExcelUnreadable, open_sheets

MAX_DATA_ROWS = 20_000  # in the whole file, every sheet together
MAX_COLUMNS = 256  # as many as a .xls sheet has; a ledger has about twenty
HEADER_SEARCH_ROWS = 30  # the header must start within the first rows (title and note rows above it)
ROW_COLUMN = "_row"  # the DataFrame column carrying the spreadsheet's own row number
HEADER_EXAMPLE = "如“项目名称”“投资方”“所属县（市、区）”"


@dataclass
class Problem:
    row: int | None  # the spreadsheet's row number (1-based, as Excel shows it)
    column: str  # the column's header as written in the sheet ("" for the row as a whole)
    message: str
    sheet: str = ""  # the sheet's name when the workbook has several

    def line(self) -> str:
        return where(self.sheet, self.row) + (f"【{self.column}】" if self.column else "") + f"：{self.message}"


def where(sheet: str, row: int | None) -> str:
    """A place in the file as users find it: 第N行, or 【sheet】第N行 in a workbook of several sheets."""
    return (f"【{sheet}】" if sheet else "") + (f"第{row}行" if row else "表头")


@dataclass
class ImportReport:
    """What reading a file found: problems by sheet and row, notices (unknown columns, skipped sheets), counts."""

    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)  # blank and 合计/小计/总计 rows
    data_rows: int = 0
    sheets: list[str] = field(default_factory=list)  # the sheets read, in workbook order (for sorting problems)

    def add(self, row: int | None, column: str, message: str, *, sheet: str = "") -> None:
        self.problems.append(Problem(row, column, message, sheet))

    @property
    def ok(self) -> bool:
        return not self.problems

    def order(self, sheet: str, row: int | None) -> tuple[int, int]:
        return (self.sheets.index(sheet) if sheet in self.sheets else -1, row or 0)

    def lines(self) -> list[str]:
        return [p.line() for p in sorted(self.problems, key=lambda p: self.order(p.sheet, p.row))]


@dataclass
class Sheet:
    """A sheet's data below its header: one DataFrame column per sheet column, plus ``_row``.

    ``columns`` are the header names as written (for a two-row header, the sub-column's name, or
    the merged cell's when the column has none); ``groups`` the group above each (or "")."""

    frame: pd.DataFrame
    columns: list[str]
    groups: list[str]
    header_rows: tuple[int, ...]
    name: str = ""  # the sheet's name in messages: "" when the file has one sheet (or is a CSV)


@dataclass
class Book:
    sheets: list[Sheet]  # those with a header, in workbook order
    notices: list[str]  # the sheets skipped, and why


def _text(value) -> str:
    return "".join(str(value).split()) if value is not None else ""


def read_sheets(data: bytes, is_known: Callable[[str], bool], *, max_rows: int = MAX_DATA_ROWS,
                max_bytes: int = MAX_FILE_BYTES) -> Book:
    """Read every visible sheet whose header is found: the first row with at least two known column names.

    A second header row is taken when the row below names known columns too (group cells such as
    签约情况 merged over their sub-columns). Formula cells are kept as the marker ``("formula", text)``
    so the caller can refuse them: formulas are never evaluated. Hidden sheets, blank ones and those
    without a header are skipped with a notice; when no sheet has a header the file is refused."""
    sheets: list[Sheet] = []
    skipped: list[tuple[str, str]] = []
    with open_sheets(data, max_bytes=max_bytes) as raw_sheets:
        several = len(raw_sheets) > 1
        for raw in raw_sheets:
            if raw.hidden:
                skipped.append((raw.name, "已隐藏"))
                continue
            used = sum(len(s.frame) for s in sheets)
            rows, blank = _table(raw.rows, is_known, max_rows - used, max_rows, raw.name if several else "")
            if rows:
                sheets.append(_sheet(rows, is_known, raw.name if several else ""))
                if used + len(sheets[-1].frame) > max_rows:
                    raise _too_many_rows(max_rows)
            else:
                skipped.append((raw.name, "是空白表" if blank else f"的前 {HEADER_SEARCH_ROWS} 行中没有可识别的表头"))
    if not sheets:
        if not several:
            raise ExcelUnreadable(f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头（{HEADER_EXAMPLE}），请检查工作表。")
        reasons = "；".join(f"【{name}】{reason}" for name, reason in skipped)
        raise ExcelUnreadable(f"工作簿中没有可导入的工作表：{reasons}。请检查表头（{HEADER_EXAMPLE}）。")
    return Book(sheets, [f"工作表【{name}】{reason}，已跳过。" + ("如需导入，请先取消隐藏。" if reason == "已隐藏" else "")
                         for name, reason in skipped])


def _too_many_rows(max_rows: int) -> ExcelUnreadable:
    return ExcelUnreadable(f"数据行过多：每个文件最多 {max_rows:,} 行（各工作表合计），请拆分后分批导入。")


def _table(rows: Iterable[list], is_known: Callable[[str], bool], budget: int, max_rows: int,
           sheet: str) -> tuple[list[tuple[int, list]], bool]:
    """The header row and every row below it (``budget`` data rows at most), and whether the rows searched
    for a header were all blank. Trailing blank cells are dropped, so a row is as wide as its last value."""
    found: list[tuple[int, list]] = []
    blank, limit = True, 0
    for number, values in enumerate(rows, start=1):
        end = len(values)
        while end and values[end - 1] in (None, ""):
            end -= 1
        values = values[:end]
        if not found:
            if number > HEADER_SEARCH_ROWS:
                return [], False  # rows go on below: not a blank sheet
            blank = blank and not values
            if sum(1 for v in values[:MAX_COLUMNS] if isinstance(v, str) and is_known(_text(v))) < 2:
                continue
            limit = number + 1 + budget + 1  # enough to stop early: a second header row, then the data rows
        if number > limit:
            raise _too_many_rows(max_rows)
        if len(values) > MAX_COLUMNS:
            raise ExcelUnreadable(f"{where(sheet, number)}有 {len(values)} 列，每行最多 {MAX_COLUMNS} 列。")
        found.append((number, values))
    return found, blank


def _sheet(rows: list[tuple[int, list]], is_known: Callable[[str], bool], name: str) -> Sheet:
    width = max(len(values) for _, values in rows)
    header_at = rows[0][0]
    top = [_text(v) for v in rows[0][1]] + [""] * (width - len(rows[0][1]))
    header_rows = (header_at,)
    columns, groups = list(top), [""] * width
    if len(rows) > 1:
        second = [_text(v) if not isinstance(v, tuple) else "" for v in rows[1][1]]
        second += [""] * (width - len(second))
        if any(is_known(v) for v in second if v):
            header_rows = (header_at, rows[1][0])
            group = ""
            for i in range(width):
                group = top[i] or group  # a merged group cell: its text sits in the first column only
                if second[i]:
                    columns[i], groups[i] = second[i], group if not is_known(top[i]) or not top[i] else top[i]
                else:
                    columns[i], group = top[i], ""  # a column merged down over both header rows
    body = rows[len(header_rows):]
    frame = pd.DataFrame([values + [None] * (width - len(values)) for _, values in body],
                         columns=range(width), dtype=object)
    frame[ROW_COLUMN] = [number for number, _ in body]
    return Sheet(frame=frame, columns=columns, groups=groups, header_rows=header_rows, name=name)


# ---- Writing ----

THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
MONEY_FORMAT = '#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Column:
    title: str
    group: str = ""  # a group title merged over consecutive columns in the first header row
    kind: str = "text"  # text | money | date | int
    width: float = 14


def _text_cell(cell, text: str) -> None:
    """Store ``text`` as a string cell, never a formula (openpyxl's ``cell.value = "=…"`` would make one).

    Writing ``_value`` skips openpyxl's character check too, so what XML cannot carry is dropped here."""
    cell._value, cell.data_type = xml_safe(text), "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True  # Excel keeps it text even when the user edits the cell


def write_sheet(frame: pd.DataFrame, columns: list[Column], *, title: str, sheet_name: str = "台账",
                total_row: dict[int, object] | None = None, book: openpyxl.Workbook | None = None) -> openpyxl.Workbook:
    """A formatted sheet: a title row, a one- or two-row header (groups merged), the rows, a total row.

    Text cells are always stored as strings (data type "s"), so text such as "=1+1" can never become
    a formula; numbers get 万元 formats and dates real date cells."""
    if book is None:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = sheet_name
    else:
        sheet = book.create_sheet(sheet_name)
    two_rows = any(c.group for c in columns)
    n = len(columns)
    sheet.cell(1, 1, title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    header_top = 2
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    i = 0
    while i < n:
        col = columns[i]
        if two_rows and col.group:
            j = i
            while j + 1 < n and columns[j + 1].group == col.group:
                j += 1
            sheet.cell(header_top, i + 1, col.group)
            if j > i:
                sheet.merge_cells(start_row=header_top, start_column=i + 1, end_row=header_top, end_column=j + 1)
            for k in range(i, j + 1):
                sheet.cell(header_top + 1, k + 1, columns[k].title)
            i = j + 1
            continue
        sheet.cell(header_top, i + 1, col.title)
        if two_rows:
            sheet.merge_cells(start_row=header_top, start_column=i + 1, end_row=header_top + 1, end_column=i + 1)
        i += 1
    last_header = header_top + (1 if two_rows else 0)
    for r in range(header_top, last_header + 1):
        for c in range(1, n + 1):
            cell = sheet.cell(r, c)
            cell.font, cell.alignment, cell.fill, cell.border = bold, center, HEADER_FILL, BORDER
    formats = [MONEY_FORMAT if c.kind == "money" else DATE_FORMAT if c.kind == "date" else None for c in columns]
    kinds = [c.kind for c in columns]
    r = last_header
    for values in frame.itertuples(index=False, name=None):
        r += 1
        for c, value in enumerate(values):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            cell = sheet.cell(r, c + 1)
            if kinds[c] == "text":
                _text_cell(cell, str(value))
            else:
                cell.value = _plain(value)
                if formats[c]:
                    cell.number_format = formats[c]
    if total_row is not None:
        r += 1
        for c, value in total_row.items():
            cell = sheet.cell(r, c + 1)
            if isinstance(value, str):
                _text_cell(cell, value)
            else:
                cell.value = _plain(value)
                if formats[c]:
                    cell.number_format = formats[c]
            cell.font = bold
    sheet.freeze_panes = sheet.cell(last_header + 1, 2)
    for c, col in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = col.width
    return book


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date()
    if hasattr(value, "item") and not isinstance(value, (dt.date, str)):
        return value.item()  # numpy scalars
    return value


def workbook_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rows_frame(rows: Iterable[Iterable], columns: list[Column]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=[c.title for c in columns], dtype=object)
