"""Ledger test helpers: real .xlsx ledgers built with openpyxl, in the shapes counties send them."""
from __future__ import annotations

import io

import openpyxl

ONE_ROW = ["序号", "项目名称", "投资方", "所属县（市、区）", "所属园区", "产业类别", "总投资（万元）", "签约类型", "签约时间",
           "签约活动", "项目阶段", "计划开工时间", "实际开工时间", "累计完成投资（万元）", "挂钩领导", "责任单位", "存在问题"]


def ledger_bytes(rows: list[list], *, header: list[str] | None = None, groups: list[tuple[str, int, int]] | None = None,
                 titles: tuple[str, ...] = ("三明市2026年招商引资项目推进台账", "填报单位：三元区商务局    金额单位：万元"),
                 formulas: dict[tuple[int, int], str] | None = None) -> bytes:
    """A workbook: title/note rows, then a header (two rows when ``groups`` gives (name, first, last)
    0-based column spans merged over their sub-columns), then ``rows``. Returns the file's bytes."""
    book = openpyxl.Workbook()
    sheet = book.active
    for title in titles:
        sheet.append([title])
    header = header or ONE_ROW
    if groups:
        top = list(header)
        sub = [None] * len(header)
        start = len(titles) + 1
        for name, first, last in groups:
            for i in range(first, last + 1):
                sub[i], top[i] = header[i], None
            top[first] = name
        sheet.append(top)
        sheet.append(sub)
        for i in range(len(header)):
            if sub[i] is None:
                sheet.merge_cells(start_row=start, start_column=i + 1, end_row=start + 1, end_column=i + 1)
        for name, first, last in groups:
            sheet.merge_cells(start_row=start, start_column=first + 1, end_row=start, end_column=last + 1)
    else:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    for (r, c), text in (formulas or {}).items():
        sheet.cell(r, c).value = text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row(name="黄砂氟化工新材料项目", investor="福建氟源新材料有限公司", county="三元区", park="", industry="氟新材料",
        total="5000", sign_type="合同", sign_date="2025-06-18", event="", stage="签约", planned_start="",
        actual_start="", completed="", leader="", unit="", blocker="", seq=1) -> list:
    return [seq, name, investor, county, park, industry, total, sign_type, sign_date, event, stage, planned_start,
            actual_start, completed, leader, unit, blocker]
