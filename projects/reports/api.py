"""A project's monthly reports (月度进展) and blockers (存在问题) in the API: list, submit a month, add, escalate, close."""
from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from core import clock
from core.api import base, http
from core.api.fields import Bool, Choice, Date, Money, Page, Schema, Text, listing
from projects import queries as project_queries
from projects.api_items import item_added, item_change, project_page

from . import queries, services
from .models import Blocker, BlockerCategory, ProgressReport

blp = base.blueprint("project_reports", __name__, "月报与存在问题",
                     "项目的月度进展（列表、填报或更正某月）和存在问题（列表、登记、提请挂钩领导协调、关闭），"
                     "与页面上的表单相同。")


class ReportFields(Schema):
    """One project's line of the monthly report page."""

    month = Date("月份（该月任一天，按所在月份记，如 2026-03-01）", required=True, example="2026-03-01")
    investment = Money("本月完成投资", allow_none=True, example=1200)
    funds_arrived = Money("本月到位资金", allow_none=True, example=800)
    note = Text("进展说明", max_length=1000, example="主体厂房完成基础施工。")
    no_change = Bool("本月无变化（金额按 0 记）")
    confirm_funds = Bool("确认到位资金累计超过总投资")


class ReportOut(Schema):
    """One month's report as stored."""

    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True, metadata={"description": "项目编号"})
    month = ma.fields.Date(required=True, metadata={"description": "月份（该月第一天）"})
    investment = Money("本月完成投资", required=True)
    funds_arrived = Money("本月到位资金", required=True)
    note = ma.fields.String(required=True, metadata={"description": "进展说明"})
    no_change = ma.fields.Boolean(required=True, metadata={"description": "本月无变化"})
    reported_by_id = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "填报人（用户编号）"})
    reported_at = ma.fields.AwareDateTime(required=True, metadata={"description": "填报时间（UTC）"})


class BlockerFields(Schema):
    """The project page's 登记问题 form."""

    category = Choice(BlockerCategory, "类别", required=True)
    description = Text("问题描述", max_length=2000, multiline=True, min_length=1, required=True,
                       example="用地指标尚未落实。")
    department = Text("责任部门（须协调解决的部门）", max_length=100, example="市自然资源局")
    due_date = Date("期限", allow_none=True)
    escalated = Bool("提请挂钩领导协调")


class BlockerOut(BlockerFields):
    """One blocker as stored: open until closed with a note on how it was solved."""

    id = ma.fields.Integer(required=True)
    project_id = ma.fields.Integer(required=True, metadata={"description": "项目编号"})
    department = ma.fields.String(required=True, metadata={"description": "责任部门"})
    due_date = ma.fields.Date(required=True, allow_none=True, metadata={"description": "期限"})
    escalated = ma.fields.Boolean(required=True, metadata={"description": "已提请挂钩领导协调"})
    is_open = ma.fields.Boolean(required=True, metadata={"description": "尚未关闭"})
    closed_at = ma.fields.AwareDateTime(required=True, allow_none=True, metadata={"description": "关闭时间（UTC）"})
    closing_note = ma.fields.String(required=True, metadata={"description": "解决情况"})
    created_by_id = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "登记人（用户编号）"})
    created_at = ma.fields.AwareDateTime(required=True, metadata={"description": "登记时间（UTC）"})


class Closing(Schema):
    closing_note = Text("解决情况", max_length=2000, multiline=True, min_length=1, required=True,
                        example="已完成用地报批。")


ReportList = listing(ReportOut, "ReportList")
BlockerList = listing(BlockerOut, "BlockerList")


def dump_report(report) -> dict:
    return ReportOut.write(report)


def dump_blocker(blocker) -> dict:
    return BlockerOut.write(blocker)


@blp.get("/projects/<int:project_id>/reports")
@blp.arguments(Page, location="query", as_kwargs=True)
@blp.response(200, ReportList)
def list_reports(page: int, per_page: int, project_id: int):
    """月度进展列表

    项目各月的月报，最近的月份在前。响应头 ETag 为项目的版本号，填报时放入 If-Match。"""
    project = project_queries.get_project_or_404(project_id, current_user)
    return project_page(project, queries.reports_of(project), page, per_page, dump_report)


@blp.post("/projects/<int:project_id>/reports")
@blp.arguments(ReportFields)
@blp.response(201, ReportOut)
@blp.alt_response(200, schema=ReportOut, description="该月已有月报：已更正", success=True)
@blp.doc(parameters=[http.IF_MATCH])
def submit_report(data: dict, project_id: int):
    """填报月度进展

    填报某月的完成投资、到位资金和进展说明，或勾选“本月无变化”；该月已有月报时为更正（200），否则新建（201）。
    规则与月报页面相同：签约之前、投产之后和未来的月份不能填报，到位资金累计超过总投资须确认（confirm_funds）。
    累计完成投资和累计到资随之更新。须带项目的 If-Match；版本过期时 412，响应体 current 为项目现有的月报。"""
    def submit(project, version):
        new = queries.month_report(project, clock.month_start(data["month"])) is None
        report = services.save_report(project, data["month"], investment=data.get("investment"),
                                      funds_arrived=data.get("funds_arrived"), note=data.get("note", ""),
                                      no_change=data.get("no_change", False), version=version, by=current_user,
                                      confirm_funds_over_total=data.get("confirm_funds", False))
        return report, new

    response, new = item_added(project_id, submit, ProgressReport, queries.reports_of, dump_report)
    response.status_code = 201 if new else 200
    return response


@blp.get("/projects/<int:project_id>/blockers")
@blp.arguments(Page, location="query", as_kwargs=True)
@blp.response(200, BlockerList)
def list_blockers(page: int, per_page: int, project_id: int):
    """存在问题列表

    项目的存在问题（已关闭的也在内），最新登记的在前。响应头 ETag 为项目的版本号，登记或处理问题时放入 If-Match。"""
    project = project_queries.get_project_or_404(project_id, current_user)
    return project_page(project, queries.blockers_of(project), page, per_page, dump_blocker)


@blp.post("/projects/<int:project_id>/blockers")
@blp.arguments(BlockerFields)
@blp.response(201, BlockerOut)
@blp.doc(parameters=[http.IF_MATCH])
def add_blocker(data: dict, project_id: int):
    """登记存在问题

    问题的类别、描述、须协调解决的部门和期限，可同时提请挂钩领导协调。须带项目的 If-Match；
    版本过期时 412，响应体 current 为项目现有的问题。"""
    response, _ = item_added(
        project_id, lambda project, version: (services.add_blocker(
            project, category=data["category"], description=data["description"],
            department=data.get("department", ""), due_date=data.get("due_date"),
            escalated=data.get("escalated", False), version=version, by=current_user), True),
        Blocker, queries.blockers_of, dump_blocker)
    return response


@blp.post("/projects/<int:project_id>/blockers/<int:blocker_id>/escalate")
@blp.response(200, BlockerOut)
@blp.doc(parameters=[http.IF_MATCH])
def escalate_blocker(project_id: int, blocker_id: int):
    """提请挂钩领导协调

    把一个未关闭的问题提请项目的挂钩领导协调。须带项目的 If-Match；版本过期时 412，响应体 current 为该问题的最新内容。"""
    return item_change(project_id, lambda project: queries.blocker_or_404(project, blocker_id),
                       lambda project, blocker, version: services.escalate_blocker(
                           project, blocker, version=version, by=current_user),
                       dump_blocker)


@blp.post("/projects/<int:project_id>/blockers/<int:blocker_id>/close")
@blp.arguments(Closing)
@blp.response(200, BlockerOut)
@blp.doc(parameters=[http.IF_MATCH])
def close_blocker(data: dict, project_id: int, blocker_id: int):
    """关闭问题

    说明解决情况后关闭一个未关闭的问题。须带项目的 If-Match；版本过期时 412，响应体 current 为该问题的最新内容。"""
    return item_change(project_id, lambda project: queries.blocker_or_404(project, blocker_id),
                       lambda project, blocker, version: services.close_blocker(
                           project, blocker, closing_note=data["closing_note"], version=version, by=current_user),
                       dump_blocker)
