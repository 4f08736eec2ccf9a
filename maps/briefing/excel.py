"""The monthly briefing workbook (调度会) built from plain rows with pandas and openpyxl."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from core.clock import local_date
from core.inputs import xml_safe
from projects.chains import excel as chain_excel
from projects.reports.models import BlockerCategory
from projects.stages import SignType, Stage

MONEY_FORMAT = '#,##0.00" 万元"'
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
# Text a spreadsheet would read as a formula (or DDE payload): =, +, -, @, tab and CR.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

SHEETS = ("县区×阶段汇总", "按产业", "本月签约", "本月开工", "红灯项目", "未解决问题", "填报完成情况", "资料完整率",
          chain_excel.SHEET)


def _money(value) -> float:
    return float(value if value is not None else Decimal(0))


def _label(enum_cls, value) -> str:
    return enum_cls(value).label if value else ""


def _project_frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    """A DataFrame with the given row keys as Chinese column headers (empty frames keep their headers)."""
    data = []
    for row in rows:
        item = {}
        for key, header in columns.items():
            value = row.get(key)
            if key == "stage":
                value = _label(Stage, value)
            elif key == "sign_type":
                value = _label(SignType, value)
            elif key == "category":
                value = _label(BlockerCategory, value)
            elif key == "escalated":
                value = "是" if value else "否"
            elif key == "created_at":
                value = local_date(value)
            elif isinstance(value, Decimal):
                value = float(value)
            elif value is None and key not in DATE_KEYS:
                value = ""
            item[header] = value
        data.append(item)
    return pd.DataFrame(data, columns=list(columns.values()))


MONEY_KEYS = {"total_investment", "investment_completed", "funds_arrived"}
DATE_KEYS = {"sign_date", "actual_start", "planned_start", "planned_completion", "planned_production", "due_date",
             "created_at"}

PROJECT_COLUMNS = {"name": "项目名称", "investor_name": "投资方", "county": "县（市、区）", "park": "所属园区",
                   "industry": "产业", "stage": "当前阶段", "sign_type": "签约类型", "sign_date": "签约日期",
                   "event": "签约活动", "total_investment": "总投资（万元）"}
STARTED_COLUMNS = {"name": "项目名称", "investor_name": "投资方", "county": "县（市、区）", "park": "所属园区",
                   "industry": "产业", "stage": "当前阶段", "actual_start": "实际开工日期",
                   "total_investment": "总投资（万元）", "investment_completed": "累计完成投资（万元）"}
RED_COLUMNS = {"name": "项目名称", "county": "县（市、区）", "industry": "产业", "stage": "当前阶段",
               "planned_start": "计划开工", "planned_completion": "计划竣工", "planned_production": "计划投产",
               "total_investment": "总投资（万元）", "responsible_unit": "责任单位"}
BLOCKER_COLUMNS = {"project": "项目名称", "county": "县（市、区）", "category": "问题类别", "description": "存在问题",
                   "department": "责任部门", "due_date": "限办日期", "escalated": "已提级", "created_at": "提出日期"}


def _frames(data: dict) -> dict[str, tuple[pd.DataFrame, set[str], set[str], set[str]]]:
    """Sheet name → (frame, money headers, date headers, percent headers)."""
    stage_headers = {stage.value: stage.label for stage in Stage}
    county_rows = []
    for row in data["county_stage"]:
        item = {"县（市、区）": row["name"]}
        item.update({label: row[value] for value, label in stage_headers.items()})
        item.update({"项目数": row["count"], "总投资（万元）": _money(row["total_investment"])})
        county_rows.append(item)
    county_columns = ["县（市、区）", *stage_headers.values(), "项目数", "总投资（万元）"]
    county = pd.DataFrame(county_rows, columns=county_columns)
    if len(county) > 1:
        totals = county.drop(columns="县（市、区）").sum(numeric_only=True)
        county = pd.concat([county, pd.DataFrame([{"县（市、区）": "合计", **totals.to_dict()}])], ignore_index=True)
    industry = pd.DataFrame([{"产业": r["name"], "项目数": r["count"], "已签约": r["signed"],
                              "总投资（万元）": _money(r["total_investment"]),
                              "累计完成投资（万元）": _money(r["investment_completed"]),
                              "到位资金（万元）": _money(r["funds_arrived"]), "已开工": r["started"],
                              "已投产": r["producing"]} for r in data["industries"]],
                            columns=["产业", "项目数", "已签约", "总投资（万元）", "累计完成投资（万元）", "到位资金（万元）",
                                     "已开工", "已投产"])
    completeness = pd.DataFrame([{"排名": r["rank"], "县（市、区）": r["name"], "应报": r["due"], "已报": r["reported"],
                                  "完成率": r["rate"]} for r in data["completeness"]],
                                columns=["排名", "县（市、区）", "应报", "已报", "完成率"])

    data_columns = ["县（市、区）", "签约以后的项目", "资料完整", "有资料缺项", "资料完整率"]
    data_completeness = pd.DataFrame([dict(zip(data_columns, (r["name"], r["total"], r["complete"], r["gaps"], r["rate"])))
                                      for r in data["data_completeness"]], columns=data_columns)

    def headers(columns, keys):
        return {columns[k] for k in keys if k in columns}

    money_all = {"总投资（万元）", "累计完成投资（万元）", "到位资金（万元）"}
    return {
        SHEETS[0]: (county, money_all, set(), set()),
        SHEETS[1]: (industry, money_all, set(), set()),
        SHEETS[2]: (_project_frame(data["signed"], PROJECT_COLUMNS), headers(PROJECT_COLUMNS, MONEY_KEYS),
                    headers(PROJECT_COLUMNS, DATE_KEYS), set()),
        SHEETS[3]: (_project_frame(data["started"], STARTED_COLUMNS), headers(STARTED_COLUMNS, MONEY_KEYS),
                    headers(STARTED_COLUMNS, DATE_KEYS), set()),
        SHEETS[4]: (_project_frame(data["red"], RED_COLUMNS), headers(RED_COLUMNS, MONEY_KEYS),
                    headers(RED_COLUMNS, DATE_KEYS), set()),
        SHEETS[5]: (_project_frame(data["blockers"], BLOCKER_COLUMNS), set(), headers(BLOCKER_COLUMNS, DATE_KEYS),
                    set()),
        SHEETS[6]: (completeness, set(), set(), {"完成率"}),
        SHEETS[7]: (data_completeness, set(), set(), {"资料完整率"}),
        SHEETS[8]: (chain_excel.gap_frame(data["chains"]), {"总投资（万元）"}, set(), set()),
    }


def _display_width(value) -> int:
    text = value.isoformat() if isinstance(value, dt.date) else str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _finish(sheet, frame: pd.DataFrame, money: set[str], dates: set[str], percents: set[str]) -> None:
    """Bold frozen header, number formats, text kept as text, and column widths."""
    sheet.freeze_panes = "A2"
    for column_index, header in enumerate(frame.columns, start=1):
        letter = get_column_letter(column_index)
        head = sheet.cell(row=1, column=column_index)
        head.font = Font(bold=True)
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        width = _display_width(header)
        for row_index in range(2, len(frame) + 2):
            cell = sheet.cell(row=row_index, column=column_index)
            value = cell.value
            if isinstance(value, str):
                # Never let a name become a formula: keep the exact text, typed as a string.
                if value.startswith(FORMULA_STARTS) or cell.data_type == "f":
                    cell.value = value
                    cell.data_type = "s"
                    cell.quotePrefix = True
            elif header in money:
                cell.number_format = MONEY_FORMAT
            elif header in dates and value is not None:
                cell.number_format = DATE_FORMAT
            elif header in percents:
                cell.number_format = PERCENT_FORMAT
            width = max(width, _display_width(value) + (4 if header in money else 0))
        sheet.column_dimensions[letter].width = min(max(width + 2, 8), 60)


def briefing_workbook(data: dict, *, title: str) -> bytes:
    """The monthly briefing as .xlsx bytes: one sheet per section, formatted for the 调度会."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl", date_format=DATE_FORMAT) as writer:
        for name, (frame, money, dates, percents) in _frames(data).items():
            # Rows saved before the text rules may hold characters an .xlsx cannot carry: drop them.
            frame = frame.map(lambda value: xml_safe(value) if isinstance(value, str) else value)
            frame.to_excel(writer, sheet_name=name, index=False)
            _finish(writer.sheets[name], frame, money, dates, percents)
        writer.book.properties.title = title
    return buffer.getvalue()
