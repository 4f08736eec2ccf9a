"""The ledger sheet: its column names and their variants, reading a county's sheet into rows, and writing the export."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl.utils.datetime import from_excel

from core.excel import Column, ImportReport, Sheet, read_sheets, rows_frame, where, workbook_bytes, write_sheet
from core.inputs import DATE_RANGE_MESSAGE, check_money, clean_text, date_in_range
from core.spreadsheets import FORMULA
from projects.stages import SignType, Stage

# field → the header names ledgers use for it (compared after normalise()).
COLUMN_VARIANTS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "编号"),
    "name": ("项目名称", "项目"),
    "investor_name": ("投资方", "投资主体", "投资企业", "投资方名称", "投资单位"),
    "county": ("所属县（市、区）", "县（市、区）", "所在地", "所属县区", "县区", "所属县（市区）", "所在县（市、区）"),
    "park": ("所属园区", "园区", "所在园区"),
    "industry": ("产业类别", "所属产业", "产业", "行业类别"),
    "total_investment": ("总投资（万元）", "总投资", "计划总投资", "计划总投资（万元）", "总投资（亿元）", "计划总投资（亿元）"),
    "sign_type": ("签约类型", "项目类型"),
    "sign_date": ("签约时间", "签约日期"),
    "event": ("签约活动", "签约平台"),
    "stage": ("项目阶段", "项目进展", "当前阶段", "进展阶段"),
    "project_code": ("项目代码", "项目编码"),
    "permit_date": ("施工许可办结时间", "施工许可时间"),
    "planned_start": ("计划开工时间",),
    "actual_start": ("实际开工时间", "开工时间"),
    "actual_completion": ("实际竣工时间", "竣工时间"),
    "actual_production": ("实际投产时间", "投产时间"),
    "completed": ("累计完成投资（万元）", "累计完成投资", "累计完成投资（亿元）"),
    "leader": ("挂钩领导", "挂钩市领导"),
    "responsible_unit": ("责任单位",),
    "blocker": ("存在问题", "存在困难", "存在问题及困难", "存在困难和问题"),
    "notes": ("备注",),
}
GROUP_NAMES = ("签约情况", "推进情况", "基本情况", "项目基本情况")
REQUIRED = ("name", "investor_name", "county", "total_investment")
SKIP_WORDS = ("合计", "小计", "总计")
NOTE_STARTS = ("注", "备注：", "说明", "填报人", "审核人", "制表", "联系人", "填报说明")


def normalise(text: str) -> str:
    """Header text reduced for matching: no spaces, ASCII brackets to full width, 日期 → 时间, no * marks."""
    text = "".join(str(text).split()).replace("(", "（").replace(")", "）").replace("*", "").replace("★", "")
    return text.replace("日期", "时间").replace("，", "、").replace(",", "、")


_LOOKUP = {normalise(v): f for f, variants in COLUMN_VARIANTS.items() for v in variants}


def field_for(header: str) -> str | None:
    return _LOOKUP.get(normalise(header)) if header else None


def is_known(header: str) -> bool:
    return field_for(header) is not None or normalise(header) in GROUP_NAMES


SIGN_TYPES = {"合同": SignType.CONTRACT, "合同项目": SignType.CONTRACT, "正式合同": SignType.CONTRACT,
              "协议": SignType.AGREEMENT, "框架协议": SignType.AGREEMENT, "协议项目": SignType.AGREEMENT,
              "投资协议": SignType.AGREEMENT}
STAGE_WORDS = {
    Stage.NEGOTIATING: ("在谈", "洽谈", "在谈项目", "洽谈中", "在谈中"),
    Stage.SIGNED: ("签约", "已签约", "签约项目"),
    Stage.APPROVAL: ("前期", "前期手续办理中", "前期工作", "办理前期手续", "前期手续"),
    Stage.STARTED: ("开工", "已开工", "在建", "动工", "已动工", "开工建设", "建设中"),
    Stage.COMPLETED: ("竣工", "已竣工"),
    Stage.PRODUCING: ("投产", "已投产"),
}
STAGES = {word: stage for stage, words in STAGE_WORDS.items() for word in words}
OFF_PIPELINE = {"暂缓", "终止", "已终止", "已暂缓"}
INDUSTRY_ALIASES = {"fluorine": ("氟化工", "氟", "氟新材料", "氟化工新材料"),
                    "graphite": ("石墨烯", "石墨", "石墨和石墨烯", "石墨及石墨烯"),
                    "rare_earth": ("稀土", "稀土新材料", "稀土新能源材料"),
                    "biomedicine": ("医药", "生物医药", "生物医药及大健康"),
                    "smart_manufacturing": ("智能制造", "装备", "装备制造", "智能装备", "机械装备"),
                    "light_alloy": ("轻合金",),
                    "digital_economy": ("数字经济", "数字")}


@dataclass
class Refs:
    """Reference tables the parser needs, as plain dicts built by the caller from the database."""

    counties: dict[str, str]  # code, name or short name (old ones too) → current county code
    county_names: dict[str, str]  # current code → name
    industries: dict[str, int]  # name, code-alias → id
    parks: dict[str, tuple[int, str, str]]  # name or former name → (id, county code, notice or "") (park_names)


@dataclass
class LedgerRow:
    """One sheet row as plain values; ``headers`` names the fields whose column the sheet has."""

    row: int
    values: dict
    headers: dict[str, str] = field(default_factory=dict)  # field → header as written
    sheet: str = ""  # the sheet's name when the workbook has several

    @property
    def where(self) -> str:
        return where(self.sheet, self.row)


@dataclass
class Parsed:
    rows: list[LedgerRow]
    report: ImportReport


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


MONEY_RE = re.compile(r"^(-?\d+(?:\.\d+)?)(亿元|亿|万元|万)?$")


def parse_money(value, *, scale: int = 1) -> Decimal:
    """万元 from a number, '1,234.5', '1,234.5万元', '3万', '2.5亿元' (× 10,000); raises ValueError in Chinese."""
    if isinstance(value, bool):
        raise ValueError("金额应为数字。")
    if isinstance(value, (int, float)):
        amount = Decimal(str(value)) * scale
    else:
        text = "".join(str(value).split()).replace(",", "").replace("，", "").replace("￥", "").replace("¥", "")
        match = MONEY_RE.match(text)
        if not match:
            raise ValueError(f"“{value}”不是有效金额（应为万元数字，可带“万元”或“亿元”）。")
        amount = Decimal(match.group(1))
        unit = match.group(2)
        amount *= 10000 if unit in ("亿元", "亿") else (1 if unit else scale)
    return check_money(amount)


DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
]
MONTH_PATTERNS = [re.compile(r"^(\d{4})[-/.](\d{1,2})$"), re.compile(r"^(\d{4})年(\d{1,2})月(?:份)?$")]


def parse_date(value) -> dt.date:
    """A date from an Excel date, 2026-06-18, 2026/1/15, 2026年4月2日, or month-only 2026.7 / 2026年12月 (→ the 1st),
    within the one date range every field has."""
    date = _read_date(value)
    if not date_in_range(date):
        raise ValueError(f"“{_cell_text(value)}”不在系统接受的范围内（{DATE_RANGE_MESSAGE}）")
    return date


def _read_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and 1990 <= value < 2100 and not value.is_integer():
        text = f"{value:.2f}".rstrip("0")  # 2026.7 typed into a number cell: a month
        year, month = text.split(".")
        return _make_date(int(year), int(month), 1, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial date stored without a date format
            return from_excel(value).date()
        raise ValueError(f"“{_cell_text(value)}”不是有效日期。")
    text = "".join(str(value).split())
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return _make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)), value)
    for pattern in MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            return _make_date(int(match.group(1)), int(match.group(2)), 1, value)
    raise ValueError(f"“{value}”不是有效日期（如 2026-06-18、2026/1/15、2026年4月2日、2026.7）。")


def _make_date(year: int, month: int, day: int, raw) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"“{raw}”不是有效日期。") from None


def parse_sign_type(value) -> SignType:
    text = "".join(_cell_text(value).split())
    if text in SIGN_TYPES:
        return SIGN_TYPES[text]
    raise ValueError(f"“{text}”不是有效的签约类型（合同/合同项目，或 协议/框架协议/协议项目）。")


def parse_stage(value) -> Stage:
    text = "".join(_cell_text(value).split())
    if text in STAGES:
        return STAGES[text]
    if text in OFF_PIPELINE:
        raise ValueError(f"“{text}”须在系统中办理（需填写原因），不能通过台账导入。")
    raise ValueError(f"“{text}”不是可识别的项目阶段（在谈、签约、前期、开工/在建、竣工、投产）。")


def industry_lookup(rows: list[tuple[int, str, str]]) -> dict[str, int]:
    """Industry (id, code, name) rows → every accepted spelling → id."""
    lookup = {}
    for industry_id, code, name in rows:
        lookup[name] = industry_id
        for alias in INDUSTRY_ALIASES.get(code, ()):
            lookup.setdefault(alias, industry_id)
    return lookup


def _is_skipped(values: list) -> bool:
    texts = [_cell_text(v) for v in values if not isinstance(v, tuple) and _cell_text(v)]
    if not texts and not any(isinstance(v, tuple) for v in values):
        return True  # blank
    for text in texts[:3]:
        squeezed = "".join(text.split())
        if squeezed.startswith(SKIP_WORDS):
            return True
    return len(texts) == 1 and texts[0].startswith(NOTE_STARTS)


def parse_ledger(data: bytes, refs: Refs) -> Parsed:
    """Read a ledger (.xlsx, .xls or .csv; every sheet with a header) and turn each data row into plain values;
    every problem is reported, none raised. Raises core.spreadsheets.ExcelUnreadable when the file itself
    cannot be read safely."""
    book = read_sheets(data, is_known)
    report = ImportReport(notices=list(book.notices), sheets=[sheet.name for sheet in book.sheets])
    rows = [row for sheet in book.sheets for row in _sheet_rows(sheet, refs, report)]
    report.data_rows = len(rows)
    if not rows and report.ok:
        report.add(None, "", "表中没有可导入的数据行。")
    _check_parks(rows, refs, report)
    _check_duplicates(rows, report)
    return Parsed(rows, report)


def _sheet_rows(sheet: Sheet, refs: Refs, report: ImportReport) -> list[LedgerRow]:
    """One sheet's rows; none when its header lacks a required column (the problem is reported)."""
    fields, headers, scales = {}, {}, {}  # column index → field; field → header as written; field → 万元 per unit
    header_row, tab = sheet.header_rows[-1], sheet.name
    for index, header in enumerate(sheet.columns):
        name = field_for(header)
        if name is None:
            if header and normalise(header) not in GROUP_NAMES:
                report.notices.append(f"未识别的列“{header}”（{where(tab, header_row)}）：已忽略。")
            continue
        if name in headers:
            report.add(header_row, header, f"与“{headers[name]}”列重复。", sheet=tab)
            continue
        fields[index], headers[name] = name, header
        if "亿元" in header:
            scales[name] = 10000
    missing = [COLUMN_VARIANTS[name][0] for name in REQUIRED if name not in headers]
    for label in missing:
        report.add(header_row, label, f"缺少必需的列“{label}”。", sheet=tab)
    if missing or any(p.sheet == tab and p.row == header_row for p in report.problems):
        return []
    rows: list[LedgerRow] = []
    width = len(sheet.columns)
    for record in sheet.frame.itertuples(index=False, name=None):
        number, cells = record[-1], list(record[:width])
        if _is_skipped(cells):
            report.skipped_rows.append(number)
            continue
        values: dict = {}
        for index, name in fields.items():
            header, raw = headers[name], cells[index]
            if isinstance(raw, tuple) and raw and raw[0] == FORMULA:
                report.add(number, header, f"单元格是公式（{str(raw[1])[:40]}），系统不计算公式；请先“选择性粘贴为数值”。", sheet=tab)
                continue
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            try:
                if isinstance(raw, str):
                    raw = clean_text(raw, header)
                values[name] = _convert(name, raw, refs, scales.get(name, 1), values)
            except ValueError as exc:
                report.add(number, header, str(exc), sheet=tab)
        for name in REQUIRED:
            if name not in values and not any(
                    p.sheet == tab and p.row == number and p.column == headers[name] for p in report.problems):
                report.add(number, headers[name], "必填，不能为空。", sheet=tab)
        rows.append(LedgerRow(number, values, headers, tab))
    return rows


def _convert(name: str, raw, refs: Refs, scale: int, values: dict):
    if name in ("total_investment", "completed"):
        return parse_money(raw, scale=scale)
    if name in ("sign_date", "planned_start", "actual_start", "actual_completion", "actual_production", "permit_date"):
        return parse_date(raw)
    if name == "sign_type":
        return parse_sign_type(raw)
    if name == "stage":
        return parse_stage(raw)
    text = _cell_text(raw)
    if name == "county":
        key = "".join(text.split())
        code = refs.counties.get(key) or refs.counties.get(key.rstrip("县市区")) if key else None
        if code is None:
            raise ValueError(f"“{text}”不是三明市的县（市、区）。")
        return code
    if name == "industry":
        key = "".join(text.split()).removesuffix("产业").removesuffix("行业") or text
        found = refs.industries.get("".join(text.split())) or refs.industries.get(key)
        if found is None:
            raise ValueError(f"“{text}”不是可识别的产业（如 氟新材料/氟化工、石墨烯、稀土、医药）。")
        return found
    if name == "park":
        park = refs.parks.get("".join(text.split()))
        if park is None:
            raise ValueError(f"园区“{text}”不在园区名录中（可留空）。")
        return park
    limits = {"name": 200, "investor_name": 200, "event": 100, "responsible_unit": 200, "project_code": 24,
              "leader": 64}
    if name in limits and len(text) > limits[name]:
        raise ValueError(f"内容过长（最多 {limits[name]} 个字符）。")
    return text


def _check_parks(rows: list[LedgerRow], refs: Refs, report: ImportReport) -> None:
    for row in rows:
        park, county = row.values.get("park"), row.values.get("county")
        if park and county and park[1] != county:
            here, there = refs.county_names.get(county, county), refs.county_names.get(park[1], park[1])
            report.add(row.row, row.headers["park"], f"园区不在{here}（它属于{there}）。", sheet=row.sheet)


def _check_duplicates(rows: list[LedgerRow], report: ImportReport) -> None:
    from core.validators import company_key

    seen: dict[tuple, str] = {}
    for row in rows:
        v = row.values
        if not (v.get("name") and v.get("investor_name") and v.get("county")):
            continue
        key = ("".join(v["name"].split()), company_key(v["investor_name"]), v["county"])
        if key in seen:
            report.add(row.row, row.headers["name"], f"与{seen[key]}是同一项目（项目名称、投资方、县区相同）。",
                       sheet=row.sheet)
        else:
            seen[key] = row.where


# ---- Export ----

EXPORT_COLUMNS = [
    Column("序号", kind="int", width=6),
    Column("项目名称", width=30),
    Column("投资方", width=28),
    Column("所属县（市、区）", width=10),
    Column("所属园区", width=24),
    Column("产业类别", width=12),
    Column("总投资（万元）", kind="money", width=14),
    Column("签约类型", group="签约情况", width=8),
    Column("签约时间", group="签约情况", kind="date", width=12),
    Column("签约活动", group="签约情况", width=20),
    Column("项目阶段", group="推进情况", width=8),
    Column("项目代码", group="推进情况", width=26),
    Column("施工许可办结时间", group="推进情况", kind="date", width=12),
    Column("计划开工时间", group="推进情况", kind="date", width=12),
    Column("实际开工时间", group="推进情况", kind="date", width=12),
    Column("实际竣工时间", group="推进情况", kind="date", width=12),
    Column("实际投产时间", group="推进情况", kind="date", width=12),
    Column("累计完成投资（万元）", group="推进情况", kind="money", width=14),
    Column("挂钩领导", width=10),
    Column("责任单位", width=16),
    Column("存在问题", width=30),
]
EXPORT_KEYS = ["seq", "name", "investor_name", "county", "park", "industry", "total_investment", "sign_type",
               "sign_date", "event", "stage", "project_code", "permit_date", "planned_start", "actual_start",
               "actual_completion", "actual_production", "completed", "leader", "responsible_unit", "blocker"]


def export_ledger(rows: list[dict], *, title: str) -> bytes:
    """The ledger workbook: title row, two-row header (签约情况/推进情况 merged), a row per project, a 合计 row."""
    total = sum((r.get("total_investment") or Decimal(0) for r in rows), Decimal(0))
    completed = sum((r.get("completed") or Decimal(0) for r in rows), Decimal(0))
    frame = rows_frame(([i] + [_export_value(r.get(k)) for k in EXPORT_KEYS[1:]] for i, r in enumerate(rows, 1)),
                       EXPORT_COLUMNS)
    book = write_sheet(frame, EXPORT_COLUMNS, title=title,
                       total_row={0: "合计", 1: f"{len(rows)} 个项目", EXPORT_KEYS.index("total_investment"): float(total),
                                  EXPORT_KEYS.index("completed"): float(completed)})
    return workbook_bytes(book)


def _export_value(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


__all__ = ["Refs", "LedgerRow", "Parsed", "parse_ledger", "export_ledger", "parse_money", "parse_date"]
