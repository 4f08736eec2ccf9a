"""The signing events in the API: list, read (with the cohort's figures), create and correct, as the event pages do."""
from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from core.api import base, http
from core.api.fields import Date, Money, Page, Schema, Text, listing
from core.auth.queries import current_counties
from core.db import db
from core.errors import InvalidInput
from core.transaction import transaction

from . import queries, services

blp = base.blueprint("events", __name__, "签约活动",
                     "签约活动：列表、详情（在此签约的项目的转化情况）、新建、修改（JSON merge patch）。")
FIELDS = ("name", "date", "place", "organiser", "county_code", "notes")


class EventFields(Schema):
    """What a caller may write to a signing event: the event form's fields."""

    name = Text("活动名称（不可重复）", max_length=100, min_length=1, example="2026年三明市春季项目集中签约活动")
    date = Date("日期", example="2026-03-18")
    place = Text("地点", max_length=100, example="三明")
    organiser = Text("主办单位", max_length=100, example="三明市人民政府")
    county_code = Text("县区自办活动时的县区代码（可为 null）", max_length=6, allow_none=True, example="350404")
    notes = Text("备注", max_length=2000, multiline=True)


class NewEvent(EventFields):
    name = Text("活动名称（不可重复）", max_length=100, min_length=1, required=True,
                example="2026年三明市春季项目集中签约活动")
    date = Date("日期", required=True, example="2026-03-18")


class EventOut(EventFields):
    id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "版本号（即 ETag），修改时放在 If-Match 中"})
    created_at = ma.fields.AwareDateTime(metadata={"description": "创建时间（UTC）"})
    signed = ma.fields.Integer(required=True, metadata={
        "description": "在此活动首次签约的项目数（只计您可以查看的项目；项目列表见 /api/v1/projects?event=编号）"})


class CohortFigures(Schema):
    """The cohort's conversion, over the projects the caller may see, as the event's page shows it."""

    signed = ma.fields.Integer(required=True, metadata={"description": "签约项目数"})
    total_investment = Money("签约总投资", required=True)
    contracts = ma.fields.Integer(required=True, metadata={"description": "以合同签约的项目数"})
    contracts_started = ma.fields.Integer(required=True, metadata={"description": "其中已开工"})
    agreements = ma.fields.Integer(required=True, metadata={"description": "以协议签约的项目数"})
    converted = ma.fields.Integer(required=True, metadata={"description": "其中已转为合同"})
    started = ma.fields.Integer(required=True, metadata={"description": "已开工的项目数"})
    producing = ma.fields.Integer(required=True, metadata={"description": "已投产的项目数"})
    capital_increases = ma.fields.Integer(required=True, metadata={"description": "增资项目数"})
    start_rate = ma.fields.Float(required=True, allow_none=True, metadata={"description": "合同项目开工率（0–1）"})
    conversion_rate = ma.fields.Float(required=True, allow_none=True, metadata={"description": "协议转合同率（0–1）"})
    production_rate = ma.fields.Float(required=True, allow_none=True, metadata={"description": "投产率（0–1）"})


class EventDetail(EventOut):
    figures = ma.fields.Nested(CohortFigures, required=True)


EventList = listing(EventOut, "EventList")


def dump(event, signed: int) -> dict:
    return {**EventOut.write(event), "signed": signed}


def dump_detail(event) -> dict:
    figures = queries.cohort_figures(current_user, event.id)
    return {**dump(event, figures["signed"]), "figures": CohortFigures().dump(figures)}


@blp.get("/events")
@blp.arguments(Page, location="query", as_kwargs=True)
@blp.response(200, EventList)
def list_events(page: int, per_page: int):
    """签约活动列表

    最近的在前；signed 为在此活动首次签约、您可以查看的项目数。"""
    counts = queries.signed_counts(current_user)
    return http.page_of(queries.events_latest_first(), page, per_page,
                        lambda event: dump(event, counts.get(event.id, 0)))


@blp.get("/events/<int:event_id>")
@blp.response(200, EventDetail)
def get_event(event_id: int):
    """签约活动详情

    含在此签约的项目的转化情况（开工率、协议转合同率、投产率），只计您可以查看的项目，与活动页面相同。"""
    event = queries.event_or_404(event_id)
    return http.with_etag(dump_detail(event), event.version)


@blp.post("/events")
@blp.arguments(NewEvent)
@blp.response(201, EventDetail)
def create_event(data: dict):
    """新建签约活动

    只有市商务局和管理员可以维护签约活动（与页面相同），其他角色 403。活动名称不可重复。"""
    fields = {field: data.get(field) for field in FIELDS}
    with transaction():
        event_id = _save(None, fields).id
    event = queries.event_or_404(event_id)
    return http.created(dump_detail(event), event.version, f"{base.PREFIX}/events/{event_id}")


@blp.patch("/events/<int:event_id>")
@blp.arguments(EventFields(partial=True), content_type="application/merge-patch+json")
@blp.response(200, EventDetail)
@blp.doc(parameters=[http.IF_MATCH])
def update_event(patch: dict, event_id: int):
    """修改签约活动

    JSON merge patch：只改给出的字段，county_code 为 null 时清空。须带 If-Match；版本过期时 412，响应体 current 为最新内容。"""
    def change(event, version):
        fields = {field: getattr(event, field) for field in FIELDS}
        fields.update(patch)
        _save(event, fields, version=version)

    return http.versioned_change(lambda: _fresh(event_id), change, dump_detail)


def _fresh(event_id: int):
    db.session.expire_all()
    return queries.event_or_404(event_id)


def _save(event, fields: dict, *, version: int | None = None):
    saved = services.save_signing_event(event, **fields, by=current_user, version=version)
    # The form offers the current counties only, the service checks only that the county exists (a former county's
    # row stays); checked after the service's own checks so a refused role is told 403 first, and rolled back.
    if fields.get("county_code") and fields["county_code"] not in {c.code for c in current_counties()}:
        raise InvalidInput(errors={"county_code": "请选择有效的县区。"})
    return saved
