"""The 缺什么引什么 workbook: the gap and weak nodes with the parks that could host them, for the promotion plan."""
from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd
from openpyxl.styles import Font

from core.inputs import xml_safe

SHEET = "产业链"
COLUMNS = {"industry": "产业", "chain": "产业链", "node": "环节", "status": "状态", "negotiating": "在谈项目",
           "signed": "签约项目", "approval": "前期项目", "investment": "总投资（万元）", "active_leads": "在跟线索",
           "free_land": "可承接园区可供地合计（亩）", "parks": "可承接园区及容量"}
# Text a spreadsheet would read as a formula (or DDE payload).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def gap_frame(records: list[dict]) -> pd.DataFrame:
    """The rows with Chinese headers; amounts as numbers, text as text."""
    def cell(value):
        if isinstance(value, Decimal):
            return float(value)
        return xml_safe(value) if isinstance(value, str) else value
    return pd.DataFrame([{header: cell(record[key]) for key, header in COLUMNS.items()} for record in records],
                        columns=list(COLUMNS.values()))


def finish_sheet(sheet) -> None:
    """Bold frozen header, readable widths, and no name ever read as a formula (kept as typed, as text)."""
    sheet.freeze_panes = "A2"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and (cell.value.startswith(FORMULA_STARTS) or cell.data_type == "f"):
                cell.data_type = "s"
                cell.quotePrefix = True
    widths = {"A": 14, "B": 18, "C": 16, "D": 6, "E": 9, "F": 9, "G": 9, "H": 14, "I": 9, "J": 14, "K": 80}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
        sheet[f"{letter}1"].font = Font(bold=True)


def gap_workbook(records: list[dict], *, title: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        gap_frame(records).to_excel(writer, sheet_name=SHEET, index=False)
        finish_sheet(writer.sheets[SHEET])
        writer.book.properties.title = title
    return buffer.getvalue()
