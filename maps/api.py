"""The map's GeoJSON in the API document: parks, projects and counties as FeatureCollections, their filters and 304s.

The views are maps.views' (the map page fetches them with its login session; a token works too): this module only
describes them, and tests/maps/test_api_document.py holds the description to what they answer."""
from __future__ import annotations

import marshmallow as ma

from core.api import base
from projects.stages import Light, SignType, Stage

GEOJSON = "application/geo+json"
TAG = "地图"
TAG_DESCRIPTION = "地图页面使用的 GeoJSON（WGS-84）：园区、项目点位、县区边界及统计；可用令牌，也可用登录会话。"


def _enum(enum_cls, label: str) -> ma.fields.String:
    listed = "；".join(f"{member.value}＝{member.label}" for member in enum_cls)
    return ma.fields.String(metadata={"description": f"{label}：{listed}", "enum": [m.value for m in enum_cls]})


class ParkFilters(ma.Schema):
    """The filters parks.geojson heeds: county and industry."""

    county = ma.fields.String(metadata={"description": "县区代码（县区用户只能是本县区）", "examples": ["350404"]})
    industry = ma.fields.Integer(metadata={"description": "产业编号"})


class MapFilters(ParkFilters):
    """The map page's filters (maps.forms.MapFilterForm), read from the query string."""

    year = ma.fields.Integer(metadata={"description": "签约年份（用户有签约项目的年份之一）"})
    event = ma.fields.Integer(metadata={"description": "签约活动编号"})
    stage = _enum(Stage, "阶段")
    sign_type = _enum(SignType, "签约类型")
    major = ma.fields.Boolean(metadata={"description": "只看重大项目"})
    red = ma.fields.Boolean(metadata={"description": "只看逾期（红灯）项目"})


class Geometry(ma.Schema):
    type = ma.fields.String(required=True, metadata={"enum": ["Point", "Polygon", "MultiPolygon"],
                                                     "description": "几何类型"})
    coordinates = ma.fields.List(ma.fields.Raw(), required=True,
                                 metadata={"description": "坐标（经度, 纬度；WGS-84），按 GeoJSON（RFC 7946）嵌套"})


class ParkCapacityText(ma.Schema):
    free_land = ma.fields.String(metadata={"description": "可供地，如“1,200 亩”；未登记为“未登记”"})
    factory_space = ma.fields.String(metadata={"description": "标准厂房，如“5,000 m²”；未登记为“未登记”"})
    confirmed_on = ma.fields.String(metadata={"description": "最早的核实日期（YYYY-MM-DD）", "format": "date"})
    stale = ma.fields.Boolean(metadata={"description": "是否有超过 90 天未核实的数"})


class ParkProperties(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "园区编号"})
    name = ma.fields.String(required=True, metadata={"description": "园区名称"})
    county = ma.fields.String(required=True, metadata={"description": "县区名称"})
    industry = ma.fields.String(required=True, metadata={"description": "主导产业名称（无则为空）"})
    color = ma.fields.String(required=True, metadata={"description": "产业颜色（#rrggbb，无则为空）"})
    zone = ma.fields.String(required=True, metadata={"description": "集聚区名称（无则为空）"})
    layout = ma.fields.String(required=True, metadata={"description": "集聚区布局（无则为空）"})
    position_confidence = ma.fields.String(required=True, metadata={"description": "位置精度（中文）"})
    capacity = ma.fields.Nested(ParkCapacityText, required=True,
                                metadata={"description": "可供地与标准厂房；从未核实的园区为空对象"})


class ProjectProperties(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "项目编号"})
    name = ma.fields.String(required=True, metadata={"description": "项目名称"})
    investor = ma.fields.String(required=True, metadata={"description": "投资方"})
    county = ma.fields.String(required=True, metadata={"description": "县区名称"})
    park = ma.fields.String(required=True, metadata={"description": "园区名称（园区外为空）"})
    investment = ma.fields.Float(required=True, metadata={"description": "总投资（万元）"})
    major = ma.fields.Boolean(required=True, metadata={"description": "重大项目"})
    stage = ma.fields.String(required=True, metadata={"description": "阶段", "enum": [s.value for s in Stage]})
    stage_label = ma.fields.String(required=True, metadata={"description": "阶段（中文）"})
    light = ma.fields.String(required=True, metadata={"description": "亮灯", "enum": [li.value for li in Light]})
    light_label = ma.fields.String(required=True, metadata={"description": "亮灯（中文）"})
    photo = ma.fields.String(required=True, allow_none=True,
                             metadata={"description": "最新现场照片缩略图地址；无则为 null"})


class CountyProperties(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "县区代码"})
    name = ma.fields.String(required=True, metadata={"description": "县区名称"})
    signed = ma.fields.Integer(required=True, metadata={"description": "签约项目数"})
    contracts = ma.fields.Integer(required=True, metadata={"description": "其中合同项目数"})
    contracts_started = ma.fields.Integer(required=True, metadata={"description": "已开工的合同项目数"})
    producing = ma.fields.Integer(required=True, metadata={"description": "已投产项目数"})
    total_investment = ma.fields.Float(required=True, metadata={"description": "签约项目总投资（万元）"})
    start_rate = ma.fields.Float(required=True, allow_none=True,
                                 metadata={"description": "开工率（0–1）；无合同项目为 null"})
    production_rate = ma.fields.Float(required=True, allow_none=True,
                                      metadata={"description": "投产率（0–1）；无签约项目为 null"})
    label = ma.fields.List(ma.fields.Float(allow_none=True), required=True,
                           metadata={"description": "县名标注位置（县城）：[经度, 纬度]"})


def _feature(name: str, properties: type[ma.Schema]) -> type[ma.Schema]:
    return ma.Schema.from_dict({
        "type": ma.fields.String(required=True, metadata={"enum": ["Feature"]}),
        "geometry": ma.fields.Nested(Geometry, required=True),
        "properties": ma.fields.Nested(properties, required=True),
    }, name=name)


def _collection(name: str, feature: type[ma.Schema], **extra) -> type[ma.Schema]:
    return ma.Schema.from_dict({
        "type": ma.fields.String(required=True, metadata={"enum": ["FeatureCollection"]}),
        "features": ma.fields.List(ma.fields.Nested(feature), required=True),
        "ignored_filters": ma.fields.List(ma.fields.String(), metadata={
            "description": "被忽略的筛选条件（中文名）：取值无效或不可选；全部有效时不出现"}),
        **extra,
    }, name=name)


ParkCollection = _collection("ParkCollection", _feature("ParkFeature", ParkProperties))
ProjectCollection = _collection("ProjectCollection", _feature("ProjectFeature", ProjectProperties), unplaced=(
    ma.fields.Integer(required=True, metadata={"description": "没有位置（园区和县城都无坐标）而未画出的项目数"})))
CountyCollection = _collection("CountyCollection", _feature("CountyFeature", CountyProperties))

IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "上次响应的 ETag：数据未变时 304"}
ETAG = {"ETag": {"description": "强 ETag；数据或筛选条件变化时改变", "schema": {"type": "string"}}}
FILTERS_NOTE = "无效或不可选的筛选条件不报错，而是忽略，并在 ignored_filters 中列出。"


def _operation(summary: str, description: str, filters, collection) -> dict:
    return {"get": {
        "summary": summary, "description": f"{description}\n\n{FILTERS_NOTE}",
        "parameters": [{"in": "query", "schema": filters}, IF_NONE_MATCH],
        "responses": {
            "200": {"description": "GeoJSON FeatureCollection", "headers": ETAG,
                    "content": {GEOJSON: {"schema": collection}}},
            "304": {"description": "未修改：与 If-None-Match 中的版本相同，无响应体", "headers": ETAG},
        }}}


def document(app) -> None:
    """Add the three GeoJSON endpoints to the API document."""
    base.document(app, "maps.parks_geojson", TAG, TAG_DESCRIPTION, _operation(
        "园区 GeoJSON", "在用的园区（各角色都能看到全部园区）：有边界的画边界，否则画点；没有位置的园区不列出。",
        ParkFilters, ParkCollection))
    base.document(app, "maps.projects_geojson", TAG, TAG_DESCRIPTION, _operation(
        "项目点位 GeoJSON", "用户能看到的项目（县区用户只有本县区的），画在所在园区，园区无位置时画在县城，"
                            "同一处的项目略微错开。", MapFilters, ProjectCollection))
    base.document(app, "maps.counties_geojson", TAG, TAG_DESCRIPTION, _operation(
        "县区边界 GeoJSON", "当前各县区的边界，附用户筛选后的签约项目统计：项目数、总投资、开工率、投产率（与驾驶舱相同）。",
        MapFilters, CountyCollection))
