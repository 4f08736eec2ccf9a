"""The project's tables (projects, approval items, milestones, the timeline) and who may edit projects."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import County, Role, User
from core.db import UTCDateTime, db, enum_type, utcnow
from core.enums import LabeledEnum
from parks.models import ChainNode, Industry, Park

from .stages import Facts, Light, SignType, Stage, milestone_light, missing_facts, worst_light

Money = Numeric(14, 2)
EDITOR_ROLES = (Role.COMMERCE, Role.COUNTY, Role.ADMIN)


def can_edit_projects(user) -> bool:
    """Commerce staff, county officials and administrators keep projects and leads; leaders only read."""
    return user.is_authenticated and user.role in EDITOR_ROLES


class InvestorOrigin(LabeledEnum):
    OUT_OF_PROVINCE = "out_of_province", "省外"
    OVERSEAS = "overseas", "境外"
    IN_PROVINCE = "in_province", "省内"
    MINGSHANG = "mingshang", "明商回归"


class InvestorType(LabeledEnum):
    CENTRAL_SOE = "central_soe", "央企"
    LOCAL_SOE = "local_soe", "国企"
    PRIVATE = "private", "民企"
    FOREIGN = "foreign", "外企"


class ApprovalStatus(LabeledEnum):
    TODO = "todo", "未办"
    IN_PROGRESS = "in_progress", "办理中"
    DONE = "done", "已办结"
    NOT_APPLICABLE = "not_applicable", "不适用"


CONSTRUCTION_PERMIT = "施工许可"


class Project(db.Model):
    __tablename__ = "project"
    __table_args__ = (
        Index("ix_project_county_stage", "county_code", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    investor_name: Mapped[str] = mapped_column(String(200), index=True)
    investor_credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    investor_origin: Mapped[InvestorOrigin | None] = mapped_column(enum_type(InvestorOrigin))
    investor_type: Mapped[InvestorType | None] = mapped_column(enum_type(InvestorType))
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"), index=True)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industry.id"), index=True)
    chain_node_id: Mapped[int | None] = mapped_column(ForeignKey("chain_node.id"))
    total_investment: Mapped[Decimal] = mapped_column(Money)
    fixed_asset_investment: Mapped[Decimal | None] = mapped_column(Money)
    land_area: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    sign_type: Mapped[SignType | None] = mapped_column(enum_type(SignType))
    signed_as: Mapped[SignType | None] = mapped_column(enum_type(SignType))  # as first signed
    sign_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    contract_date: Mapped[dt.date | None] = mapped_column(Date)  # agreement converted on this day
    project_code: Mapped[str | None] = mapped_column(String(24))
    is_major: Mapped[bool] = mapped_column(default=False, index=True)
    hooked_leader_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    responsible_unit: Mapped[str] = mapped_column(String(200), default="")
    liaison: Mapped[str] = mapped_column(String(100), default="")
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    actual_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_completion: Mapped[dt.date | None] = mapped_column(Date)
    actual_completion: Mapped[dt.date | None] = mapped_column(Date)
    planned_production: Mapped[dt.date | None] = mapped_column(Date)
    actual_production: Mapped[dt.date | None] = mapped_column(Date)
    # Cumulative investment = the figure carried in before monthly reports + every report's amount;
    # services keep it current so lists and dashboards read one column.
    investment_baseline: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    investment_completed: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    funds_arrived: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    signing_event_id: Mapped[int | None] = mapped_column(ForeignKey("signing_event.id"), index=True)
    is_capital_increase: Mapped[bool] = mapped_column(default=False)  # 增资: counts only the increase
    investor_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[Stage] = mapped_column(enum_type(Stage), default=Stage.SIGNED, index=True)
    paused_from: Mapped[Stage | None] = mapped_column(enum_type(Stage))
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    resume_expected: Mapped[dt.date | None] = mapped_column(Date)
    drop_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    # The ORM adds "AND version = :old" to every UPDATE, so two saves racing past the
    # form-version check still cannot both land.
    __mapper_args__ = {"version_id_col": version}

    county: Mapped[County] = relationship()
    park: Mapped[Park | None] = relationship()
    industry: Mapped[Industry | None] = relationship()
    chain_node: Mapped[ChainNode | None] = relationship()
    hooked_leader: Mapped[User | None] = relationship(foreign_keys=[hooked_leader_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    approvals: Mapped[list[ApprovalItem]] = relationship(
        back_populates="project", order_by="ApprovalItem.position", cascade="all, delete-orphan")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="project", order_by="Milestone.planned_date", cascade="all, delete-orphan")
    events: Mapped[list[ProjectEvent]] = relationship(
        back_populates="project", order_by="ProjectEvent.id.desc()", cascade="all, delete-orphan")
    # signing_event, reports and blockers are added by projects.events and projects.reports (backrefs):
    # the project knows nothing of the packages built on it.

    def editable_by(self, user: User) -> bool:
        return can_edit_projects(user) and user.may_edit_county(self.county_code)

    @property
    def construction_permit_done(self) -> bool:
        return any(a.type.name == CONSTRUCTION_PERMIT and a.status is ApprovalStatus.DONE
                   for a in self.approvals)

    def facts(self) -> Facts:
        return Facts(sign_type=self.sign_type, sign_date=self.sign_date, project_code=self.project_code,
                     actual_start=self.actual_start, actual_completion=self.actual_completion,
                     actual_production=self.actual_production,
                     construction_permit_done=self.construction_permit_done)

    @property
    def reached_stage(self) -> Stage:
        """The pipeline stage whose facts the project should have: a paused project's is where it paused."""
        return self.paused_from if self.stage is Stage.PAUSED and self.paused_from else self.stage

    def gaps(self) -> list[str]:
        """Its 资料缺项: facts its stage needs that are not on record (keys of stages.FACT_LABELS)."""
        return missing_facts(self.reached_stage, self.facts())

    def key_dates(self) -> list[tuple[str, dt.date | None, dt.date | None]]:
        return [("开工", self.planned_start, self.actual_start),
                ("竣工", self.planned_completion, self.actual_completion),
                ("投产", self.planned_production, self.actual_production)]

    def light(self, today: dt.date) -> Light:
        """The worst light among the key dates and the milestones (dropped projects have none)."""
        if self.stage is Stage.DROPPED:
            return Light.GREEN
        dated = [(planned, actual) for _, planned, actual in self.key_dates()]
        dated += [(m.planned_date, m.actual_date) for m in self.milestones]
        return worst_light(milestone_light(planned, actual, today) for planned, actual in dated)


class ApprovalItemType(db.Model):
    """A kind of pre-construction approval (前期手续); administrators can add more."""

    __tablename__ = "approval_item_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class ApprovalItem(db.Model):
    __tablename__ = "approval_item"
    __table_args__ = (UniqueConstraint("project_id", "type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("approval_item_type.id"))
    status: Mapped[ApprovalStatus] = mapped_column(enum_type(ApprovalStatus), default=ApprovalStatus.TODO)
    planned_date: Mapped[dt.date | None] = mapped_column(Date)
    done_date: Mapped[dt.date | None] = mapped_column(Date)
    document_no: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(default=0)

    project: Mapped[Project] = relationship(back_populates="approvals")
    type: Mapped[ApprovalItemType] = relationship()


class Milestone(db.Model):
    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    planned_date: Mapped[dt.date] = mapped_column(Date)
    actual_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")

    project: Mapped[Project] = relationship(back_populates="milestones")

    def light(self, today: dt.date) -> Light:
        return milestone_light(self.planned_date, self.actual_date, today)


class EventKind(LabeledEnum):
    CREATED = "created", "创建"
    UPDATED = "updated", "修改"
    STAGE = "stage", "阶段变更"
    CONVERTED = "converted", "协议转合同"
    APPROVAL = "approval", "前期手续"
    MILESTONE = "milestone", "节点"
    REPORT = "report", "月度进展"
    BLOCKER = "blocker", "存在问题"
    ATTACHMENT = "file", "附件"  # a short value: the column keeps its width


class ProjectEvent(db.Model):
    """One changed field of one project, written in the same transaction as the change."""

    __tablename__ = "project_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]  # the project's version this change produced
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    field: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(String(64), default="")
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()
