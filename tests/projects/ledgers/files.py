"""Ledger test helpers: real ledgers in the shapes and formats counties send them.

.xlsx files are written with openpyxl, .xls files (Excel 97–2003) with xlwt, .csv files with the csv module in
the encoding asked for. A sheet is first laid out as cells (title rows, a one- or two-row header, the rows)
and merged ranges, then written in any format, so the same ledger can be compared across formats."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

import openpyxl
import xlwt

ONE_ROW = ["序号", "项目名称", "投资方", "所属县（市、区）", "所属园区", "产业类别", "总投资（万元）", "签约类型", "签约时间",
           "签约活动", "项目阶段", "计划开工时间", "实际开工时间", "累计完成投资（万元）", "挂钩领导", "责任单位", "存在问题"]
TITLES = ("三明市2026年招商引资项目推进台账", "填报单位：三元区商务局    金额单位：万元")


@dataclass
class Layout:
    """One sheet as cells: ``cells[r][c]`` (0-based), ``merges`` as (first row, first col, last row, last col)
    0-based, and ``formulas`` {(row, col) 1-based: "=…"} written as formula cells."""

    cells: list[list]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    name: str = "台账"
    hidden: bool = False


def layout(rows: list[list], *, header: list[str] | None = None, groups: list[tuple[str, int, int]] | None = None,
           titles: tuple[str, ...] = TITLES, formulas: dict[tuple[int, int], str] | None = None,
           name: str = "台账", hidden: bool = False) -> Layout:
    """Title/note rows, then a header (two rows when ``groups`` gives (name, first, last) 0-based column spans
    merged over their sub-columns), then ``rows``."""
    cells: list[list] = [[title] for title in titles]
    merges = []
    header = ONE_ROW if header is None else header
    if groups:
        top, sub = list(header), [None] * len(header)
        start = len(titles)
        for group, first, last in groups:
            for i in range(first, last + 1):
                sub[i], top[i] = header[i], None
            top[first] = group
        cells += [top, sub]
        merges += [(start, i, start + 1, i) for i in range(len(header)) if sub[i] is None]
        merges += [(start, first, start, last) for _, first, last in groups]
    else:
        cells.append(list(header))
    cells += [list(r) for r in rows]
    return Layout(cells, merges, dict(formulas or {}), name, hidden)


def xlsx_bytes(*sheets: Layout) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.name)
        for values in sheet.cells:
            ws.append(values)
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
        for (r, c), text in sheet.formulas.items():
            ws.cell(r, c).value = text
        if sheet.hidden:
            ws.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLS_DATE = xlwt.easyxf(num_format_str="yyyy-mm-dd")


def xls_bytes(*sheets: Layout) -> bytes:
    """An Excel 97–2003 workbook (BIFF8, as WPS and old Office save it); dates become real date cells."""
    book = xlwt.Workbook(encoding="utf-8")
    for sheet in sheets:
        ws = book.add_sheet(sheet.name, cell_overwrite_ok=True)
        for r, values in enumerate(sheet.cells):
            for c, value in enumerate(values):
                if isinstance(value, dt.date):
                    ws.write(r, c, value, XLS_DATE)
                elif value is not None:
                    ws.write(r, c, value)
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge(r1, r2, c1, c2)
        for (r, c), text in sheet.formulas.items():
            ws.write(r - 1, c - 1, xlwt.Formula(text.removeprefix("=")))
        ws.visibility = 1 if sheet.hidden else 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(sheet: Layout, encoding: str = "gbk") -> bytes:
    """The sheet as Excel and WPS save a CSV: comma-separated, CRLF, dates as text, merged cells as their
    first cell; ``encoding`` "gbk" (WPS and Chinese Excel's default), "utf-8-sig" (with a BOM) or "utf-8"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cells = [list(values) for values in sheet.cells]
    for (r, c), text in sheet.formulas.items():
        cells[r - 1] += [None] * (c - len(cells[r - 1]))
        cells[r - 1][c - 1] = text
    for values in cells:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in values])
    return buffer.getvalue().encode(encoding)


def ledger_bytes(rows: list[list], **shape) -> bytes:
    """A one-sheet .xlsx ledger (see ``layout`` for the shape). Returns the file's bytes."""
    return xlsx_bytes(layout(rows, **shape))


def row(name="黄砂氟化工新材料项目", investor="福建氟源新材料有限公司", county="三元区", park="", industry="氟新材料",
        total="5000", sign_type="合同", sign_date="2025-06-18", event="", stage="签约", planned_start="",
        actual_start="", completed="", leader="", unit="", blocker="", seq=1) -> list:
    return [seq, name, investor, county, park, industry, total, sign_type, sign_date, event, stage, planned_start,
            actual_start, completed, leader, unit, blocker]
