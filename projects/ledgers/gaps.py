"""The 资料缺项 an import leaves: counted for the whole sheet and named for the first rows, as preview notices."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.excel import ImportReport, where
from projects.models import ApprovalItem, Project
from projects.queries import gaps_expression
from projects.stages import FACT_LABELS

from .excel import LedgerRow

NAMED_ROWS = 20  # rows named one by one; the rest are counted


def gap_notices(rows_of: dict[int, LedgerRow], report: ImportReport) -> list[str]:
    """Notices (never problems) for the imported projects that lack facts their stage needs, in the file's order."""
    ids = list(rows_of)
    with_gaps: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        with_gaps += db.session.scalars(select(Project.id).where(Project.id.in_(chunk), gaps_expression())).all()
    if not with_gaps:
        return []
    with_gaps.sort(key=lambda pid: report.order(rows_of[pid].sheet, rows_of[pid].row))
    named = db.session.scalars(select(Project).where(Project.id.in_(with_gaps[:NAMED_ROWS]))
                               .options(selectinload(Project.approvals).selectinload(ApprovalItem.type))).all()
    by_id = {project.id: project for project in named}
    notices = [f"{len(with_gaps)} 个项目按台账所载阶段导入，但缺少该阶段应有的资料（资料缺项）：导入后在项目页"
               "“待补充”中列出，项目列表可筛选“只看资料缺项”；补齐后自动消除。"]
    for pid in with_gaps[:NAMED_ROWS]:
        project = by_id[pid]
        notices.append(f"{where(rows_of[pid].sheet, rows_of[pid].row)} {project.name}（{project.reached_stage.label}）：缺"
                       + "、".join(FACT_LABELS[key] for key in project.gaps()) + "。")
    if len(with_gaps) > NAMED_ROWS:
        notices.append(f"……另有 {len(with_gaps) - NAMED_ROWS} 个项目存在资料缺项。")
    return notices
