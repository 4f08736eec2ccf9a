"""Stage rules, exhaustively: every (current, target) pair, the gates, conversion, actual dates and lights."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest

from projects.stages import (
    PIPELINE,
    Facts,
    Light,
    SignType,
    Stage,
    allowed_targets,
    conversion_problems,
    date_problems,
    gate_problems,
    milestone_light,
    missing_facts,
    next_stage,
    transition_problems,
    worst_light,
)

TODAY = dt.date(2026, 6, 15)
TOMORROW = TODAY + dt.timedelta(days=1)
SIGNED_ON = dt.date(2025, 3, 1)
FULL = Facts(sign_type=SignType.CONTRACT, sign_date=SIGNED_ON, project_code="2025-350404-26-03-00012A",
             actual_start=dt.date(2025, 5, 1),
             actual_completion=dt.date(2026, 1, 10), actual_production=dt.date(2026, 3, 1),
             construction_permit_done=True)
EMPTY = Facts()
PAUSED_FROM = Stage.APPROVAL  # the stage the PAUSED row of the table was paused from

N, S, A, ST, C, P, PA, D = (Stage.NEGOTIATING, Stage.SIGNED, Stage.APPROVAL, Stage.STARTED,
                            Stage.COMPLETED, Stage.PRODUCING, Stage.PAUSED, Stage.DROPPED)
ORDER = [N, S, A, ST, C, P, PA, D]
# Rows: current stage; columns: target in ORDER.
#   =  same stage (refused)        +  next stage (gated)        >  skip (refused, names the next stage)
#   <  back (needs a reason)       Z  pause (reason + future resume date)   X  drop (needs a reason)
#   R  resume to paused_from       !  resume elsewhere (refused)            T  from dropped (terminal)
TABLE = {
    N:  "= + > > > > Z X",
    S:  "< = + > > > Z X",
    A:  "< < = + > > Z X",
    ST: "< < < = + > Z X",
    C:  "< < < < = + Z X",
    P:  "< < < < < = Z X",
    PA: "! ! R ! ! ! = X",
    D:  "T T T T T T T T",
}
PAIRS = [(current, target, code) for current, row in TABLE.items()
         for target, code in zip(ORDER, row.split(), strict=True)]


@pytest.fixture(autouse=True)
def _clean_database():
    """Pure rules: override the root fixture so these tests need no app and no database."""
    yield


def problems(current, target, facts=FULL, **kwargs):
    kwargs.setdefault("paused_from", PAUSED_FROM if current is PA else None)
    return transition_problems(current, target, facts, today=TODAY, **kwargs)


def test_table_covers_every_pair_once():
    assert sorted((c, t) for c, t, _ in PAIRS) == sorted(itertools.product(Stage, Stage))
    assert set(ORDER) == set(Stage) and len(ORDER) == len(Stage)


@pytest.mark.parametrize(("current", "target", "code"), PAIRS, ids=[f"{c.value}-{t.value}" for c, t, _ in PAIRS])
def test_transition(current, target, code):
    everything = {"reason": "企业调整计划", "resume_date": TOMORROW}
    if code == "=":
        assert problems(current, target, **everything) == [f"项目已处于“{current.label}”阶段。"]
    elif code == "+":
        assert problems(current, target) == []
        assert problems(current, target, EMPTY, **everything) == gate_problems(target, EMPTY) != []
    elif code == ">":
        expected = [f"不能跳过阶段：下一阶段是“{next_stage(current).label}”。"]
        assert problems(current, target) == expected
        assert problems(current, target, **everything) == expected
    elif code == "<":
        assert problems(current, target) == [f"退回到“{target.label}”阶段必须填写原因。"]
        assert problems(current, target, reason="  \t ") == [f"退回到“{target.label}”阶段必须填写原因。"]
        assert problems(current, target, reason="手续被退回") == []
    elif code == "Z":
        assert problems(current, target, resume_date=TOMORROW) == ["暂缓项目必须填写原因。"]
        assert problems(current, target, reason=" ", resume_date=TOMORROW) == ["暂缓项目必须填写原因。"]
        assert problems(current, target, reason="资金") == ["暂缓项目必须填写预计恢复日期。"]
        assert problems(current, target, reason="资金", resume_date=TODAY) == ["预计恢复日期必须晚于今天。"]
        assert problems(current, target, reason="资金", resume_date=TODAY - dt.timedelta(days=30)) == [
            "预计恢复日期必须晚于今天。"]
        assert problems(current, target) == ["暂缓项目必须填写原因。", "暂缓项目必须填写预计恢复日期。"]
        assert problems(current, target, reason="资金", resume_date=TOMORROW) == []
        assert problems(current, target, EMPTY, reason="资金", resume_date=TOMORROW) == []
    elif code == "X":
        assert problems(current, target) == ["终止项目必须填写原因。"]
        assert problems(current, target, reason="   ") == ["终止项目必须填写原因。"]
        assert problems(current, target, EMPTY, reason="企业撤资") == []
    elif code == "R":
        assert problems(current, target) == []
        assert problems(current, target, EMPTY) == gate_problems(target, EMPTY) != []
    elif code == "!":
        expected = [f"暂缓的项目只能恢复到暂缓前的“{PAUSED_FROM.label}”阶段，或终止。"]
        assert problems(current, target, **everything) == expected
    elif code == "T":
        assert problems(current, target, **everything) == ["项目已终止，不能再变更阶段。"]
    else:  # pragma: no cover - a typo in TABLE
        pytest.fail(f"unknown code {code}")


@pytest.mark.parametrize("current", ORDER)
def test_allowed_targets_are_exactly_the_passable_pairs(current):
    """With every fact, reason and date supplied, a target passes iff allowed_targets offers it."""
    paused_from = PAUSED_FROM if current is PA else None
    passable = [t for t in ORDER if not transition_problems(
        current, t, FULL, reason="原因", resume_date=TOMORROW, paused_from=paused_from, today=TODAY)]
    assert sorted(allowed_targets(current, paused_from)) == sorted(passable)


@pytest.mark.parametrize(("current", "expected"), [
    (N, [PA, D, S]),
    (S, [N, A, PA, D]),
    (A, [N, S, ST, PA, D]),
    (ST, [N, S, A, C, PA, D]),
    (C, [N, S, A, ST, P, PA, D]),
    (P, [N, S, A, ST, C, PA, D]),
    (D, []),
])
def test_allowed_targets(current, expected):
    assert sorted(allowed_targets(current)) == sorted(expected)
    assert current not in allowed_targets(current)


@pytest.mark.parametrize("paused_from", PIPELINE)
def test_paused_project_resumes_only_to_where_it_was(paused_from):
    assert allowed_targets(PA, paused_from) == [paused_from, D]
    for target in PIPELINE:
        result = transition_problems(PA, target, FULL, paused_from=paused_from, today=TODAY)
        assert (result == []) is (target is paused_from)
    assert transition_problems(PA, D, FULL, reason="撤资", paused_from=paused_from, today=TODAY) == []


def test_resume_still_passes_the_gate():
    facts = Facts(sign_type=SignType.AGREEMENT, sign_date=SIGNED_ON, project_code=FULL.project_code,
                  construction_permit_done=True)
    assert transition_problems(PA, ST, facts, paused_from=ST, today=TODAY) == [
        "进入“开工”阶段还缺少：实际开工日期。"]


def test_paused_without_a_recorded_stage_can_only_be_dropped():
    assert allowed_targets(PA, None) == [D]
    for target in PIPELINE:
        assert transition_problems(PA, target, FULL, reason="x", paused_from=None, today=TODAY) != []
    assert transition_problems(PA, D, FULL, reason="撤资", paused_from=None, today=TODAY) == []


def test_next_stage():
    assert [next_stage(s) for s in PIPELINE] == [S, A, ST, C, P, None]
    assert next_stage(PA) is None and next_stage(D) is None


# Each fact the gates look at, what a gate calls it when missing, and the facts without it.
MISSING_NAME = {
    "sign_type": "签约类型（协议或合同）",
    "sign_date": "签约日期",
    "project_code": "项目代码",
    "actual_start": "实际开工日期",
    "construction_permit_done": "前期手续“施工许可”已办结",
    "actual_completion": "实际竣工日期",
    "actual_production": "实际投产日期",
}
NEEDS = {
    S: ["sign_type", "sign_date"],
    A: ["sign_type", "sign_date", "project_code"],
    ST: ["sign_type", "sign_date", "project_code", "actual_start", "construction_permit_done"],
    C: ["sign_type", "sign_date", "project_code", "actual_start", "construction_permit_done", "actual_completion"],
    P: ["sign_type", "sign_date", "project_code", "actual_start", "construction_permit_done", "actual_production"],
}


def without(field: str) -> Facts:
    blank = False if field == "construction_permit_done" else None
    return Facts(**{**FULL.__dict__, field: blank})


@pytest.mark.parametrize(("target", "field"), [(t, f) for t, fields in NEEDS.items() for f in fields])
def test_gate_names_exactly_the_missing_fact(target, field):
    assert gate_problems(target, without(field)) == [f"进入“{target.label}”阶段还缺少：{MISSING_NAME[field]}。"]


@pytest.mark.parametrize("target", list(NEEDS))
def test_gate_lists_everything_missing_in_order(target):
    expected = "、".join(MISSING_NAME[f] for f in NEEDS[target])
    assert gate_problems(target, EMPTY) == [f"进入“{target.label}”阶段还缺少：{expected}。"]
    assert gate_problems(target, FULL) == []


@pytest.mark.parametrize(("target", "field"), [(t, f) for t in NEEDS for f in MISSING_NAME if f not in NEEDS[t]])
def test_gate_ignores_facts_it_does_not_need(target, field):
    assert gate_problems(target, without(field)) == []


def test_no_gate_on_pause_drop_or_negotiating():
    for target in (N, PA, D):
        assert gate_problems(target, EMPTY) == []


def test_start_gate_through_the_transition():
    facts = Facts(sign_type=SignType.CONTRACT, sign_date=SIGNED_ON, project_code=FULL.project_code,
                  actual_start=dt.date(2025, 5, 1))
    assert transition_problems(A, ST, facts, today=TODAY) == [
        "进入“开工”阶段还缺少：前期手续“施工许可”已办结。"]
    facts = Facts(sign_type=SignType.CONTRACT, sign_date=SIGNED_ON, project_code=FULL.project_code,
                  construction_permit_done=True)
    assert transition_problems(A, ST, facts, today=TODAY) == ["进入“开工”阶段还缺少：实际开工日期。"]


# conversion_problems ---------------------------------------------------------------------------

@pytest.mark.parametrize("sign_type", [SignType.CONTRACT, None])
def test_only_agreements_convert(sign_type):
    assert conversion_problems(sign_type, SIGNED_ON, TODAY, today=TODAY) == ["只有协议项目才能转为合同项目。"]


@pytest.mark.parametrize(("contract_date", "expected"), [
    (None, ["请填写合同签订日期。"]),
    (SIGNED_ON, []),
    (SIGNED_ON + dt.timedelta(days=1), []),
    (TODAY, []),
    (SIGNED_ON - dt.timedelta(days=1), ["合同签订日期不能早于协议签约日期。"]),
    (TOMORROW, ["合同签订日期不能晚于今天。"]),
])
def test_conversion_dates(contract_date, expected):
    assert conversion_problems(SignType.AGREEMENT, SIGNED_ON, contract_date, today=TODAY) == expected


def test_conversion_date_both_before_signing_and_in_the_future():
    assert conversion_problems(SignType.AGREEMENT, TOMORROW + dt.timedelta(days=5), TOMORROW, today=TODAY) == [
        "合同签订日期不能早于协议签约日期。", "合同签订日期不能晚于今天。"]


# date_problems ---------------------------------------------------------------------------------

def dates(**kwargs):
    values = {"sign_date": SIGNED_ON, "actual_start": None, "actual_completion": None,
              "actual_production": None, **kwargs}
    return date_problems(today=TODAY, **values)


def test_consistent_dates_have_no_problems():
    assert dates() == {}
    assert dates(actual_start=SIGNED_ON, actual_completion=SIGNED_ON, actual_production=TODAY) == {}
    assert dates(sign_date=None, actual_start=dt.date(2001, 1, 1)) == {}


@pytest.mark.parametrize(("field", "label"), [("actual_start", "实际开工日期"),
                                              ("actual_completion", "实际竣工日期"),
                                              ("actual_production", "实际投产日期")])
def test_actual_date_neither_before_signing_nor_in_the_future(field, label):
    assert dates(**{field: SIGNED_ON - dt.timedelta(days=1)}) == {field: f"{label}不能早于签约日期。"}
    assert dates(**{field: TOMORROW}) == {field: f"{label}不能晚于今天。"}
    assert dates(**{field: TODAY}) == {}


@pytest.mark.parametrize(("field", "label"), [("actual_completion", "实际竣工日期"),
                                              ("actual_production", "实际投产日期")])
def test_completion_and_production_not_before_start(field, label):
    start = dt.date(2025, 6, 1)
    assert dates(actual_start=start, **{field: start - dt.timedelta(days=1)}) == {
        field: f"{label}不能早于实际开工日期。"}
    assert dates(actual_start=start, **{field: start}) == {}


def test_one_message_per_field():
    result = dates(actual_start=dt.date(2025, 6, 1), actual_completion=SIGNED_ON - dt.timedelta(days=1),
                   actual_production=TOMORROW)
    assert result == {"actual_completion": "实际竣工日期不能早于签约日期。",
                      "actual_production": "实际投产日期不能晚于今天。"}


# lights ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("planned", "actual", "light"), [
    (TODAY - dt.timedelta(days=1), None, Light.RED),
    (TODAY - dt.timedelta(days=400), None, Light.RED),
    (TODAY, None, Light.YELLOW),
    (TODAY + dt.timedelta(days=15), None, Light.YELLOW),
    (TODAY + dt.timedelta(days=16), None, Light.GREEN),
    (TODAY - dt.timedelta(days=1), TODAY - dt.timedelta(days=3), Light.GREEN),
    (TODAY - dt.timedelta(days=100), TODAY, Light.GREEN),
    (TODAY + dt.timedelta(days=3), TODAY, Light.GREEN),
    (None, None, Light.GREEN),
])
def test_milestone_light(planned, actual, light):
    assert milestone_light(planned, actual, TODAY) is light


def test_worst_light():
    assert worst_light([]) is Light.GREEN
    assert worst_light(iter([Light.GREEN, Light.GREEN])) is Light.GREEN
    assert worst_light([Light.GREEN, Light.YELLOW, Light.GREEN]) is Light.YELLOW
    assert worst_light([Light.YELLOW, Light.RED, Light.GREEN]) is Light.RED
    assert worst_light(light for light in [Light.RED, Light.YELLOW]) is Light.RED


# 资料缺项: what a project that has reached a stage lacks, every gate on its way there counted.
def test_missing_facts_are_every_gate_up_to_the_stage_reached():
    assert missing_facts(N, EMPTY) == [] and missing_facts(D, EMPTY) == [] and missing_facts(None, EMPTY) == []
    assert missing_facts(S, EMPTY) == ["sign_type", "sign_date"]
    assert missing_facts(A, EMPTY) == ["sign_type", "sign_date", "project_code"]
    # 投产 reached straight from a ledger: the 竣工 date its own gate never asked for is missing too.
    assert missing_facts(P, EMPTY) == ["sign_type", "sign_date", "project_code", "actual_start",
                                       "construction_permit_done", "actual_completion", "actual_production"]
    assert all(missing_facts(stage, FULL) == [] for stage in ORDER)
    assert missing_facts(ST, without("project_code")) == ["project_code"]
    assert missing_facts(C, without("actual_production")) == []
