"""The projects in the API: list (the page's filters and sorts), read, register, change (merge patch), move, convert."""
from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from sqlalchemy import type_coerce

from core import clock
from core.api import base, http
from core.api.fields import Area, Bool, Choice, Date, Flag, Id, Money, Page, QueryId, Schema, Text, listing
from core.db import db, enum_type
from core.transaction import transaction

from . import queries, rules, services
from .models import InvestorOrigin, InvestorType
from .stages import Light, SignType, Stage

blp = base.blueprint("projects", __name__, "项目",
                     "项目：列表、详情、登记、修改（JSON merge patch）、阶段变更、协议转合同。")


class ProjectFields(Schema):
    """What a caller may write to a project: the project form's fields, under the model's names."""

    name = Text("项目名称", max_length=200, min_length=1, example="年产5万吨氟化工新材料项目")
    investor_name = Text("投资方（企业名称）", max_length=200, min_length=1, example="福建某新材料有限公司")
    investor_credit_code = Text("统一社会信用代码（18 位）", max_length=18, allow_none=True,
                                example="91350400MA2XXXXX0X")
    investor_origin = Choice(InvestorOrigin, "投资方来源", allow_none=True)
    investor_type = Choice(InvestorType, "投资方类型", allow_none=True)
    county_code = Text("所属县区代码（县区用户只能是本县区）", max_length=6, min_length=6, example="350404")
    park_id = Id("所属园区编号", allow_none=True)
    industry_id = Id("产业编号", allow_none=True)
    chain_node_id = Id("产业链环节编号", allow_none=True)
    total_investment = Money("总投资", example=50000)
    fixed_asset_investment = Money("其中固定资产投资", allow_none=True)
    land_area = Area("用地", "亩", allow_none=True)
    sign_type = Choice(SignType, "签约类型", allow_none=True)
    sign_date = Date("签约日期", allow_none=True, example="2026-03-18")
    project_code = Text("项目代码（前期阶段起必填）", max_length=24, allow_none=True)
    is_major = Bool("重大项目")
    hooked_leader_id = Id("挂钩领导（用户编号）", allow_none=True)
    responsible_unit = Text("责任单位", max_length=200)
    liaison = Text("联络员", max_length=100)
    planned_start = Date("计划开工日期", allow_none=True)
    actual_start = Date("实际开工日期", allow_none=True)
    planned_completion = Date("计划竣工日期", allow_none=True)
    actual_completion = Date("实际竣工日期", allow_none=True)
    planned_production = Date("计划投产日期", allow_none=True)
    actual_production = Date("实际投产日期", allow_none=True)
    investment_baseline = Money("月报启用前的累计完成投资")
    signing_event_id = Id("签约活动编号", allow_none=True)
    is_capital_increase = Bool("增资项目（总投资只填增资部分）")
    notes = Text("备注", max_length=4000, multiline=True, example="已完成用地预审。")


class NewProject(ProjectFields):
    name = Text("项目名称", max_length=200, min_length=1, required=True)
    investor_name = Text("投资方（企业名称）", max_length=200, min_length=1, required=True)
    total_investment = Money("总投资", required=True)
    stage = Choice(Stage, "起始阶段（只能是 negotiating 在谈 或 signed 签约，默认签约）")


class ProjectOut(ProjectFields):
    """A project as stored: the model's field names, money in 万元, dates YYYY-MM-DD, times ISO 8601 UTC."""

    id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "版本号（即 ETag），修改时放在 If-Match 中"})
    stage = Choice(Stage, "阶段", required=True)
    paused_from = Choice(Stage, "暂缓前的阶段", allow_none=True)
    pause_reason = ma.fields.String()
    resume_expected = ma.fields.Date(allow_none=True)
    drop_reason = ma.fields.String()
    signed_as = Choice(SignType, "首次签约时的类型", allow_none=True)
    contract_date = ma.fields.Date(allow_none=True, metadata={"description": "合同签订日期（协议转合同）"})
    investment_completed = Money("累计完成投资")
    funds_arrived = Money("累计到资")
    light = Choice(Light, "亮灯", allow_none=True)
    created_at = ma.fields.AwareDateTime(metadata={"description": "登记时间（UTC）"})
    updated_at = ma.fields.AwareDateTime(metadata={"description": "最后修改时间（UTC）"})


ProjectList = listing(ProjectOut, "ProjectList")


class ListArgs(Page):
    county = ma.fields.String(metadata={"description": "县区代码"})
    park = QueryId("园区编号")
    industry = QueryId("产业编号")
    stage = Choice(Stage, "阶段")
    sign_type = Choice(SignType, "签约类型")
    year = ma.fields.Integer(validate=ma.validate.Range(1990, 2100, error="签约年份须在 1990 到 2100 之间。"),
                             metadata={"description": "签约年份"})
    major = Flag("只看重大项目")
    gaps = Flag("只看有资料缺项的项目")
    light = Choice(Light, "亮灯")
    event = QueryId("签约活动编号")
    q = Text("搜索项目名称、投资方或园区", max_length=100)
    sort = ma.fields.String(validate=ma.validate.OneOf(list(queries.SORTS), error="未知的排序方式。"), metadata={
        "description": "排序：" + "；".join(f"{key}＝{label}" for key, label in queries.SORTS.items()),
        "enum": list(queries.SORTS)})


class StageMove(Schema):
    to_stage = Choice(Stage, "变更为", required=True)
    reason = Text("原因（退回、暂缓、终止时必填）", max_length=1000, multiline=True)
    resume_date = Date("预计恢复日期（暂缓时必填）", allow_none=True)


class Conversion(Schema):
    contract_date = Date("合同签订日期", required=True)


def dump(project, light: Light | None = None) -> dict:
    """A project as the API writes it; ``light`` when the query computed it already (a list: no query a row)."""
    data = ProjectOut.write(project)
    data["light"] = (light or project.light(clock.today())).value
    return data


@blp.get("/projects")
@blp.arguments(ListArgs, location="query", as_kwargs=True)
@blp.response(200, ProjectList)
def list_projects(page: int, per_page: int, **filters):
    """项目列表

    令牌所属用户能看到的项目（县区用户只有本县区的），筛选和排序与“项目”页面相同。"""
    wanted = queries.ListFilters(**{key: value for key, value in filters.items() if key != "sort"})
    sort = filters.get("sort") or queries.default_sort(current_user)
    query, light = queries.filtered_projects(current_user, wanted, clock.today())
    statement = query.add_columns(type_coerce(light, enum_type(Light))).order_by(*queries.list_order(sort, light))
    return http.page_of(statement, page, per_page, lambda row: dump(*row), whole_rows=True)


@blp.get("/projects/<int:project_id>")
@blp.response(200, ProjectOut)
def get_project(project_id: int):
    """项目详情

    其他县区的项目一律 404。响应头 ETag 为版本号，修改时放入 If-Match。"""
    project = queries.get_project_or_404(project_id, current_user)
    return http.with_etag(dump(project), project.version)


@blp.post("/projects")
@blp.arguments(NewProject)
@blp.response(201, ProjectOut)
def create_project(data: dict):
    """登记项目

    与页面表单同样的校验；起始阶段为“签约”（默认）或“在谈”。县区用户登记的项目总在本县区。时间线记录的操作人为令牌所属用户。"""
    stage = data.pop("stage", Stage.SIGNED)
    with transaction():
        project = services.create_project(data, by=current_user, stage=stage)
        project_id = project.id
    project = queries.get_project_or_404(project_id, current_user)
    return http.created(dump(project), project.version, f"{base.PREFIX}/projects/{project.id}")


@blp.patch("/projects/<int:project_id>")
@blp.arguments(ProjectFields(partial=True), content_type="application/merge-patch+json")
@blp.response(200, ProjectOut)
@blp.doc(parameters=[http.IF_MATCH])
def update_project(patch: dict, project_id: int):
    """修改项目

    JSON merge patch：只改给出的字段，null 清空该字段。须带 If-Match；版本过期时 412，响应体 current 为最新内容。"""
    def change(project, version):
        data = {field: getattr(project, field) for field in rules.EDITABLE_FIELDS}
        data.update(patch)
        services.update_project(project, data, version=version, by=current_user)

    return http.versioned_change(lambda: _editable(project_id), change, dump)


@blp.post("/projects/<int:project_id>/stage")
@blp.arguments(StageMove)
@blp.response(200, ProjectOut)
@blp.doc(parameters=[http.IF_MATCH])
def change_stage(move: dict, project_id: int):
    """变更阶段

    与页面相同的阶段规则和关口（如进入“前期”须有项目代码）；退回、暂缓、终止须填原因。须带 If-Match。"""
    return http.versioned_change(
        lambda: _editable(project_id),
        lambda project, version: services.change_stage(project, move["to_stage"], version=version, by=current_user,
                                                       reason=move.get("reason", ""),
                                                       resume_date=move.get("resume_date")),
        dump)


@blp.post("/projects/<int:project_id>/convert")
@blp.arguments(Conversion)
@blp.response(200, ProjectOut)
@blp.doc(parameters=[http.IF_MATCH])
def convert(data: dict, project_id: int):
    """协议转合同

    记录协议转为合同的日期（计入协议转合同率）。须带 If-Match。"""
    return http.versioned_change(
        lambda: _editable(project_id),
        lambda project, version: services.convert_to_contract(project, data["contract_date"], version=version,
                                                              by=current_user),
        dump)


def _editable(project_id: int):
    db.session.expire_all()
    return queries.get_project_or_404(project_id, current_user, for_edit=True)
