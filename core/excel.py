"""Generic Excel handling: safe .xlsx reading into a DataFrame, formatted sheet writing and the import report."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Iterable

import defusedxml  # noqa: F401  (openpyxl parses with defusedxml when it is installed: XML-bomb safe)
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.xml import DEFUSEDXML
from openpyxl.xml.constants import XLSM, XLSX, XLTM, XLTX

from core.errors import InvalidInput
from core.inputs import xml_safe

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DATA_ROWS = 20_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # sum of the members' uncompressed sizes
MAX_RATIO = 200  # a member inflating more than this many times its packed size is a zip bomb
HEADER_SEARCH_ROWS = 30  # the header must start within the first rows (title and note rows above it)
XLSX_MAGIC = b"PK\x03\x04"
CONTENT_TYPES = "[Content_Types].xml"  # every Office Open XML file has it; it names the main part's kind
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
WORKBOOK_TYPES = (XLSX, XLSM, XLTX, XLTM)  # what openpyxl opens
ROW_COLUMN = "_row"  # the DataFrame column carrying the spreadsheet's own row number
FORMULA = "formula"

assert DEFUSEDXML, "openpyxl must parse through defusedxml"


class ExcelUnreadable(InvalidInput):
    """The upload is not a readable, safe .xlsx workbook; the message is for the user (Chinese)."""


@dataclass
class Problem:
    row: int | None  # the spreadsheet's row number (1-based, as Excel shows it)
    column: str  # the column's header as written in the sheet ("" for the row as a whole)
    message: str

    def line(self) -> str:
        where = f"第{self.row}行" if self.row else "表头"
        return f"{where}" + (f"【{self.column}】" if self.column else "") + f"：{self.message}"


@dataclass
class ImportReport:
    """What reading a sheet found: problems by sheet row, notices (unknown columns) and counts."""

    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)  # blank and 合计/小计/总计 rows
    header_rows: tuple[int, ...] = ()
    data_rows: int = 0

    def add(self, row: int | None, column: str, message: str) -> None:
        self.problems.append(Problem(row, column, message))

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return [p.line() for p in sorted(self.problems, key=lambda p: (p.row or 0))]


@dataclass
class Sheet:
    """A sheet's data below its header: one DataFrame column per sheet column, plus ``_row``.

    ``columns`` are the header names as written (for a two-row header, the sub-column's name, or
    the merged cell's when the column has none); ``groups`` the group above each (or "")."""

    frame: pd.DataFrame
    columns: list[str]
    groups: list[str]
    header_rows: tuple[int, ...]


def check_xlsx(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse anything but a modest, honest .xlsx: size, magic bytes, zip structure, unpacked size, DTDs,
    and a workbook inside (judged by content, never by the file name)."""
    if len(data) > max_bytes:
        raise ExcelUnreadable(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限为 {max_bytes // 1024 // 1024} MB。")
    if not data.startswith(XLSX_MAGIC):
        raise ExcelUnreadable("文件不是 Excel 工作簿（.xlsx）。请在 Excel 中“另存为 .xlsx”后再上传（不支持 .xls、.csv）。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ExcelUnreadable("文件已损坏，无法作为 .xlsx 打开。") from None
    with archive:
        names = {m.filename for m in members}
        if CONTENT_TYPES not in names:
            raise ExcelUnreadable("文件是一个压缩包（.zip），不是 Excel 工作簿（.xlsx）。请上传在 Excel 或 WPS 表格中保存的 .xlsx 文件。")
        total = sum(m.file_size for m in members)
        if total > MAX_UNPACKED_BYTES:
            raise ExcelUnreadable(f"文件解压后过大（{total / 1024 / 1024:.0f} MB），疑似压缩炸弹，已拒绝。")
        for member in members:
            if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                raise ExcelUnreadable(f"文件中的“{member.filename}”压缩比异常，疑似压缩炸弹，已拒绝。")
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                # Real workbooks never declare a DTD; entity tricks (billion laughs) need one.
                with archive.open(member) as handle:
                    head = handle.read(64 * 1024)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise ExcelUnreadable(f"文件中的“{member.filename}”含有 DTD/实体声明，已按不安全文件拒绝。")
        with archive.open(CONTENT_TYPES) as handle:
            declared = handle.read(MAX_CONTENT_TYPES_BYTES)
        if not any(kind.encode() in declared for kind in WORKBOOK_TYPES):
            # Word, PowerPoint and other Office Open XML files share the zip layout but hold no workbook.
            raise ExcelUnreadable("文件不是 Excel 工作簿（.xlsx），可能是 Word、PowerPoint 等其他 Office 文档。")


def _text(value) -> str:
    return "".join(str(value).split()) if value is not None else ""


def read_sheet(data: bytes, is_known: Callable[[str], bool], *, max_rows: int = MAX_DATA_ROWS,
               max_bytes: int = MAX_FILE_BYTES) -> Sheet:
    """Read the first sheet; the header row is the first with at least two known column names.

    A second header row is taken when the row below names known columns too (group cells such as
    签约情况 merged over their sub-columns). Formula cells are kept as the marker ``("formula", text)``
    so the caller can refuse them: formulas are never evaluated."""
    check_xlsx(data, max_bytes=max_bytes)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for broken parts, defusedxml its own
        raise ExcelUnreadable(f"无法读取该 Excel 文件（{type(exc).__name__}），请确认是有效的 .xlsx。") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ExcelUnreadable("工作簿中没有工作表。")
        sheet.reset_dimensions()  # trust the cells, not the dimension a writer claimed
        rows: list[tuple[int, list]] = []
        header_at = None
        limit = None
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            values = [(FORMULA, c.value) if c.data_type == "f" else c.value for c in cells]
            if header_at is None:
                if number > HEADER_SEARCH_ROWS:
                    break
                if sum(1 for v in values if isinstance(v, str) and is_known(_text(v))) >= 2:
                    header_at, limit = number, number + 1 + max_rows + 1
            if header_at is not None:
                if number > limit:
                    raise ExcelUnreadable(f"数据行过多：每个文件最多 {max_rows:,} 行，请拆分后分批导入。")
                rows.append((number, values))
    except ExcelUnreadable:
        raise
    except Exception as exc:
        raise ExcelUnreadable(f"无法读取该 Excel 文件（{type(exc).__name__}），请确认是有效的 .xlsx。") from None
    finally:
        book.close()
    if header_at is None:
        raise ExcelUnreadable(f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头（如“项目名称”“投资方”“所属县（市、区）”），请检查工作表。")
    width = max(len(values) for _, values in rows)
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
    if len(frame) > max_rows:
        raise ExcelUnreadable(f"数据行过多：每个文件最多 {max_rows:,} 行，请拆分后分批导入。")
    return Sheet(frame=frame, columns=columns, groups=groups, header_rows=header_rows)


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
