"""What a valid project is: its fields and labels, how stored values read, the rules a project must pass."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.auth.models import County, Role, User
from core.auth.reference_data import CITY_CODE
from core.db import db
from core.enums import LabeledEnum
from core.errors import Conflict as EditConflict
from core.errors import InvalidInput
from core.templating import badge
from core.validators import credit_code_problem, project_code_problem
from parks.models import ChainNode, Industry, Park

from . import stages
from .models import InvestorOrigin, InvestorType, Project, ProjectEvent
from .stages import Light, SignType, Stage

# The fields a user edits through the project form, with the label the timeline shows.
FIELD_LABELS = {
    "name": "项目名称",
    "investor_name": "投资方",
    "investor_credit_code": "统一社会信用代码",
    "investor_origin": "投资方来源",
    "investor_type": "投资方类型",
    "county_code": "所属县区",
    "park_id": "所属园区",
    "industry_id": "产业",
    "chain_node_id": "产业链环节",
    "total_investment": "总投资（万元）",
    "fixed_asset_investment": "固定资产投资（万元）",
    "land_area": "用地（亩）",
    "sign_type": "签约类型",
    "sign_date": "签约日期",
    "project_code": "项目代码",
    "is_major": "重大项目",
    "hooked_leader_id": "挂钩领导",
    "responsible_unit": "责任单位",
    "liaison": "联络员",
    "planned_start": "计划开工日期",
    "actual_start": "实际开工日期",
    "planned_completion": "计划竣工日期",
    "actual_completion": "实际竣工日期",
    "planned_production": "计划投产日期",
    "actual_production": "实际投产日期",
    "investment_baseline": "月报前累计完成投资（万元）",
    "signing_event_id": "签约活动",
    "is_capital_increase": "增资项目",
    "notes": "备注",
}
EDITABLE_FIELDS = tuple(FIELD_LABELS)
STAGE_LABELS = {"stage": "阶段", "pause_reason": "暂缓原因", "resume_expected": "预计恢复日期",
                "drop_reason": "终止原因", "sign_type": "签约类型", "contract_date": "合同签订日期"}


class ProjectInvalid(InvalidInput):
    """Input that breaks a project rule; ``errors`` maps a form field (or "") to a Chinese message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors=errors)


class Conflict(EditConflict):
    """The project changed since the user loaded it; carries what changed in between."""

    def __init__(self, project: Project, seen_version: int):
        super().__init__("该项目已被他人修改，请查看最新内容后重试。")
        self.project = project
        self.seen_version = seen_version
        self.events = list(db.session.scalars(
            select(ProjectEvent).where(ProjectEvent.project_id == project.id,
                                       ProjectEvent.version > seen_version)
            .order_by(ProjectEvent.id)))


def display(field: str, value) -> str | None:
    """How a stored value reads in the timeline and on the conflict page."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, LabeledEnum):
        return value.label
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if field in _LOOKUPS:
        model, attr = _LOOKUPS[field]
        row = db.session.get(model, value)
        return getattr(row, attr) if row is not None else str(value)
    return str(value)


def light_badge(light: Light):
    return badge(f"light-{light.value}", light.label, light.label)


def stage_badge(stage: Stage):
    return badge(f"stage-{stage.value}", stage.label)


# field → (model, attribute) naming a stored id; packages built on projects add their own (register_lookup).
_LOOKUPS = {"county_code": (County, "name"), "park_id": (Park, "name"), "industry_id": (Industry, "name"),
            "chain_node_id": (ChainNode, "name"), "hooked_leader_id": (User, "name_for_display"),
            "owner_id": (User, "name_for_display")}
# field → function returning [(id, label)] for the form's picker, from the package owning the rows.
_CHOICES: dict = {}
# name → rule(data, current project or None) returning field → message; added by packages built on projects.
_RULES: dict = {}


def register_lookup(field: str, model, attribute: str) -> None:
    """Let display() name the row a field's id points at (a package the project cannot import owns it)."""
    _LOOKUPS[field] = (model, attribute)


def register_choices(field: str, choices) -> None:
    """Let the project form offer the rows of a package built on projects (signing events)."""
    _CHOICES[field] = choices


def choices(field: str) -> list[tuple]:
    provider = _CHOICES.get(field)
    return provider() if provider is not None else []


def register_rule(name: str, rule) -> None:
    """Add a check to validate() for a field a package built on projects owns (keyed: idempotent)."""
    _RULES[name] = rule


def validate(data: dict, *, current: Project | None, new_stage: Stage = Stage.SIGNED,
              regions: set[str] | None = None, historical: bool = False) -> dict[str, str]:
    """Check the rules that span fields or need the database; returns field → message.

    ``regions`` (from regions_of_codes()) may be passed by a caller checking many projects at once.
    The facts a stage needs are asked of a new project, and may not be removed from one that has them; a
    project recorded without them (``historical``: a ledger stating its stage) keeps them as 资料缺项."""
    errors: dict[str, str] = {}
    county_code = data.get("county_code")
    county = db.session.get(County, county_code) if county_code else None
    if county is None or not county.is_current:
        errors["county_code"] = "请选择有效的县区。"
    park = db.session.get(Park, data["park_id"]) if data.get("park_id") else None
    if data.get("park_id") and park is None:
        errors["park_id"] = "园区不存在。"
    elif park is not None and county is not None and park.county_code != county.code and not (
            current is not None and current.park_id == park.id and current.county_code == county.code):
        # A project left outside its park's county by the park's move is listed for review; until then its
        # other fields stay editable (and its ledger rows importable): only a new mismatch is refused.
        errors["park_id"] = f"园区“{park.name}”不在{county.name}，请选择该县区的园区。"
    if data.get("chain_node_id"):
        node = db.session.get(ChainNode, data["chain_node_id"])
        if node is None:
            errors["chain_node_id"] = "产业链环节不存在。"
        elif data.get("industry_id") and node.chain.industry_id != data["industry_id"]:
            errors["chain_node_id"] = "产业链环节不属于所选产业。"
        elif not data.get("industry_id"):
            errors["chain_node_id"] = "选择产业链环节前请先选择产业。"
    for rule in _RULES.values():
        for field, message in rule(data, current).items():
            errors.setdefault(field, message)
    if data.get("hooked_leader_id"):
        leader = db.session.get(User, data["hooked_leader_id"])
        if leader is None or leader.role is not Role.LEADER:
            errors["hooked_leader_id"] = "挂钩领导须为领导角色的用户。"
    if data.get("investor_credit_code"):
        problem = credit_code_problem(data["investor_credit_code"])
        if problem:
            errors["investor_credit_code"] = problem
    stage = current.stage if current is not None else new_stage
    # A paused project keeps the obligations of the stage it will resume to.
    reached = current.paused_from if current is not None and stage is Stage.PAUSED else stage
    if reached is Stage.NEGOTIATING and data.get("signing_event_id") \
            and (current is None or data["signing_event_id"] != current.signing_event_id):
        # An event is credited with the projects first signed there: one still in talks is not yet.
        errors.setdefault("signing_event_id", "在谈项目尚未签约，不能计入签约活动；签约后再选择签约活动。")
    if data.get("project_code"):
        regions = regions if regions is not None else regions_of_codes()
        problem = project_code_problem(data["project_code"], regions, this_year=clock.today().year)
        if problem:
            errors["project_code"] = problem
    elif current is not None and current.project_code \
            and PIPELINE_INDEX.get(reached, 0) >= PIPELINE_INDEX[Stage.APPROVAL]:
        errors["project_code"] = "项目进入“前期”阶段后必须填写项目代码。"
    fixed, total = data.get("fixed_asset_investment"), data.get("total_investment")
    if total is None:
        errors["total_investment"] = "请填写总投资。"
    elif total < 0:
        errors["total_investment"] = "总投资不能为负数。"
    if fixed is not None and total is not None and fixed > total:
        errors["fixed_asset_investment"] = "固定资产投资不能大于总投资。"
    had_sign_facts = current is None or (current.sign_type is not None and current.sign_date is not None)
    if reached is not Stage.NEGOTIATING and not historical and had_sign_facts \
            and (data.get("sign_type") is None or data.get("sign_date") is None):
        errors.setdefault("sign_date", "已签约的项目必须填写签约类型和签约日期。")
    if data.get("sign_date") and data["sign_date"] > clock.today():
        errors["sign_date"] = "签约日期不能晚于今天。"
    errors.update({k: v for k, v in stages.date_problems(
        sign_date=data.get("sign_date"), actual_start=data.get("actual_start"),
        actual_completion=data.get("actual_completion"), actual_production=data.get("actual_production"),
        today=clock.today()).items() if k not in errors})
    for planned, later, label in (("planned_start", "planned_completion", "计划竣工日期不能早于计划开工日期。"),
                                  ("planned_start", "planned_production", "计划投产日期不能早于计划开工日期。")):
        if data.get(planned) and data.get(later) and data[later] < data[planned]:
            errors.setdefault(later, label)
    return errors


PIPELINE_INDEX = {stage: index for index, stage in enumerate(stages.PIPELINE)}


def regions_of_codes() -> set[str]:
    """The region codes a project code may carry: every county's (old ones too) and the city's."""
    return {code for code in db.session.scalars(select(County.code))} | {CITY_CODE}


_ENUM_FIELDS = {"sign_type": SignType, "investor_origin": InvestorOrigin, "investor_type": InvestorType}


def clean(data: dict) -> dict:
    """Keep only the editable fields, with blanks as None and text trimmed."""
    cleaned = {}
    for field in EDITABLE_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            value = value.strip()
            if value == "" and field not in ("responsible_unit", "liaison", "notes"):
                value = None
        cleaned[field] = value
    # str.strip() above turns a StrEnum into a plain str: bring the enums back (display labels,
    # "is SignType.CONTRACT" checks) and refuse values that are not members.
    for field, enum_cls in _ENUM_FIELDS.items():
        if cleaned.get(field) is not None:
            try:
                cleaned[field] = enum_cls(cleaned[field])
            except ValueError:
                raise ProjectInvalid({field: f"“{FIELD_LABELS[field]}”的取值无效。"}) from None
    if cleaned.get("investor_credit_code"):
        cleaned["investor_credit_code"] = cleaned["investor_credit_code"].upper()
    if cleaned.get("project_code"):
        cleaned["project_code"] = cleaned["project_code"].upper()
    for text_field in ("responsible_unit", "liaison", "notes"):
        cleaned[text_field] = cleaned[text_field] or ""
    cleaned["is_major"] = bool(cleaned.get("is_major"))
    if cleaned.get("investment_baseline") is None:
        cleaned["investment_baseline"] = Decimal("0")
    cleaned["is_capital_increase"] = bool(cleaned.get("is_capital_increase"))
    return cleaned
