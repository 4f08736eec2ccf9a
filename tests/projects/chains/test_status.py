"""The node status rule: 强 with an anchor firm or a project at 开工 or later, 弱 with projects only at 签约 or 前期,
缺 otherwise; paused and dropped projects are not counted."""
from __future__ import annotations

import pytest

from projects.chains.status import COUNTED, NodeStatus, classify
from projects.stages import Stage


@pytest.mark.parametrize(("firms", "stages", "expected"), [
    (1, {}, NodeStatus.STRONG),
    (0, {Stage.STARTED: 1}, NodeStatus.STRONG),
    (0, {Stage.COMPLETED: 1, Stage.SIGNED: 2}, NodeStatus.STRONG),
    (0, {Stage.PRODUCING: 1}, NodeStatus.STRONG),
    (0, {Stage.SIGNED: 1}, NodeStatus.WEAK),
    (0, {Stage.APPROVAL: 3, Stage.NEGOTIATING: 1}, NodeStatus.WEAK),
    (0, {Stage.NEGOTIATING: 2}, NodeStatus.GAP),
    (0, {}, NodeStatus.GAP),
    (0, {Stage.SIGNED: 0, Stage.STARTED: 0}, NodeStatus.GAP),
])
def test_classify(firms, stages, expected):
    assert classify(firms, stages) is expected


def test_paused_and_dropped_projects_are_never_counted():
    assert Stage.PAUSED not in COUNTED and Stage.DROPPED not in COUNTED
    # Even if a caller passed them, they would hold no link.
    assert classify(0, {Stage.PAUSED: 5, Stage.DROPPED: 5}) is NodeStatus.GAP


def test_every_status_has_a_chinese_definition():
    assert [s.label for s in NodeStatus] == ["强", "弱", "缺"]
    assert all(s.definition.startswith(("强链", "弱链", "缺链")) for s in NodeStatus)
