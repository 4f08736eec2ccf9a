"""The leads' tables: investment leads (招商线索) and their follow-ups (跟进记录)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import County, Role, User
from core.db import UTCDateTime, db, enum_type, utcnow
from core.enums import LabeledEnum
from parks.models import ChainNode, Industry, Park
from projects.models import InvestorOrigin, Money, Project, can_edit_projects


class LeadStatus(LabeledEnum):
    NEW = "new", "新线索"
    ASSESSING = "assessing", "研判"
    NEGOTIATING = "negotiating", "在谈"
    SIGNED = "signed", "已签约"
    ABANDONED = "abandoned", "放弃"


class LeadSource(LabeledEnum):
    VISIT = "visit", "走访"
    EXPO = "expo", "展会"
    BUSINESS_REFERRAL = "business_referral", "以商招商"
    FUND = "fund", "基金招商"
    THIRD_PARTY = "third_party", "第三方"
    MINGSHANG = "mingshang", "明商回归"
    CHAIN = "chain", "产业链招商"
    OTHER = "other", "其他"


class FollowUpKind(LabeledEnum):
    PHONE = "phone", "电话"
    VISIT = "visit", "走访"
    MEETING = "meeting", "洽谈"
    RECEPTION = "reception", "来访接待"
    OTHER = "other", "其他"


class Lead(db.Model):
    """An investment lead (招商线索) followed up until it is signed or abandoned."""

    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    investor_name: Mapped[str] = mapped_column(String(200))
    investor_key: Mapped[str] = mapped_column(String(200), index=True)
    investor_credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    contact_person: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    investor_origin: Mapped[InvestorOrigin | None] = mapped_column(enum_type(InvestorOrigin))
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industry.id"))
    chain_node_id: Mapped[int | None] = mapped_column(ForeignKey("chain_node.id"))
    county_code: Mapped[str | None] = mapped_column(ForeignKey("county.code"), index=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"))
    estimated_investment: Mapped[Decimal | None] = mapped_column(Money)
    # What the investor needs: the parks recommended for the lead are matched against it.
    land_needed: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 亩
    factory_space_needed: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # m² of standard factory space
    source: Mapped[LeadSource] = mapped_column(enum_type(LeadSource))
    referrer: Mapped[str] = mapped_column(String(100), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    duplicate_note: Mapped[str] = mapped_column(Text, default="")  # why it was saved despite a match
    status: Mapped[LeadStatus] = mapped_column(enum_type(LeadStatus), default=LeadStatus.NEW, index=True)
    abandon_reason: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    industry: Mapped[Industry | None] = relationship()
    chain_node: Mapped[ChainNode | None] = relationship()
    county: Mapped[County | None] = relationship()
    park: Mapped[Park | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    project: Mapped[Project | None] = relationship()
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="lead", order_by="FollowUp.date.desc()", cascade="all, delete-orphan")

    def editable_by(self, user: User) -> bool:
        if user.role is Role.COUNTY:
            return self.county_code is not None and self.county_code == user.county_code
        return can_edit_projects(user)


class FollowUp(db.Model):
    """One follow-up (跟进记录) on a lead: what happened and what comes next."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[FollowUpKind] = mapped_column(enum_type(FollowUpKind))
    summary: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str] = mapped_column(Text, default="")
    next_due: Mapped[dt.date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="follow_ups")
    created_by: Mapped[User | None] = relationship()
