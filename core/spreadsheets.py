"""Opening an uploaded spreadsheet safely, whatever its format (.xlsx, .xls or .csv, told apart by content): its sheets' rows."""
from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import defusedxml  # noqa: F401  (openpyxl parses with defusedxml when it is installed: XML-bomb safe)
import openpyxl
import xlrd
from openpyxl.xml import DEFUSEDXML
from openpyxl.xml.constants import XLSM, XLSX, XLTM, XLTX
from xlrd import compdoc

from core.errors import InvalidInput

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # sum of the members' uncompressed sizes
MAX_RATIO = 200  # a member inflating more than this many times its packed size is a zip bomb
MAX_SHEETS = 100
XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file every .xls (Excel 97–2003, WPS) is stored in
CONTENT_TYPES = "[Content_Types].xml"  # every Office Open XML file has it; it names the main part's kind
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
WORKBOOK_TYPES = (XLSX, XLSM, XLTX, XLTM)  # what openpyxl opens
FORMULA = "formula"
KINDS = {"xlsx": ".xlsx", "xls": ".xls", "csv": ".csv"}
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (a BOM or none), then GB18030, which contains GBK and GB2312
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls no text file holds (tab, LF and CR it may)
# BIFF records (Excel 95 and 97–2003): a 2-byte type and a 2-byte length, then the body.
BIFF_BOF, BIFF_BOUNDSHEET, BIFF_FORMULA = 0x0809, 0x0085, 0x0006
NOT_A_SPREADSHEET = "文件不是 Excel 工作簿（.xlsx、.xls），也不是 CSV 文本"
SAVE_AS = "请在 Excel 或 WPS 表格中另存为 .xlsx（或“CSV UTF-8（逗号分隔）”）后再上传。"

assert DEFUSEDXML, "openpyxl must parse through defusedxml"


class ExcelUnreadable(InvalidInput):
    """The upload is not a readable, safe spreadsheet; the message is for the user (Chinese)."""


@dataclass
class RawSheet:
    """One sheet as its cells: ``rows`` yields every row from the first, formula cells as ``(FORMULA, text)``."""

    name: str  # "" for a CSV file
    hidden: bool
    rows: Iterable[list]


def kind_of(data: bytes) -> str:
    """The format by the file's first bytes ("xlsx", "xls" or "csv"); never by its name."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        return "xls"
    return "csv"


def check_size(data: bytes, max_bytes: int = MAX_FILE_BYTES) -> None:
    if len(data) > max_bytes:
        raise ExcelUnreadable(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限为 {max_bytes // 1024 // 1024} MB。")
    if not data:
        raise ExcelUnreadable("文件是空的。")


@contextmanager
def open_sheets(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> Iterator[list[RawSheet]]:
    """The file's sheets in workbook order, to be read inside the block; whatever a reader raises on a broken
    file becomes ExcelUnreadable."""
    check_size(data, max_bytes)
    kind = kind_of(data)
    opener = {"xlsx": _xlsx_sheets, "xls": _xls_sheets, "csv": _csv_sheets}[kind]
    try:
        with opener(data) as sheets:
            if len(sheets) > MAX_SHEETS:
                raise ExcelUnreadable(f"工作簿中的工作表过多（{len(sheets)} 个），上限为 {MAX_SHEETS} 个。")
            yield sheets
    except ExcelUnreadable:
        raise
    except Exception as exc:  # the readers raise many kinds for broken parts, defusedxml its own
        raise ExcelUnreadable(f"无法读取该文件（{type(exc).__name__}），请确认是有效的 {KINDS[kind]} 文件。") from None


# ---- .xlsx (openpyxl, read-only, through defusedxml) ----

def check_xlsx(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> None:
    """Refuse anything but a modest, honest .xlsx: size, magic bytes, zip structure, unpacked size, DTDs,
    and a workbook inside (judged by content, never by the file name)."""
    check_size(data, max_bytes)
    if not data.startswith(XLSX_MAGIC):
        raise ExcelUnreadable("文件不是 Excel 工作簿（.xlsx）。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ExcelUnreadable("文件已损坏，无法作为 .xlsx 打开。") from None
    with archive:
        names = {m.filename for m in members}
        if CONTENT_TYPES not in names:
            raise ExcelUnreadable("文件是一个压缩包（.zip），不是 Excel 工作簿（.xlsx）。请上传在 Excel 或 WPS 表格中保存的台账文件。")
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


@contextmanager
def _xlsx_sheets(data: bytes) -> Iterator[list[RawSheet]]:
    check_xlsx(data)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        yield [RawSheet(sheet.title, sheet.sheet_state != "visible", _xlsx_rows(sheet)) for sheet in book.worksheets]
    finally:
        book.close()


def _xlsx_rows(sheet) -> Iterator[list]:
    sheet.reset_dimensions()  # trust the cells, not the dimension a writer claimed
    for cells in sheet.iter_rows():
        yield [(FORMULA, c.value) if c.data_type == "f" else c.value for c in cells]


# ---- .xls (xlrd; formulas found in the BIFF records) ----

@contextmanager
def _xls_sheets(data: bytes) -> Iterator[list[RawSheet]]:
    """A compound file is not compressed, so the 10 MB limit bounds it; xlrd refuses sector chains that loop or
    overlap, keeps each shared string once however many cells use it, and with ``ragged_rows`` never pads a
    row to a width some record claims."""
    quiet = io.StringIO()  # xlrd writes its warnings to a log file, stdout by default
    document = compdoc.CompDoc(data, logfile=quiet)
    if document.get_named_stream("EncryptedPackage") is not None:
        raise ExcelUnreadable("文件设有打开密码（已加密），请在 Excel 或 WPS 中取消密码后再上传。")
    stream = document.get_named_stream("Workbook") or document.get_named_stream("Book")
    if stream is None:
        raise ExcelUnreadable("文件不是 Excel 工作簿（.xls），可能是 Word、PowerPoint 等其他 Office 文档。")
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, ragged_rows=True, logfile=quiet)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc):
            raise ExcelUnreadable("文件设有打开密码（已加密），请在 Excel 或 WPS 中取消密码后再上传。") from None
        raise
    try:
        scanned = _biff_sheets(stream)
        if len(scanned) != book.nsheets:
            raise ExcelUnreadable("文件结构异常（工作表目录与内容不符），无法作为 .xls 读取。")
        yield [RawSheet(name, hidden, _xls_rows(book, index, formulas))
               for index, (name, (hidden, formulas)) in enumerate(zip(book.sheet_names(), scanned))]
    finally:
        book.release_resources()


def _biff_sheets(stream: bytes) -> list[tuple[bool, set[tuple[int, int]]]]:
    """Each worksheet's hidden flag and formula cells (0-based row, column), in workbook order.

    Neither xlrd nor python-calamine says which cells hold a formula (both give only the last result saved),
    so the records are walked here: BOUNDSHEET names where each sheet's BOF sits and whether it is hidden,
    and every formula cell has a FORMULA record (a shared or array formula too)."""
    starts: dict[int, int] = {}
    sheets: list[tuple[bool, set]] = []
    formulas = None
    position, end = 0, len(stream) - 4
    while position <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        if kind == BIFF_BOUNDSHEET and length >= 6:
            offset, state, sheet_type = struct.unpack_from("<IBB", stream, body)
            if sheet_type == 0:  # a worksheet (not a chart, macro or VB module: xlrd skips those as well)
                starts[offset] = len(sheets)
                sheets.append((state != 0, set()))
        elif kind == BIFF_BOF and position in starts:
            formulas = sheets[starts[position]][1]
        elif kind == BIFF_FORMULA and formulas is not None and length >= 4:
            formulas.add(struct.unpack_from("<HH", stream, body))
        position = body + length
    return sheets


def _xls_rows(book, index: int, formulas: set[tuple[int, int]]) -> Iterator[list]:
    sheet = book.sheet_by_index(index)
    try:
        for r in range(sheet.nrows):
            yield [_xls_formula(cell, book.datemode) if (r, c) in formulas else _xls_value(cell, book.datemode)
                   for c, cell in enumerate(sheet.row(r))]
    finally:
        book.unload_sheet(index)


def _xls_value(cell, datemode: int):
    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_NUMBER:
        return int(value) if value.is_integer() and abs(value) < 2**53 else value  # as openpyxl reads 5000
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(value, datemode)
        except ValueError:  # a number no date can carry (negative, or past 9999): the ledger reports the cell
            return value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERR")
    return value


def _xls_formula(cell, datemode: int) -> tuple[str, str]:
    """The formula marker; a .xls keeps only the formula's compiled tokens, so its saved result is shown."""
    value = _xls_value(cell, datemode)
    return FORMULA, f"结果 {value}" if value not in (None, "") else "未计算"


# ---- .csv (UTF-8 or GB18030/GBK, by content) ----

def decode_text(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without a BOM), else GB18030 (which contains GBK and GB2312).

    Strict UTF-8 almost never accepts GBK text (its lead bytes are never followed by the continuation bytes
    UTF-8 needs), so trying UTF-8 first settles every real file; GB18030 refuses only malformed bytes."""
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _BINARY.search(text):
            raise ExcelUnreadable(f"{NOT_A_SPREADSHEET}（含有二进制内容）。{SAVE_AS}")
        return text
    raise ExcelUnreadable(f"{NOT_A_SPREADSHEET}：CSV 文件须为 UTF-8 或 GB18030（GBK）编码，该文件都不是。{SAVE_AS}")


@contextmanager
def _csv_sheets(data: bytes) -> Iterator[list[RawSheet]]:
    yield [RawSheet("", False, _csv_rows(decode_text(data)))]


def _csv_rows(text: str) -> Iterator[list]:
    """Each record; a blank field is a blank cell, and a field starting with "=" is what a formula is in a CSV
    (Excel and WPS calculate it when they open the file), so it is refused like a formula cell."""
    for record in csv.reader(io.StringIO(text, newline="")):
        yield [(FORMULA, value) if value.startswith("=") else value or None for value in record]
