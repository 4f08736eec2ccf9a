"""A chain node's status (强链 / 弱链 / 缺链) from its anchor firms and its projects' stages (pure: no Flask, no DB)."""
from __future__ import annotations

from collections.abc import Mapping

from core.enums import LabeledEnum
from projects.stages import Stage


class NodeStatus(LabeledEnum):
    STRONG = "strong", "强"
    WEAK = "weak", "弱"
    GAP = "gap", "缺"

    @property
    def definition(self) -> str:
        return DEFINITIONS[self]


DEFINITIONS = {
    NodeStatus.STRONG: "强链：有龙头企业，或至少一个项目已开工（开工、竣工、投产）。",
    NodeStatus.WEAK: "弱链：有项目，但都还在签约或前期阶段。",
    NodeStatus.GAP: "缺链：没有龙头企业，也没有签约及以后阶段的项目。",
}
COUNTED_NOTE = "暂缓、终止的项目不计入。"
BUILT = (Stage.STARTED, Stage.COMPLETED, Stage.PRODUCING)
SIGNED_ONLY = (Stage.SIGNED, Stage.APPROVAL)
# The stages a node's projects are counted by: a paused or dropped project holds no link of the chain.
COUNTED = (Stage.NEGOTIATING, Stage.SIGNED, Stage.APPROVAL, *BUILT)


def classify(anchor_firms: int, projects_by_stage: Mapping[Stage, int]) -> NodeStatus:
    """强 with an anchor firm or a project at 开工 or later; 弱 with projects only at 签约 or 前期; else 缺."""
    if anchor_firms or any(projects_by_stage.get(stage, 0) for stage in BUILT):
        return NodeStatus.STRONG
    if any(projects_by_stage.get(stage, 0) for stage in SIGNED_ONLY):
        return NodeStatus.WEAK
    return NodeStatus.GAP
