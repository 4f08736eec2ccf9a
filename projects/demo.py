"""Clearly marked demo projects written in bulk (for `make run` and benchmarks); sub-packages add their steps."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import click
from flask import current_app
from sqlalchemy import func, insert, select

from core.auth.models import Role, User
from core.auth.reference_data import CURRENT_COUNTIES
from core.db import db, utcnow
from core.validators import CREDIT_CODE_CHARS, company_key, credit_code_check_char
from parks.models import Chain, ChainNode, Park

from .models import (
    CONSTRUCTION_PERMIT,
    ApprovalItem,
    ApprovalItemType,
    ApprovalStatus,
    EventKind,
    InvestorOrigin,
    InvestorType,
    Milestone,
    Project,
    ProjectEvent,
)
from .stages import PIPELINE, SignType, Stage

DEMO_NOTE = "【演示数据】由 flask demo-data 生成，不是真实项目。"
BATCH = 1000

PRODUCTS = {
    "fluorine": ["高纯电子级氢氟酸", "含氟新型制冷剂", "聚偏氟乙烯树脂", "含氟精细化学品", "六氟磷酸锂", "氟橡胶"],
    "graphite": ["高纯石墨", "锂电池负极材料", "石墨烯导电浆料", "等静压石墨", "石墨烯复合材料"],
    "rare_earth": ["稀土永磁材料", "稀土催化材料", "储氢合金", "三元正极材料", "稀土永磁电机"],
    "biomedicine": ["含氟原料药", "高端医药中间体", "医疗器械", "多花黄精深加工", "植物提取物"],
    "smart_manufacturing": ["智能装备", "工业机器人", "数控机床", "精密光学元件"],
    "light_alloy": ["铝合金半固态成型件", "轻合金汽车零部件"],
    "digital_economy": ["大数据中心", "工业互联网平台"],
}
FIRM_PREFIXES = ["福建", "三明", "厦门", "深圳", "上海", "江西", "浙江", "广东", "香港", "台湾"]
FIRM_WORDS = ["华", "鑫", "泰", "瑞", "宏", "盛", "新", "源", "科", "达", "恒", "金", "联", "明", "海", "创"]
FIRM_SUFFIXES = ["新材料有限公司", "科技股份有限公司", "化工有限公司", "实业集团有限公司", "药业有限公司"]
UNITS = ["市工信局", "市发改委", "市商务局", "县工信局", "园区管委会"]
# Project count weights per stage: most signed projects are still before or in construction.
STAGE_WEIGHTS = {Stage.NEGOTIATING: 6, Stage.SIGNED: 18, Stage.APPROVAL: 22, Stage.STARTED: 24,
                 Stage.COMPLETED: 8, Stage.PRODUCING: 14, Stage.PAUSED: 5, Stage.DROPPED: 3}


def add_demo_step(app, *, prepare=None, finish=None) -> None:
    """Let a package built on projects add to the demo data. ``prepare(today)`` runs before the projects are
    written and returns ``hook(rng, row)``, called on each new project's row; ``finish(rng, first_id, end_id,
    today, now, parks)`` runs after them and returns what it made, in words. Steps run in registration order."""
    app.extensions.setdefault("demo_steps", []).append((prepare, finish))


def _credit_code(rng: random.Random) -> str:
    body = "91" + "3504" + "".join(rng.choice("0123456789") for _ in range(2)) + \
        "".join(rng.choice(CREDIT_CODE_CHARS) for _ in range(9))
    return body + credit_code_check_char(body)


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    if end <= start:
        return start
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def generate(count: int, *, if_empty: bool = False, random_seed: int | None = None) -> int:
    if if_empty and db.session.scalar(select(func.count()).select_from(Project)):
        click.echo("已有项目，未生成演示数据。")
        return 0
    rng = random.Random(random_seed)
    parks = db.session.scalars(select(Park).where(Park.retired_at.is_(None))).all()  # as the forms offer them
    if not parks:
        raise click.ClickException("请先运行 flask seed 载入园区等参考数据。")
    types = db.session.scalars(select(ApprovalItemType).where(ApprovalItemType.is_active)
                               .order_by(ApprovalItemType.position)).all()
    nodes_by_industry: dict[int, list[int]] = {}
    for node_id, industry_id in db.session.execute(select(ChainNode.id, Chain.industry_id).join(Chain).where(
            ChainNode.retired_at.is_(None), Chain.retired_at.is_(None))):
        nodes_by_industry.setdefault(industry_id, []).append(node_id)
    industry_codes = {p.industry_id: p.industry.code for p in parks if p.industry}
    leaders = db.session.scalars(select(User.id).where(User.role == Role.LEADER)).all()
    today = dt.date.today()
    stages, weights = zip(*STAGE_WEIGHTS.items())
    now = utcnow()
    first_id = (db.session.scalar(select(func.max(Project.id))) or 0) + 1
    steps = current_app.extensions.get("demo_steps", [])
    hooks = [prepare(today) for prepare, _ in steps if prepare is not None]
    made = 0
    while made < count:
        batch = min(BATCH, count - made)
        projects, approvals, milestones, history = [], [], [], []
        for offset in range(batch):
            pid = first_id + made + offset
            park = rng.choice(parks)
            industry_id = park.industry_id or rng.choice(list(industry_codes))
            code = industry_codes.get(industry_id, "fluorine")
            stage = rng.choices(stages, weights)[0]
            row = _project_row(rng, pid, park, industry_id, code, stage, nodes_by_industry, leaders, today, now)
            for hook in hooks:
                hook(rng, row)
            projects.append(row)
            started = row["actual_start"] is not None
            for position, kind in enumerate(types):
                done = started or (stage is not Stage.NEGOTIATING and rng.random() < 0.4)
                if kind.name == CONSTRUCTION_PERMIT and not started:
                    done = False
                approvals.append({"project_id": pid, "type_id": kind.id, "position": position,
                                  "status": (ApprovalStatus.DONE if done else rng.choice(
                                      [ApprovalStatus.TODO, ApprovalStatus.IN_PROGRESS])).value,
                                  "planned_date": None,
                                  "done_date": _date_between(rng, row["sign_date"], row["actual_start"] or today)
                                  if done and row["sign_date"] else None,
                                  "document_no": f"明审〔{today.year}〕{rng.randrange(1, 999)}号" if done else ""})
            if stage not in (Stage.DROPPED, Stage.PRODUCING):
                planned = today + dt.timedelta(days=rng.randrange(-40, 90))
                milestones.append({"project_id": pid, "name": rng.choice(["厂房主体封顶", "设备进场", "环评批复", "供电接入"]),
                                   "planned_date": planned, "actual_date": None, "note": ""})
            history.append({"project_id": pid, "version": 1, "at": now, "user_id": None,
                           "kind": EventKind.CREATED.value, "field": "stage", "label": "阶段",
                           "old_value": None, "new_value": stage.label, "note": "演示数据"})
        db.session.execute(insert(Project), projects)
        db.session.execute(insert(ApprovalItem), approvals)
        if milestones:
            db.session.execute(insert(Milestone), milestones)
        db.session.execute(insert(ProjectEvent), history)
        made += batch
    made_too = [finish(rng, first_id, first_id + made, today, now, parks) for _, finish in steps if finish is not None]
    click.echo(f"已生成 {made} 个演示项目" + "".join(f"、{words}" for words in made_too) + "（均注明“演示数据”）。")
    return made


def _project_row(rng, pid, park, industry_id, code, stage, nodes_by_industry, leaders, today, now) -> dict:
    product = rng.choice(PRODUCTS.get(code, ["新材料"]))
    firm = rng.choice(FIRM_PREFIXES) + "".join(rng.sample(FIRM_WORDS, 2)) + rng.choice(FIRM_SUFFIXES)
    capacity = rng.choice(["年产1万吨", "年产5000吨", "年产3万吨", "一期", "二期", "年产200万件"])
    total = Decimal(rng.choice([3000, 5000, 8000, 12000, 20000, 35000, 50000, 100000, 200000])) \
        * Decimal(rng.randrange(80, 121)) / 100
    sign_type = rng.choice([SignType.AGREEMENT, SignType.CONTRACT, SignType.CONTRACT])
    sign_date = None if stage is Stage.NEGOTIATING else _date_between(rng, today - dt.timedelta(days=5 * 365),
                                                                      today - dt.timedelta(days=20))
    effective = rng.choice(PIPELINE[1:4]) if stage in (Stage.PAUSED, Stage.DROPPED) else stage
    reached = PIPELINE.index(effective) if effective in PIPELINE else 1
    contract_date = None
    if sign_date and sign_type is SignType.AGREEMENT and reached >= 2 and rng.random() < 0.7:
        contract_date = _date_between(rng, sign_date, min(today, sign_date + dt.timedelta(days=180)))
    elif sign_date and sign_type is SignType.CONTRACT:
        contract_date = sign_date
    base = sign_date or today
    planned_start = base + dt.timedelta(days=rng.randrange(60, 300))
    planned_completion = planned_start + dt.timedelta(days=rng.randrange(300, 700))
    planned_production = planned_completion + dt.timedelta(days=rng.randrange(30, 120))
    actual_start = _date_between(rng, base, today) if reached >= 3 else None
    actual_completion = _date_between(rng, actual_start, today) if reached >= 4 and actual_start else None
    actual_production = _date_between(rng, actual_completion, today) if reached >= 5 and actual_completion else None
    is_major = total >= 50000 and rng.random() < 0.6
    fixed = (total * Decimal(rng.randrange(60, 95)) / 100).quantize(Decimal("0.01"))
    progress = {3: 0.3, 4: 0.8, 5: 1.0}.get(reached, 0.0)
    # Most projects sit in a park; the rest anywhere in the city, so every county has some.
    county_code, park_id = (park.county_code, park.id) if rng.random() < 0.8 else \
        (rng.choice([row[0] for row in CURRENT_COUNTIES]), None)
    return {
        "id": pid, "name": f"{firm[:4]}{capacity}{product}项目",
        "investor_name": firm, "investor_credit_code": _credit_code(rng) if rng.random() < 0.7 else None,
        "investor_origin": rng.choice(list(InvestorOrigin)).value, "investor_type": rng.choice(list(InvestorType)).value,
        "county_code": county_code, "park_id": park_id,
        "industry_id": industry_id,
        "chain_node_id": rng.choice(nodes_by_industry[industry_id]) if nodes_by_industry.get(industry_id) else None,
        "total_investment": total.quantize(Decimal("0.01")), "fixed_asset_investment": fixed,
        "land_area": Decimal(rng.randrange(20, 600)),
        "sign_type": (SignType.CONTRACT if contract_date else sign_type).value if sign_date else None,
        "signed_as": sign_type.value if sign_date else None, "sign_date": sign_date, "contract_date": contract_date,
        "project_code": (f"{(sign_date or today).year}-{county_code}-{rng.randrange(10, 99)}-"
                         f"{rng.randrange(1, 4):02d}-{pid % 100000:05d}{rng.choice('0123456789X')}"
                         if reached >= 2 else None),
        "is_major": is_major, "hooked_leader_id": rng.choice(leaders) if is_major and leaders else None,
        "responsible_unit": rng.choice(UNITS) if is_major else "", "liaison": "",
        "planned_start": planned_start, "actual_start": actual_start,
        "planned_completion": planned_completion, "actual_completion": actual_completion,
        "planned_production": planned_production, "actual_production": actual_production,
        "investment_baseline": (fixed * Decimal(str(progress))).quantize(Decimal("0.01")),
        "investment_completed": (fixed * Decimal(str(progress))).quantize(Decimal("0.01")),
        "investor_key": company_key(firm),
        "notes": DEMO_NOTE, "stage": stage.value,
        "paused_from": effective.value if stage is Stage.PAUSED else None,
        "pause_reason": "企业资金安排调整" if stage is Stage.PAUSED else "",
        "resume_expected": today + dt.timedelta(days=rng.randrange(30, 200)) if stage is Stage.PAUSED else None,
        "drop_reason": "投资方战略调整，项目终止" if stage is Stage.DROPPED else "",
        "version": 1, "created_at": now, "updated_at": now - dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 90)),
        "updated_by_id": None, "signing_event_id": None, "is_capital_increase": rng.random() < 0.05,
        "funds_arrived": Decimal("0"),
    }
