"""The project stages' rules: the pipeline, allowed moves, gates and traffic lights (pure: no Flask, no DB)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.enums import LabeledEnum

YELLOW_WINDOW_DAYS = 15


class Stage(LabeledEnum):
    NEGOTIATING = "negotiating", "在谈"
    SIGNED = "signed", "签约"
    APPROVAL = "approval", "前期"
    STARTED = "started", "开工"
    COMPLETED = "completed", "竣工"
    PRODUCING = "producing", "投产"
    PAUSED = "paused", "暂缓"
    DROPPED = "dropped", "终止"


PIPELINE = (Stage.NEGOTIATING, Stage.SIGNED, Stage.APPROVAL, Stage.STARTED, Stage.COMPLETED,
            Stage.PRODUCING)


class SignType(LabeledEnum):
    AGREEMENT = "agreement", "协议"
    CONTRACT = "contract", "合同"


class Light(LabeledEnum):
    GREEN = "green", "正常"
    YELLOW = "yellow", "临期"
    RED = "red", "逾期"

    @property
    def rank(self) -> int:
        return {"green": 0, "yellow": 1, "red": 2}[self.value]


@dataclass(frozen=True)
class Facts:
    """What the gates look at, read off a project by the caller."""

    sign_type: SignType | None = None
    sign_date: dt.date | None = None
    project_code: str | None = None
    actual_start: dt.date | None = None
    actual_completion: dt.date | None = None
    actual_production: dt.date | None = None
    construction_permit_done: bool = False


FACT_LABELS = {
    "sign_type": "签约类型（协议或合同）",
    "sign_date": "签约日期",
    "project_code": "项目代码",
    "actual_start": "实际开工日期",
    "construction_permit_done": "前期手续“施工许可”已办结",
    "actual_completion": "实际竣工日期",
    "actual_production": "实际投产日期",
}
# What entering each stage asks for. Entering 投产 does not ask again for the 竣工 date its own gate asked for.
GATES: dict[Stage, tuple[str, ...]] = {
    Stage.SIGNED: ("sign_type", "sign_date"),
    Stage.APPROVAL: ("sign_type", "sign_date", "project_code"),
    Stage.STARTED: ("sign_type", "sign_date", "project_code", "actual_start", "construction_permit_done"),
    Stage.COMPLETED: ("sign_type", "sign_date", "project_code", "actual_start", "construction_permit_done",
                      "actual_completion"),
    Stage.PRODUCING: ("sign_type", "sign_date", "project_code", "actual_start", "construction_permit_done",
                      "actual_production"),
}
# The facts a project in each stage should have on record: every gate on its way there. Those it lacks are its
# 资料缺项 (a ledger states the stage; the app never invents the facts).
REQUIRED: dict[Stage, tuple[str, ...]] = {
    stage: tuple(dict.fromkeys(key for earlier in PIPELINE[:PIPELINE.index(stage) + 1]
                               for key in GATES.get(earlier, ())))
    for stage in PIPELINE
}


def next_stage(stage: Stage) -> Stage | None:
    if stage not in PIPELINE or stage is PIPELINE[-1]:
        return None
    return PIPELINE[PIPELINE.index(stage) + 1]


def _lacking(keys, facts: Facts) -> list[str]:
    return [key for key in keys if not getattr(facts, key)]


def gate_problems(target: Stage, facts: Facts) -> list[str]:
    """What is missing before a project may enter ``target``; empty when nothing is."""
    missing = _lacking(GATES.get(target, ()), facts)
    if not missing:
        return []
    return [f"进入“{target.label}”阶段还缺少：" + "、".join(FACT_LABELS[key] for key in missing) + "。"]


def missing_facts(reached: Stage | None, facts: Facts) -> list[str]:
    """The facts (keys of FACT_LABELS) a project that has reached ``reached`` lacks: its 资料缺项."""
    return _lacking(REQUIRED.get(reached, ()), facts)


def transition_problems(current: Stage, target: Stage, facts: Facts, *, reason: str = "",
                        resume_date: dt.date | None = None, paused_from: Stage | None = None,
                        today: dt.date) -> list[str]:
    """Why a project may not move from ``current`` to ``target``; empty when it may."""
    reason = (reason or "").strip()
    if current is Stage.DROPPED:
        return ["项目已终止，不能再变更阶段。"]
    if target is current:
        return [f"项目已处于“{current.label}”阶段。"]
    if target is Stage.DROPPED:
        return [] if reason else ["终止项目必须填写原因。"]
    if target is Stage.PAUSED:
        problems = [] if reason else ["暂缓项目必须填写原因。"]
        if resume_date is None:
            problems.append("暂缓项目必须填写预计恢复日期。")
        elif resume_date <= today:
            problems.append("预计恢复日期必须晚于今天。")
        return problems
    if current is Stage.PAUSED:
        if paused_from is None:  # as allowed_targets: with no stage to resume to, only 终止 is open
            return ["暂缓前的阶段未记录，暂缓的项目只能终止。"]
        if target is paused_from:
            return gate_problems(target, facts)
        return [f"暂缓的项目只能恢复到暂缓前的“{paused_from.label}”阶段，或终止。"]
    position, wanted = PIPELINE.index(current), PIPELINE.index(target)
    if wanted < position:
        return [] if reason else [f"退回到“{target.label}”阶段必须填写原因。"]
    if wanted > position + 1:
        return [f"不能跳过阶段：下一阶段是“{PIPELINE[position + 1].label}”。"]
    return gate_problems(target, facts)


def allowed_targets(current: Stage, paused_from: Stage | None = None) -> list[Stage]:
    """The stages a user may pick from ``current`` (gates aside)."""
    if current is Stage.DROPPED:
        return []
    if current is Stage.PAUSED:
        return [s for s in (paused_from, Stage.DROPPED) if s is not None]
    position = PIPELINE.index(current)
    targets = list(PIPELINE[:position])
    if next_stage(current) is not None:
        targets.append(next_stage(current))
    return targets + [Stage.PAUSED, Stage.DROPPED]


def conversion_problems(sign_type: SignType | None, sign_date: dt.date | None,
                        contract_date: dt.date | None, *, today: dt.date) -> list[str]:
    """Why an agreement may not be recorded as converted to a contract on ``contract_date``."""
    if sign_type is not SignType.AGREEMENT:
        return ["只有协议项目才能转为合同项目。"]
    if contract_date is None:
        return ["请填写合同签订日期。"]
    problems = []
    if sign_date is not None and contract_date < sign_date:
        problems.append("合同签订日期不能早于协议签约日期。")
    if contract_date > today:
        problems.append("合同签订日期不能晚于今天。")
    return problems


def date_problems(*, sign_date: dt.date | None, actual_start: dt.date | None,
                  actual_completion: dt.date | None, actual_production: dt.date | None,
                  today: dt.date) -> dict[str, str]:
    """Field name → problem, for actual dates that contradict each other or lie in the future."""
    problems = {}
    actual = {"actual_start": ("实际开工日期", actual_start),
              "actual_completion": ("实际竣工日期", actual_completion),
              "actual_production": ("实际投产日期", actual_production)}
    for field, (label, value) in actual.items():
        if value is None:
            continue
        if value > today:
            problems[field] = f"{label}不能晚于今天。"
        elif sign_date is not None and value < sign_date:
            problems[field] = f"{label}不能早于签约日期。"
    if "actual_completion" not in problems and actual_completion and actual_start and actual_completion < actual_start:
        problems["actual_completion"] = "实际竣工日期不能早于实际开工日期。"
    if "actual_production" not in problems and actual_production and actual_start and actual_production < actual_start:
        problems["actual_production"] = "实际投产日期不能早于实际开工日期。"
    return problems


def milestone_light(planned: dt.date | None, actual: dt.date | None, today: dt.date) -> Light:
    """Red when past due and not done, yellow when due within 15 days, green otherwise."""
    if actual is not None or planned is None:
        return Light.GREEN
    if planned < today:
        return Light.RED
    if planned <= today + dt.timedelta(days=YELLOW_WINDOW_DAYS):
        return Light.YELLOW
    return Light.GREEN


def worst_light(lights) -> Light:
    return max(lights, key=lambda light: light.rank, default=Light.GREEN)
