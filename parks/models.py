"""The parks' tables: industries with their chains, zones (一区N园), parks with their former names, anchor enterprises."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.auth.models import County, User
from core.db import UTCDateTime, db, enum_type, utcnow
from core.enums import LabeledEnum


class PositionConfidence(LabeledEnum):
    COUNTY_SEAT = "county_seat", "县城位置近似"
    PLACE = "place", "地名位置近似"
    CONFIRMED = "confirmed", "已核准"

    @property
    def explanation(self) -> str:
        return {
            "county_seat": "政策文本没有坐标，此处暂用所在县（市、区）城区的位置，误差可达数公里。",
            "place": "按公开资料中的乡镇或地名近似定位，误差约一至两公里。",
            "confirmed": "管理员已核准位置或上传了园区边界。",
        }[self.value]


class ParkKind(LabeledEnum):
    INDUSTRIAL = "industrial", "产业园"
    INCUBATOR = "incubator", "孵化园"
    DEVELOPMENT_ZONE = "development_zone", "开发区"
    PLATFORM = "platform", "研发平台"


class Kept:
    """Reference rows administrators keep: retired rows leave every choice list but stay where they are used."""

    # The seed's own name for the row (its name in reference_data): a re-seed finds the row by it after a rename.
    seed_key: Mapped[str | None] = mapped_column(String(200), unique=True, index=True)
    # When an administrator last changed the row; a re-seed refreshes only rows no administrator has touched.
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class Industry(db.Model):
    __tablename__ = "industry"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    color: Mapped[str] = mapped_column(String(7))
    is_cluster: Mapped[bool] = mapped_column(default=False)  # one of the policy's four park clusters
    position: Mapped[int] = mapped_column(default=0)

    chains: Mapped[list[Chain]] = relationship(back_populates="industry", order_by="Chain.position")
    zones: Mapped[list[Zone]] = relationship(back_populates="industry", order_by="Zone.position")


class Chain(Kept, db.Model):
    __tablename__ = "chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    industry_id: Mapped[int] = mapped_column(ForeignKey("industry.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)

    industry: Mapped[Industry] = relationship(back_populates="chains")
    nodes: Mapped[list[ChainNode]] = relationship(back_populates="chain", order_by="ChainNode.position")


class ChainNode(Kept, db.Model):
    __tablename__ = "chain_node"

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("chain.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)

    chain: Mapped[Chain] = relationship(back_populates="nodes")


class Zone(Kept, db.Model):
    """An industry's cluster of parks (一区N园)."""

    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    layout: Mapped[str] = mapped_column(String(32))
    industry_id: Mapped[int] = mapped_column(ForeignKey("industry.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    industry: Mapped[Industry] = relationship(back_populates="zones")
    parks: Mapped[list[Park]] = relationship(back_populates="zone", order_by="Park.position")


class Park(Kept, db.Model):
    __tablename__ = "park"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[ParkKind] = mapped_column(enum_type(ParkKind))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"), index=True)
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industry.id"), index=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    position_confidence: Mapped[PositionConfidence] = mapped_column(enum_type(PositionConfidence))
    position_note: Mapped[str] = mapped_column(Text, default="")
    boundary_geojson: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    zone: Mapped[Zone | None] = relationship(back_populates="parks")
    industry: Mapped[Industry | None] = relationship()
    county: Mapped[County] = relationship()
    enterprises: Mapped[list[Enterprise]] = relationship(back_populates="park",
                                                         order_by="Enterprise.position")
    aliases: Mapped[list[ParkAlias]] = relationship(back_populates="park", order_by="ParkAlias.id",
                                                    cascade="all, delete-orphan")

    @property
    def boundary(self) -> dict | None:
        return json.loads(self.boundary_geojson) if self.boundary_geojson else None


class ParkAlias(db.Model):
    """A park's former name: old ledgers and the project search still find the park by it."""

    __tablename__ = "park_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    park: Mapped[Park] = relationship(back_populates="aliases")


class Enterprise(Kept, db.Model):
    """An enterprise the policy names as an anchor (龙头/骨干) or partner of a cluster."""

    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(32), default="")
    industry_id: Mapped[int | None] = mapped_column(ForeignKey("industry.id"), index=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"), index=True)
    # The link of a chain the firm anchors: it makes that node strong (强链) on the chain map.
    chain_node_id: Mapped[int | None] = mapped_column(ForeignKey("chain_node.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    industry: Mapped[Industry | None] = relationship()
    park: Mapped[Park | None] = relationship(back_populates="enterprises")
    chain_node: Mapped[ChainNode | None] = relationship()


class CapacityMeasure(LabeledEnum):
    """What a park can still offer an investor, each confirmed on its own date (DOMAIN: 可供地, 标准厂房)."""

    PLANNED_AREA = "planned_area", "规划面积（亩）"
    DEVELOPED_AREA = "developed_area", "已开发面积（亩）"
    FREE_LAND = "free_land", "可供地（亩）"
    FACTORY_SPACE = "factory_space", "标准厂房（m²）"

    @property
    def unit(self) -> str:
        return "m²" if self is CapacityMeasure.FACTORY_SPACE else "亩"


class ParkCapacity(db.Model):
    """One confirmation of one capacity figure of a park; the latest per measure is the current figure and
    the earlier ones are its history."""

    __tablename__ = "park_capacity"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    measure: Mapped[CapacityMeasure] = mapped_column(enum_type(CapacityMeasure))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    confirmed_on: Mapped[dt.date] = mapped_column(Date)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    note: Mapped[str] = mapped_column(String(200), default="")  # how it was confirmed (实地核查, 国土台账 …)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    park: Mapped[Park] = relationship()
    confirmed_by: Mapped[User | None] = relationship()
