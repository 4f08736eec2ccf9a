"""Importing a county's ledger: check every row, apply it through the project services, record the batch."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from core import clock
from core.auth.models import County, Role, User
from core.db import db
from core.errors import Conflict, InvalidInput, NotAllowed, UserError
from core.excel import ImportReport
from core.validators import company_key
from parks.models import Industry, Park
from projects import rules, services
from projects.events import services as event_services
from projects.events.models import SigningEvent
from projects.models import (
    CONSTRUCTION_PERMIT,
    ApprovalItem,
    ApprovalItemType,
    ApprovalStatus,
    Project,
    can_edit_projects,
)
from projects.reports import services as report_services
from projects.reports.models import BlockerCategory, ProgressReport
from projects.rules import ProjectInvalid
from projects.stages import PIPELINE, Stage

from .batches import dump, record_batch
from .bulk import BulkCreator
from .excel import LedgerRow, Refs, industry_lookup, parse_ledger
from .gaps import gap_notices
from .models import ImportBatch
from .park_names import add_park_notices, park_lookup

IMPORT_NOTE = "台账导入"
# Sheet field → the project field it feeds (for the data handed to create_project / update_project).
DIRECT = ("name", "investor_name", "total_investment", "sign_type", "sign_date", "project_code", "planned_start",
          "actual_start", "actual_completion", "actual_production", "responsible_unit", "notes")
# Service error field → sheet field, to name the sheet's own column in a problem.
ERROR_COLUMNS = {"county_code": "county", "park_id": "park", "industry_id": "industry", "signing_event_id": "event",
                 "hooked_leader_id": "leader", "investment_baseline": "completed", "to_stage": "stage",
                 "done_date": "permit_date", "contract_date": "sign_type"}


class LedgerRefused(InvalidInput):
    """The file as a whole is refused (imported before); the message is for the user."""


class SheetRefused(InvalidInput):
    """Rows of the sheet are refused: nothing of the file may stay; ``outcome`` lists every problem."""

    def __init__(self, outcome):
        super().__init__(f"台账有 {len(outcome.report.problems)} 处问题，未导入任何数据。")
        self.outcome = outcome


@dataclass
class RowResult:
    row: int
    action: str  # create | update | unchanged
    name: str
    county: str
    changes: list[str] = field(default_factory=list)
    sheet: str = ""  # the sheet's name when the workbook has several


@dataclass
class Outcome:
    report: ImportReport
    results: list[RowResult] = field(default_factory=list)
    batch: ImportBatch | None = None
    state: object = None  # the importer, for the batch record

    @property
    def ok(self) -> bool:
        return self.report.ok

    def count(self, action: str) -> int:
        return sum(1 for r in self.results if r.action == action)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def existing_batch(digest: str) -> ImportBatch | None:
    return db.session.scalar(select(ImportBatch).where(ImportBatch.sha256 == digest))


def load_refs() -> Refs:
    counties, names = {}, {}
    rows = db.session.scalars(select(County)).all()
    by_code = {c.code: c for c in rows}

    def current(county: County) -> str:
        while county.successor_code:
            county = by_code[county.successor_code]
        return county.code

    for county in sorted(rows, key=lambda c: c.successor_code is None):  # current names win a clash (三元区)
        counties[county.code] = counties[county.name] = counties[county.short_name] = current(county)
        if county.successor_code is None:
            names[county.code] = county.name
    industries = industry_lookup(db.session.execute(select(Industry.id, Industry.code, Industry.name)).all())
    return Refs(counties=counties, county_names=names, industries=industries, parks=park_lookup())


def import_ledger(data: bytes, *, by: User, filename: str = "", dry_run: bool = False,
                  strict: bool = False) -> Outcome:
    """Validate the whole file (every sheet) and apply it through the project services in the caller's transaction.

    Each project is recorded in the stage its row states: the facts that stage's gates would ask for and the
    sheet lacks become 资料缺项, listed as notices. ``strict`` instead moves each project through the gates, as
    a user would, refusing rows that lack them.

    Raises SheetRefused (with the outcome: every row's problems) when any row is refused, so the caller's
    transaction keeps nothing of it; ExcelUnreadable for an unreadable file; LedgerRefused for a file
    imported before. A dry run applies everything too: its caller throws the work away."""
    if not can_edit_projects(by):
        raise NotAllowed("您没有导入台账的权限。")
    digest = sha256(data)
    before = existing_batch(digest)
    if before is not None:
        raise LedgerRefused(f"该文件已于 {clock.format_time(before.created_at)} 导入"
                            f"（批次 #{before.id}），同一文件不能重复导入。")
    refs = load_refs()
    parsed = parse_ledger(data, refs)
    add_park_notices(parsed.rows, parsed.report)
    outcome = Outcome(parsed.report)
    if parsed.report.ok:
        _Importer(parsed.rows, refs, by, outcome, strict=strict).run()
    if not outcome.ok:
        raise SheetRefused(outcome)
    if dry_run:
        return outcome
    state = outcome.state
    outcome.batch = record_batch(digest=digest, filename=filename, by=by, rows=len(parsed.rows), created=state.created,
                                 updated=state.updated, unchanged=outcome.count("unchanged"), blockers=state.blockers,
                                 events=state.events)
    return outcome


class _Importer:
    def __init__(self, rows: list[LedgerRow], refs: Refs, by: User, outcome: Outcome, *, strict: bool):
        self.rows, self.refs, self.by, self.outcome, self.strict = rows, refs, by, outcome, strict
        outcome.state = self
        self.report = outcome.report
        self.created: list[int] = []
        self.updated: dict[int, dict] = {}
        self.blockers: list[int] = []
        self.events: list[int] = []
        self.rows_of: dict[int, LedgerRow] = {}  # project id → the row that created or updated it
        self.today = clock.today()

    def problem(self, row: LedgerRow, sheet_field: str, message: str) -> None:
        self.report.add(row.row, row.headers.get(sheet_field, rules.FIELD_LABELS.get(sheet_field, "")), message,
                        sheet=row.sheet)

    def run(self) -> None:
        by = self.by
        for row in self.rows:  # a county official imports only their own county's rows
            if by.role is Role.COUNTY and row.values.get("county") != by.county_code:
                self.problem(row, "county", f"只能导入本县区（{self.refs.county_names.get(by.county_code)}）的项目。")
        if not self.report.ok:
            return
        self.event_ids = self._events()
        self.leaders = {}
        for user in db.session.scalars(select(User).where(User.role == Role.LEADER)):
            self.leaders.setdefault(user.name_for_display, user.id)
            self.leaders.setdefault(user.username, user.id)
        names = {r.values["name"] for r in self.rows}
        self.existing: dict[tuple, Project] = {}
        for chunk in _chunks(sorted(names), 500):
            for project in db.session.scalars(select(Project).where(Project.name.in_(chunk))):
                self.existing[(project.name, project.investor_key, project.county_code)] = project
        self.permit_type = db.session.scalar(select(ApprovalItemType).where(ApprovalItemType.name == CONSTRUCTION_PERMIT))
        # The session's identity map holds rows weakly: keep the reference rows alive, or every
        # service's db.session.get(County/Park/...) reloads them (and autoflushes) once per row.
        self._keep = [*db.session.scalars(select(County)), *db.session.scalars(select(Park)),
                      *db.session.scalars(select(Industry)), *db.session.scalars(select(ApprovalItemType)),
                      *db.session.scalars(select(SigningEvent).where(SigningEvent.id.in_(list(self.event_ids.values()) or [0]))),
                      *db.session.scalars(select(User).where(User.role == Role.LEADER))]
        # New projects are checked row by row as create_project would, and written together after the
        # loop (one INSERT per table); rows that then move past their start stage or carry a blocker
        # go on through the normal services.
        self.creator = BulkCreator(by=by)
        self.new_keys: set[tuple] = set()
        self.new_rows: list[tuple[LedgerRow, Stage, Stage, str]] = []
        for row in self.rows:
            with self._reported(row):
                self._row(row)
        ids = self.creator.insert()
        self.created.extend(ids)
        self.rows_of.update((pid, entry[0]) for pid, entry in zip(ids, self.new_rows, strict=True))
        follow_up = [(pid, *entry) for pid, entry in zip(ids, self.new_rows, strict=True)
                     if entry[1] is not entry[2] or self._blocker_text(entry[0]) or self._permit_given(entry[0], entry[2])]
        projects = {}
        for chunk in _chunks([pid for pid, *_ in follow_up], 500):
            projects.update((p.id, p) for p in db.session.scalars(select(Project).where(Project.id.in_(chunk))))
        done = set(ids) - set(projects)
        for pid, row, _, target, _ in follow_up:
            with self._reported(row):
                self._advance(row, projects[pid], target)
                self._blocker(row, projects[pid])
                done.add(pid)
        for pid, (row, _, _, name) in zip(ids, self.new_rows, strict=True):
            if pid in done:
                county = self.refs.county_names.get(row.values["county"], row.values["county"])
                self.outcome.results.append(RowResult(row.row, "create", name, county, sheet=row.sheet))
        self.outcome.results.sort(key=lambda r: self.report.order(r.sheet, r.row))
        self.report.notices.extend(gap_notices(self.rows_of, self.report))

    @contextmanager
    def _reported(self, row: LedgerRow):
        """Turn a service's refusal into the row's problems (the import goes on to find them all)."""
        try:
            yield
        except UserError as exc:
            default = {NotAllowed: "county", Conflict: "name"}.get(type(exc), "")
            for field_name, message in exc.errors.items():
                self.problem(row, ERROR_COLUMNS.get(field_name, field_name or default), message)

    def _events(self) -> dict[str, int]:
        """Signing events named in the sheet: matched by name, or created (commerce and admin only)."""
        wanted: dict[str, list[LedgerRow]] = {}
        for row in self.rows:
            if row.values.get("event"):
                wanted.setdefault(row.values["event"], []).append(row)
        found = dict(db.session.execute(select(SigningEvent.name, SigningEvent.id)
                                        .where(SigningEvent.name.in_(list(wanted) or [""]))).all())
        for name, rows in wanted.items():
            if name in found:
                continue
            if self.by.role not in (Role.COMMERCE, Role.ADMIN):
                for row in rows:
                    self.problem(row, "event", f"签约活动“{name}”不存在；新的签约活动须由市商务局先行登记。")
                continue
            dates = [r.values["sign_date"] for r in rows if r.values.get("sign_date")]
            event = event_services.save_signing_event(None, name=name, date=min(dates) if dates else self.today, place="",
                                                organiser="", county_code=None, notes=f"由{IMPORT_NOTE}创建。", by=self.by)
            found[name] = event.id
            self.events.append(event.id)
        return found

    def _data(self, row: LedgerRow, base: dict) -> dict:
        v = row.values
        data = dict(base)
        for name in DIRECT:
            if name in v:
                data[name] = v[name]
        if "county" in v:
            data["county_code"] = v["county"]
        if "park" in v:
            data["park_id"] = v["park"][0]
        if "industry" in v:
            data["industry_id"] = v["industry"]
        if "event" in v:
            data["signing_event_id"] = self.event_ids.get(v["event"])
        if v.get("leader"):
            leader = self.leaders.get(v["leader"])
            if leader is None:
                note = f"{row.where}：挂钩领导“{v['leader']}”不是系统中的领导账号，未设置。"
                if note not in self.report.notices:
                    self.report.notices.append(note)
            else:
                data["hooked_leader_id"] = leader
        return data

    def _row(self, row: LedgerRow) -> None:
        v = row.values
        key = ("".join(v["name"].split()), company_key(v["investor_name"]), v["county"])
        target = v.get("stage") or (Stage.SIGNED if v.get("sign_type") or v.get("sign_date") else Stage.NEGOTIATING)
        project = self.existing.get(key) or self.existing.get((v["name"], key[1], key[2]))
        county = self.refs.county_names.get(v["county"], v["county"])
        if project is None and key not in self.new_keys:
            data = self._data(row, {})
            if "completed" in v:
                data["investment_baseline"] = v["completed"]
            start = target if not self.strict else Stage.NEGOTIATING if target is Stage.NEGOTIATING else Stage.SIGNED
            # written, moved on and reported after the loop
            cleaned = self.creator.add(data, stage=start, historical=not self.strict)
            self.new_keys.add(key)
            self.new_rows.append((row, start, target, cleaned["name"]))
            return
        if project is None or project.id in self.updated:
            self.problem(row, "name", "与本表中前面的行是同一项目。")
            return
        base = {f: getattr(project, f) for f in rules.EDITABLE_FIELDS}
        data = self._data(row, base)
        if "completed" in v:
            reported = db.session.scalar(select(func.coalesce(func.sum(ProgressReport.investment), 0))
                                         .where(ProgressReport.project_id == project.id))
            baseline = v["completed"] - Decimal(reported)
            if baseline < 0:
                self.problem(row, "completed", f"累计完成投资小于月报合计（{Decimal(reported):.2f} 万元）。")
                return
            data["investment_baseline"] = baseline
        self.rows_of[project.id] = row
        old_fields = {f: dump(getattr(project, f)) for f in rules.EDITABLE_FIELDS if data.get(f) != getattr(project, f)}
        permit = self._permit(project)
        record = {"fields": old_fields, "stage": project.stage.value,
                  "permit": [permit.status.value, dump(permit.done_date)] if permit else None}
        changes = services.update_project(project, data, version=project.version, by=self.by) if old_fields else []
        stage_before = project.stage
        self._advance(row, project, target)
        blocker = self._blocker(row, project)
        if changes or project.stage is not stage_before or blocker or _permit_changed(permit, record):
            self.updated[project.id] = record
            moved = [f"阶段 {stage_before.label}→{project.stage.label}"] if project.stage is not stage_before else []
            self.outcome.results.append(RowResult(row.row, "update", project.name, county,
                                                  changes + moved + (["存在问题"] if blocker else []), row.sheet))
        else:
            self.outcome.results.append(RowResult(row.row, "unchanged", project.name, county, sheet=row.sheet))

    def _permit(self, project: Project) -> ApprovalItem | None:
        return next((a for a in project.approvals if a.type_id == getattr(self.permit_type, "id", None)), None)

    def _advance(self, row: LedgerRow, project: Project, target: Stage) -> None:
        """Step forward through the pipeline to the sheet's stage; going back or resuming is not the ledger's call.

        Strict: through every gate, as a user would. Otherwise the stage is recorded as the sheet states it."""
        current = project.stage
        if not self.strict and self._permit_given(row, target):
            self._mark_permit(row, project)
        if current is target:
            return
        if current not in PIPELINE:
            self.problem(row, "stage", f"项目在系统中为“{current.label}”，请在系统中办理恢复或终止。")
            return
        if PIPELINE.index(target) < PIPELINE.index(current):
            self.problem(row, "stage", f"系统中项目已处于“{current.label}”，台账为“{target.label}”；"
                                      "退回阶段须在系统中办理并填写原因。")
            return
        if not self.strict:
            services.change_stage(project, target, version=project.version, by=self.by, historical=True,
                                  reason=f"{IMPORT_NOTE}：按台账记录阶段")
            return
        for stage in PIPELINE[PIPELINE.index(current) + 1:PIPELINE.index(target) + 1]:
            if stage is Stage.STARTED:
                self._mark_permit(row, project)
            services.change_stage(project, stage, version=project.version, by=self.by)

    @staticmethod
    def _permit_given(row: LedgerRow, target: Stage) -> bool:
        return bool(row.values.get("permit_date")) and PIPELINE.index(target) >= PIPELINE.index(Stage.STARTED)

    def _mark_permit(self, row: LedgerRow, project: Project) -> None:
        permit = self._permit(project)
        date = row.values.get("permit_date")
        if permit is None or permit.status is ApprovalStatus.DONE:
            return
        if date is None:
            raise ProjectInvalid({"permit_date": "进入“开工”阶段须已办结施工许可：请填写“施工许可办结时间”列。"})
        services.update_approval(project, permit, status=ApprovalStatus.DONE, planned_date=permit.planned_date,
                                 done_date=date, document_no=permit.document_no, version=project.version, by=self.by)

    @staticmethod
    def _blocker_text(row: LedgerRow) -> str | None:
        text = row.values.get("blocker")
        return None if not text or text in ("无", "暂无", "/", "-", "—") else text

    def _blocker(self, row: LedgerRow, project: Project) -> bool:
        text = self._blocker_text(row)
        if text is None:
            return False
        if any(b.is_open and b.description == text for b in project.blockers):
            return False
        blocker = report_services.add_blocker(project, category=BlockerCategory.OTHER, description=text, department="",
                                       due_date=None, escalated=False, version=project.version, by=self.by)
        self.blockers.append(blocker.id)
        return True


def _permit_changed(permit: ApprovalItem | None, record: dict) -> bool:
    return permit is not None and record["permit"] != [permit.status.value, dump(permit.done_date)]


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
