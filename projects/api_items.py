"""A project's approval items (前期手续) and milestones in the API: list them, change an item, add a milestone."""
from __future__ import annotations

import marshmallow as ma
from flask import Response
from flask_login import current_user

from core import clock
from core.api import base, http
from core.api.fields import Choice, Date, Page, Schema, Text, listing
from core.db import db

from . import queries, services
from .api import _editable
from .models import ApprovalStatus, Milestone
from .stages import Light

blp = base.blueprint("project_items", __name__, "前期手续与节点",
                     "项目的前期手续（列表、修改）和节点（列表、添加、修改），与项目页面上的表单相同。")


class ApprovalFields(Schema):
    """What the project page's 前期手续 form changes."""

    status = Choice(ApprovalStatus, "状态")
    planned_date = Date("计划日期", allow_none=True)
    done_date = Date("办结日期（已办结时必填，不能晚于今天）", allow_none=True)
    document_no = Text("文号", max_length=100, example="明发改备〔2026〕12号")


class ApprovalOut(ApprovalFields):
    """One approval item as stored, with its kind's name."""

    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True, metadata={"description": "项目编号"})
    type_id = ma.fields.Integer(required=True, metadata={"description": "手续类型编号"})
    type_name = ma.fields.String(required=True, attribute="type.name", metadata={"description": "手续名称"})
    position = ma.fields.Integer(required=True, metadata={"description": "排列顺序"})
    status = Choice(ApprovalStatus, "状态", required=True)


class MilestoneNew(Schema):
    """The project page's 添加节点 form."""

    name = Text("节点名称", max_length=100, min_length=1, required=True, example="土地摘牌")
    planned_date = Date("计划日期", required=True, example="2026-09-01")
    note = Text("说明", max_length=500)


class MilestoneChange(Schema):
    """The project page's form under each milestone."""

    planned_date = Date("计划日期")
    actual_date = Date("实际完成日期（不能晚于今天）", allow_none=True)


class MilestoneOut(MilestoneNew):
    """One milestone as stored, with its light today."""

    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True, metadata={"description": "项目编号"})
    actual_date = Date("实际完成日期", allow_none=True, required=True)
    light = Choice(Light, "亮灯", required=True)


ApprovalList = listing(ApprovalOut, "ApprovalList")
MilestoneList = listing(MilestoneOut, "MilestoneList")


def dump_approval(item) -> dict:
    return ApprovalOut.write(item)


def dump_milestone(milestone) -> dict:
    data = MilestoneOut.write(milestone)
    data["light"] = milestone.light(clock.today()).value
    return data


def project_page(project, statement, page: int, per_page: int, dump) -> Response:
    """One page of a project's items, with the project's version as the ETag: what a change to any of them sends."""
    response = http.page_of(statement, page, per_page, dump)
    response.headers["ETag"] = http.etag(project.version)
    return response


def item_change(project_id: int, item_of, change, dump) -> Response:
    """Change one of a project's items under If-Match (the project's version): the item as saved with the
    project's new ETag, or 412 with the item as it is now."""
    return http.versioned_change(lambda: _editable(project_id),
                                 lambda project, version: change(project, item_of(project), version),
                                 lambda project: dump(item_of(project)))


def item_added(project_id: int, add, model, listed, dump) -> tuple[Response, bool]:
    """Add (or, for a month's report, correct) an item of a project under If-Match: 201 with the item and the
    project's new ETag, or 412 with the project's items of that kind as they are now. Also says whether a row
    was new (``add`` returns the row and that)."""
    saved: list = []

    def change(project, version):
        row, new = add(project, version)
        saved.append((row.id, new))

    def dump_saved(project):
        if saved:
            return dump(db.session.get(model, saved[0][0]))
        return {"items": [dump(row) for row in db.session.scalars(listed(project))]}

    response = http.versioned_change(lambda: _editable(project_id), change, dump_saved, status=201)
    return response, saved[0][1]


@blp.get("/projects/<int:project_id>/approvals")
@blp.arguments(Page, location="query", as_kwargs=True)
@blp.response(200, ApprovalList)
def list_approvals(page: int, per_page: int, project_id: int):
    """前期手续列表

    项目的前期手续，顺序与项目页面相同。响应头 ETag 为项目的版本号，修改其中一项时放入 If-Match。"""
    project = queries.get_project_or_404(project_id, current_user)
    return project_page(project, queries.approval_items_of(project), page, per_page, dump_approval)


@blp.patch("/projects/<int:project_id>/approvals/<int:item_id>")
@blp.arguments(ApprovalFields, content_type="application/merge-patch+json")
@blp.response(200, ApprovalOut)
@blp.doc(parameters=[http.IF_MATCH])
def update_approval(patch: dict, project_id: int, item_id: int):
    """修改前期手续

    JSON merge patch：只改给出的字段（状态、计划日期、办结日期、文号），规则与页面相同（已办结须填办结日期）。
    须带项目的 If-Match；版本过期时 412，响应体 current 为该手续的最新内容。时间线记录的操作人为令牌所属用户。"""
    def change(project, item, version):
        wanted = {field: getattr(item, field) for field in ApprovalFields().fields} | patch
        services.update_approval(project, item, **wanted, version=version, by=current_user)

    return item_change(project_id, lambda project: queries.approval_item_or_404(project, item_id), change,
                       dump_approval)


@blp.get("/projects/<int:project_id>/milestones")
@blp.arguments(Page, location="query", as_kwargs=True)
@blp.response(200, MilestoneList)
def list_milestones(page: int, per_page: int, project_id: int):
    """节点列表

    项目的节点，按计划日期排列，各带亮灯。响应头 ETag 为项目的版本号，添加或修改节点时放入 If-Match。"""
    project = queries.get_project_or_404(project_id, current_user)
    return project_page(project, queries.milestones_of(project), page, per_page, dump_milestone)


@blp.post("/projects/<int:project_id>/milestones")
@blp.arguments(MilestoneNew)
@blp.response(201, MilestoneOut)
@blp.doc(parameters=[http.IF_MATCH])
def add_milestone(data: dict, project_id: int):
    """添加节点

    节点名称和计划日期必填。须带项目的 If-Match；版本过期时 412，响应体 current 为项目现有的节点
    （{"items": [...]}）。"""
    response, _ = item_added(
        project_id, lambda project, version: (services.add_milestone(project, **data, version=version,
                                                                     by=current_user), True),
        Milestone, queries.milestones_of, dump_milestone)
    return response


@blp.patch("/projects/<int:project_id>/milestones/<int:milestone_id>")
@blp.arguments(MilestoneChange, content_type="application/merge-patch+json")
@blp.response(200, MilestoneOut)
@blp.doc(parameters=[http.IF_MATCH])
def update_milestone(patch: dict, project_id: int, milestone_id: int):
    """修改节点

    JSON merge patch：只改给出的计划日期或实际完成日期（不能晚于今天）。须带项目的 If-Match；
    版本过期时 412，响应体 current 为该节点的最新内容。"""
    def change(project, milestone, version):
        wanted = {field: getattr(milestone, field) for field in MilestoneChange().fields} | patch
        services.update_milestone(project, milestone, **wanted, version=version, by=current_user)

    return item_change(project_id, lambda project: queries.milestone_or_404(project, milestone_id), change,
                       dump_milestone)
