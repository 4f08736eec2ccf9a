"""The chain map's JSON in the API document: industries → chains → nodes with their status and figures.

The view is chains.views.api (the chain page fetches it with its login session; a token works too): this module only
describes it, and tests/projects/chains/test_api_document.py holds the description to what it answers."""
from __future__ import annotations

import marshmallow as ma

from core.api import base

from .status import COUNTED, NodeStatus

TAG = "产业链"


class ChainFilters(ma.Schema):
    """The chain pages' filters (chains.forms.ChainFilterForm); a value not offered is ignored (null in filters)."""

    county = ma.fields.String(metadata={"description": "县区代码（各角色均可选任一县区：此处只有数字）",
                                        "examples": ["350404"]})
    year = ma.fields.Integer(metadata={"description": "签约年份"})


NodeProjects = ma.Schema.from_dict(
    {stage.value: ma.fields.Integer(required=True, metadata={"description": f"{stage.label}项目数"})
     for stage in COUNTED}, name="NodeProjects")
Statuses = ma.Schema.from_dict(
    {status.value: ma.fields.String(required=True, metadata={"description": f"“{status.label}”的含义"})
     for status in NodeStatus}, name="NodeStatuses")


class ChainNodeFigures(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "环节编号"})
    name = ma.fields.String(required=True, metadata={"description": "环节名称"})
    status = ma.fields.String(required=True, metadata={
        "description": "状态：" + "；".join(f"{s.value}＝{s.label}" for s in NodeStatus),
        "enum": [s.value for s in NodeStatus]})
    anchor_firms = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "该环节的龙头企业"})
    projects = ma.fields.Nested(NodeProjects, required=True,
                                metadata={"description": "按阶段的项目数（暂缓、终止的项目不计入）"})
    investment = ma.fields.Float(required=True, metadata={"description": "计入项目的总投资（万元）"})
    active_leads = ma.fields.Integer(required=True, metadata={"description": "在跟线索数"})


class ChainOut(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "产业链编号"})
    name = ma.fields.String(required=True, metadata={"description": "产业链名称"})
    nodes = ma.fields.List(ma.fields.Nested(ChainNodeFigures), required=True,
                           metadata={"description": "环节，从上游到下游"})


class IndustryChains(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "产业编号"})
    name = ma.fields.String(required=True, metadata={"description": "产业名称"})
    chains = ma.fields.List(ma.fields.Nested(ChainOut), required=True)


class AppliedChainFilters(ma.Schema):
    county = ma.fields.String(required=True, allow_none=True, metadata={"description": "采用的县区代码；全市为 null"})
    year = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "采用的签约年份；全部为 null"})


class ChainMap(ma.Schema):
    """The chain map: the filters applied, what each status means, and every industry's chains."""

    filters = ma.fields.Nested(AppliedChainFilters, required=True,
                               metadata={"description": "实际采用的筛选条件（无效的取值被忽略，为 null）"})
    statuses = ma.fields.Nested(Statuses, required=True)
    industries = ma.fields.List(ma.fields.Nested(IndustryChains), required=True)


def document(app) -> None:
    """Add GET /api/v1/chains to the API document."""
    base.document(app, "chains.api", TAG, "产业链图谱：各产业链从上游到下游的环节及其强、弱、缺状态和项目数字；"
                                         "可用令牌，也可用登录会话。", {"get": {
        "summary": "产业链图谱",
        "description": "各产业的产业链及环节，每个环节带状态（强链、弱链、缺链）、龙头企业、按阶段的项目数、总投资和在跟线索数。"
                       "只有数字，县区用户也可选看其他县区。无效的筛选条件不报错，而是忽略（filters 中为 null）。",
        "parameters": [{"in": "query", "schema": ChainFilters}],
        "responses": {"200": {"description": "产业链图谱", "content": {"application/json": {"schema": ChainMap}}}},
    }})
