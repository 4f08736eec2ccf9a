"""A park's or a reference row's change history as its page shows it: when, who, what, old and new."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from core import audit

from .editing import FIELD_LABELS

ACTIONS = {"created": "新建", "updated": "修改", "retired": "撤销", "restored": "恢复", "position_set": "核准位置",
           "boundary_set": "上传边界", "capacity_confirmed": "核实容量"}


@dataclass
class Change:
    at: dt.datetime  # UTC: the page shows it in China time
    by: str
    action: str
    lines: list[str]


def history(entity: str, entity_id: int, *, every_county: bool = True) -> list[Change]:
    """The row's audit entries, newest first. Without ``every_county`` (a county official reading a park's page,
    which every county may open) the projects a move listed for review are counted, not named."""
    labels = FIELD_LABELS.get(entity, {})
    changes = []
    for entry in audit.entries_for(entity, entity_id):
        data = entry.data
        lines = [f"{labels.get(field, field)}：{new or '（空）'}" if entry.action == "created"
                 else f"{labels.get(field, field)}：{old or '（空）'} → {new or '（空）'}"
                 for field, (old, new) in data.get("changes", {}).items()]
        if entry.action == "position_set":
            old, new = data.get("old", {}), data.get("new", {})
            lines.append(f"位置：{old.get('lat')}, {old.get('lon')} → {new.get('lat')}, {new.get('lon')}")
        elif entry.action == "boundary_set":
            lines.append(f"边界：{data.get('polygons')} 个多边形")
        elif entry.action == "capacity_confirmed":
            lines += [f"{label}：{value}（{data.get('confirmed_on')} 核实）"
                      for label, value in data.get("values", {}).items()]
        if data.get("review"):
            lines.append("列为待复核：" + ("、".join(data["review"]) if every_county else _counted(data["review"])))
        changes.append(Change(at=entry.at,
                              by=entry.user.name_for_display if entry.user else "系统",
                              action=ACTIONS.get(entry.action, entry.action), lines=lines))
    return changes


def _counted(review: list[str]) -> str:
    """“2 个项目” for [项目“甲”（三元区）, 项目“乙”（沙县区）]: each entry starts with its kind."""
    kinds = Counter(entry.split("“", 1)[0] for entry in review)
    return "、".join(f"{count} 个{kind}" for kind, count in kinds.items())
