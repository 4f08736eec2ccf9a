"""The parks and counties in the API: the park list (by county and industry), a park's facts, the current counties."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app

from core.api import base, http
from core.api.fields import Choice, Flag, Page, QueryId, Schema, Text, listing
from core.auth.queries import current_counties_select

from . import queries
from .models import CapacityMeasure, ParkKind, PositionConfidence

blp = base.blueprint("parks", __name__, "园区与县区", "园区列表（按县区、产业筛选）、园区详情、当前县区列表；只读。")

COUNTY_CODE = ma.validate.Regexp(r"^\d{6}$", error="县区代码须为 6 位数字。")


class ParkOut(Schema):
    """A park as stored, under the model's field names."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata={"description": "园区名称"})
    kind = Choice(ParkKind, "园区类型", required=True)
    county_code = ma.fields.String(required=True, metadata={"description": "所在县区代码"})
    industry_id = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "主导产业编号"})
    zone_id = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "所属集聚区（一区N园）编号"})
    lat = ma.fields.Float(required=True, metadata={"description": "纬度（WGS-84）"})
    lon = ma.fields.Float(required=True, metadata={"description": "经度（WGS-84）"})
    position_confidence = Choice(PositionConfidence, "位置精度", required=True)
    position_note = ma.fields.String(required=True, metadata={"description": "位置说明"})
    description = ma.fields.String(required=True, metadata={"description": "园区简介"})
    position = ma.fields.Integer(required=True, metadata={"description": "排列顺序"})
    retired_at = ma.fields.AwareDateTime(required=True, allow_none=True,
                                         metadata={"description": "停用时间（UTC）；未停用为 null"})


class EnterpriseOut(Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata={"description": "企业名称"})
    role = ma.fields.String(required=True, metadata={"description": "角色（龙头、骨干等）"})
    chain_node_id = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "所在产业链环节编号"})


class CapacityOut(Schema):
    measure = Choice(CapacityMeasure, "指标", required=True)
    value = ma.fields.Float(required=True, metadata={"description": "数值（亩或 m²，见指标）"})
    confirmed_on = ma.fields.Date(required=True, metadata={"description": "核实日期"})


class ParkDetail(ParkOut):
    """A park with its boundary, former names, anchor enterprises and current capacity."""

    boundary = ma.fields.Dict(required=True, allow_none=True,
                              metadata={"description": "园区边界（GeoJSON FeatureCollection，Polygon 或 MultiPolygon，WGS-84）；"
                                                       "未上传为 null"})
    aliases = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "曾用名"})
    enterprises = ma.fields.List(ma.fields.Nested(EnterpriseOut), required=True,
                                 metadata={"description": "龙头企业（不含已停用的）"})
    capacity = ma.fields.List(ma.fields.Nested(CapacityOut), required=True,
                              metadata={"description": "可供地、标准厂房等的最新核实数；从未核实的指标不列出"})


class CountyOut(Schema):
    """A current county (outlines: /api/v1/counties.geojson)."""

    code = ma.fields.String(required=True, metadata={"description": "县区代码"})
    name = ma.fields.String(required=True, metadata={"description": "县区名称"})
    short_name = ma.fields.String(required=True, metadata={"description": "简称"})
    seat_lat = ma.fields.Float(required=True, allow_none=True, metadata={"description": "县城（政府驻地）纬度"})
    seat_lon = ma.fields.Float(required=True, allow_none=True, metadata={"description": "县城（政府驻地）经度"})


ParkList = listing(ParkOut, "ParkList")
CountyList = listing(CountyOut, "CountyList")


class ParkArgs(Page):
    county = Text("县区代码", max_length=6, validate=COUNTY_CODE)
    industry = QueryId("产业编号")
    retired = Flag("包括已停用的园区")


@blp.get("/parks")
@blp.arguments(ParkArgs, location="query", as_kwargs=True)
@blp.response(200, ParkList)
def list_parks(page: int, per_page: int, **filters):
    """园区列表

    按“园区”页面的顺序（产业、集聚区、园区）列出，可按县区、产业筛选；已停用的园区只在 retired=true 时列出。
    各角色都能看到全部园区。"""
    query = queries.park_list(county=filters.get("county"), industry=filters.get("industry"),
                              retired=filters.get("retired", False))
    return http.page_of(query, page, per_page, ParkOut().dump)


@blp.get("/parks/<int:park_id>")
@blp.response(200, ParkDetail)
def get_park(park_id: int):
    """园区详情

    含边界、曾用名、龙头企业和可供地等最新核实数；已停用的园区也可读取。"""
    park = queries.park_detail(park_id)
    capacity = queries.capacity_of(park.id).figures.values()
    return current_app.json.response({
        **ParkOut.write(park), "boundary": park.boundary, "aliases": [alias.name for alias in park.aliases],
        "enterprises": EnterpriseOut(many=True).dump(firm for firm in park.enterprises if not firm.is_retired),
        "capacity": CapacityOut(many=True).dump(capacity)})


@blp.get("/counties")
@blp.arguments(Page, location="query", as_kwargs=True)
@blp.response(200, CountyList)
def list_counties(page: int, per_page: int):
    """县区列表

    当前的县（市、区）及县城位置（2021 年撤并的不列出）；县区边界见 /api/v1/counties.geojson。"""
    return http.page_of(current_counties_select(), page, per_page, CountyOut().dump)
