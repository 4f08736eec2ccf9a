"""The leads in the API: list (the page's filters), read, log (with the duplicate warning), change, follow up, move."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_login import current_user

from core import clock
from core.api import base, http
from core.api.fields import Area, Choice, Date, Flag, Id, Money, Page, Schema, Text, listing
from core.auth.queries import counties_for
from core.db import db
from core.errors import InvalidInput, problem
from core.transaction import transaction
from parks.queries import industries_with_chains, parks_by_county
from projects.models import InvestorOrigin
from projects.stages import SignType, Stage

from . import queries, services
from .models import FollowUpKind, LeadSource, LeadStatus

blp = base.blueprint("leads", __name__, "招商线索",
                     "招商线索：列表、详情、登记（投资方重复时 409 提醒）、修改（JSON merge patch）、跟进记录、状态变更、"
                     "签约转为项目。")
OVERDUE = "；".join(f"{key}＝{label}" for key, label in queries.OVERDUE_LABELS.items())


class LeadFields(Schema):
    """What a caller may write to a lead: the lead form's fields, under the model's names."""

    investor_name = Text("投资方（企业名称）", max_length=200, min_length=1, example="福建某新材料有限公司")
    investor_credit_code = Text("统一社会信用代码（18 位）", max_length=18, allow_none=True,
                                example="91350400MA2XXXXX0X")
    contact_person = Text("联系人", max_length=50, example="张总")
    contact_phone = Text("联系电话", max_length=30, example="13900000000")
    investor_origin = Choice(InvestorOrigin, "投资方来源", allow_none=True)
    industry_id = Id("意向产业编号", allow_none=True)
    chain_node_id = Id("产业链环节编号（须属于意向产业）", allow_none=True)
    county_code = Text("意向县区代码（县区用户登记的线索总在本县区）", max_length=6, allow_none=True, example="350404")
    park_id = Id("意向园区编号（须在意向县区）", allow_none=True)
    estimated_investment = Money("预计投资", allow_none=True, example=30000)
    land_needed = Area("用地需求", "亩", allow_none=True)
    factory_space_needed = Area("标准厂房需求", "m²", allow_none=True)
    source = Choice(LeadSource, "线索来源", example="visit")
    referrer = Text("引荐人", max_length=100, example="三明商会")
    owner_id = Id("负责人（用户编号，默认为登记人）", allow_none=True)
    notes = Text("备注", max_length=4000, multiline=True, example="有意在园区租用标准厂房。")


class NewLead(LeadFields):
    investor_name = Text("投资方（企业名称）", max_length=200, min_length=1, required=True,
                         example="福建某新材料有限公司")
    source = Choice(LeadSource, "线索来源", required=True, example="visit")
    duplicate_reason = Text("仍要登记的理由：投资方与已有线索或项目重复（409）时必填，如“集团的第二个项目”",
                            max_length=500, multiline=True, example="集团的第二个项目")


class FollowUpFields(Schema):
    date = Date("跟进日期（不晚于今天，不早于线索登记日）", required=True, example="2026-03-18")
    kind = Choice(FollowUpKind, "跟进方式", required=True, example="visit")
    summary = Text("跟进情况", max_length=2000, multiline=True, min_length=1, required=True,
                   example="赴企业总部走访，对方关注用地指标。")
    next_step = Text("下一步", max_length=500, example="提供园区用地资料")
    next_due = Date("下一步期限", allow_none=True, example="2026-03-25")


class FollowUpOut(FollowUpFields):
    id = ma.fields.Integer(required=True)
    created_by_id = ma.fields.Integer(allow_none=True, metadata={"description": "记录人（用户编号）"})
    created_at = ma.fields.AwareDateTime(metadata={"description": "记录时间（UTC）"})


class LeadOut(LeadFields):
    """A lead as stored: the model's field names, money in 万元, dates YYYY-MM-DD, times ISO 8601 UTC."""

    id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "版本号（即 ETag），修改时放在 If-Match 中"})
    status = Choice(LeadStatus, "状态", required=True)
    abandon_reason = ma.fields.String(metadata={"description": "放弃原因"})
    duplicate_note = ma.fields.String(metadata={"description": "与已有投资方重复时登记的理由"})
    status_changed_at = ma.fields.AwareDateTime(metadata={"description": "状态变更时间（UTC）"})
    project_id = ma.fields.Integer(allow_none=True, metadata={"description": "签约后转成的项目编号"})
    created_by_id = ma.fields.Integer(allow_none=True, metadata={"description": "登记人（用户编号）"})
    created_at = ma.fields.AwareDateTime(metadata={"description": "登记时间（UTC）"})
    updated_at = ma.fields.AwareDateTime(metadata={"description": "最后修改时间（UTC）"})
    overdue = ma.fields.List(ma.fields.String(metadata={"enum": list(queries.OVERDUE_LABELS)}), required=True,
                             metadata={"description": f"已超时的时限：{OVERDUE}"})


class LeadDetail(LeadOut):
    follow_ups = ma.fields.List(ma.fields.Nested(FollowUpOut), required=True,
                                metadata={"description": "跟进记录，最新的在前"})


LeadList = listing(LeadOut, "LeadList")


class LeadListArgs(Page):
    status = Choice(LeadStatus, "状态")
    overdue = Flag("只看超时的线索")
    mine = Flag("只看我负责的线索")
    q = Text("搜索投资方", max_length=100)


class StatusMove(Schema):
    status = Choice(LeadStatus, "变更为（新线索→研判→在谈；任何未结束的状态都可放弃；签约请用 convert）", required=True,
                    example="assessing")
    reason = Text("原因（放弃时必填）", max_length=1000, multiline=True)


class LeadConversion(Schema):
    name = Text("项目名称", max_length=200, min_length=1, required=True, example="年产5万吨氟化工新材料项目")
    county_code = Text("所属县区代码", max_length=6, min_length=6, required=True, example="350404")
    total_investment = Money("总投资", required=True, example=50000)
    sign_type = Choice(SignType, "签约类型", required=True, example="contract")
    sign_date = Date("签约日期", required=True, example="2026-03-18")
    signing_event_id = Id("签约活动编号", allow_none=True)


class MatchedLead(Schema):
    id = ma.fields.Integer(required=True)
    investor_name = ma.fields.String(required=True)
    status = Choice(LeadStatus, "状态", required=True)
    county_code = ma.fields.String(allow_none=True)


class MatchedProject(Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    investor_name = ma.fields.String(required=True)
    stage = Choice(Stage, "阶段", required=True)


class Matches(Schema):
    leads = ma.fields.List(ma.fields.Nested(MatchedLead), required=True,
                           metadata={"description": "您可以查看的重复线索"})
    projects = ma.fields.List(ma.fields.Nested(MatchedProject), required=True,
                              metadata={"description": "您可以查看的重复项目"})
    elsewhere = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "县区用户：其他县区（或市级）也有该投资方时为“已有其他县区跟进，请联系市商务局”，不透露名称、县区和阶段"})


class DuplicateProblem(base.ProblemSchema):
    duplicates = ma.fields.Nested(Matches, required=True)


def dump(lead, overdue: list[str] | None = None) -> dict:
    data = LeadOut.write(lead)
    data["overdue"] = _overdue(lead) if overdue is None else overdue
    return data


def dump_detail(lead) -> dict:
    return {**dump(lead), "follow_ups": FollowUpOut(many=True).dump(lead.follow_ups)}


def _overdue(lead) -> list[str]:
    row = db.session.execute(queries.flagged_leads(current_user, _clocks(), clock.today(), lead_id=lead.id)).first()
    return queries.overdue_of(row) if row is not None else []


def _clocks():
    return queries.LeadClocks.from_config(current_app.config)


@blp.get("/leads")
@blp.arguments(LeadListArgs, location="query", as_kwargs=True)
@blp.response(200, LeadList)
def list_leads(page: int, per_page: int, status=None, overdue=False, mine=False, q=""):
    """线索列表

    令牌所属用户能看到的线索（县区用户只有本县区的），超时的在前，筛选与“招商线索”页面相同。overdue 列出已超时的时限。"""
    statement = queries.flagged_leads(current_user, _clocks(), clock.today(), status=status, overdue_only=overdue,
                                      owner_id=current_user.id if mine else None, q=q)
    return http.page_of(statement, page, per_page, lambda row: dump(row[0], queries.overdue_of(row)),
                        whole_rows=True)


@blp.get("/leads/<int:lead_id>")
@blp.response(200, LeadDetail)
def get_lead(lead_id: int):
    """线索详情

    含跟进记录。其他县区的线索一律 404。响应头 ETag 为版本号，修改、变更状态、转为项目时放入 If-Match。"""
    lead = queries.get_lead_or_404(lead_id, current_user)
    return http.with_etag(dump_detail(lead), lead.version)


@blp.post("/leads")
@blp.arguments(NewLead)
@blp.response(201, LeadDetail)
@blp.alt_response(409, schema=DuplicateProblem, content_type=base.PROBLEM, description=(
    "投资方与已有线索或项目重复（相同统一社会信用代码，或规范化后名称相同），未登记。duplicates 列出您可以查看的匹配；"
    "县区用户对其他县区的匹配只看到“已有其他县区跟进，请联系市商务局”。确属新线索时在 duplicate_reason 中写明理由后重新提交。"))
def create_lead(data: dict):
    """登记线索

    与“登记招商线索”页面同样的校验；县区用户登记的线索总在本县区，负责人默认为登记人。投资方与已有线索或项目重复时不登记，
    返回 409：duplicates 列出您可以查看的匹配（县区用户对其他县区的匹配只得到“已有其他县区跟进，请联系市商务局”，
    不透露名称、县区、状态或编号）。确属新线索时，在 duplicate_reason 中写明理由后重新提交，理由随线索保存。"""
    reason = data.pop("duplicate_reason", "")
    try:
        with transaction():
            lead_id = services.create_lead(data, by=current_user, duplicate_reason=reason).id
            _check_offered(data)  # after the service's role check (a leader is told 403), rolled back with it
    except services.DuplicateInvestor as duplicate:
        return _duplicate_problem(duplicate)
    lead = queries.get_lead_or_404(lead_id, current_user)
    return http.created(dump_detail(lead), lead.version, f"{base.PREFIX}/leads/{lead.id}")


@blp.patch("/leads/<int:lead_id>")
@blp.arguments(LeadFields(partial=True), content_type="application/merge-patch+json")
@blp.response(200, LeadDetail)
@blp.doc(parameters=[http.IF_MATCH])
def update_lead(patch: dict, lead_id: int):
    """修改线索

    JSON merge patch：只改给出的字段，null 清空该字段。已签约或已放弃的线索不能修改。须带 If-Match；版本过期时 412，
    响应体 current 为最新内容。"""
    def change(lead, version):
        data = {field: getattr(lead, field) for field in services.LEAD_FIELD_LABELS}
        data.update(patch)
        _check_offered(patch, lead)
        services.update_lead(lead, data, version=version, by=current_user)

    return http.versioned_change(lambda: _editable(lead_id), change, dump_detail)


@blp.post("/leads/<int:lead_id>/follow-ups")
@blp.arguments(FollowUpFields)
@blp.response(201, LeadDetail)
def add_follow_up(data: dict, lead_id: int):
    """记录跟进

    与线索页面相同：跟进日期不晚于今天、不早于登记日。只新增记录、不覆盖内容，所以不需要 If-Match；
    线索的版本号随之增加，响应为线索（含新的 ETag 和跟进记录）。"""
    lead = _editable(lead_id)
    with transaction():
        services.add_follow_up(lead, date=data["date"], kind=data["kind"], summary=data["summary"],
                               next_step=data.get("next_step", ""), next_due=data.get("next_due"), by=current_user)
    lead = _editable(lead_id)
    return http.with_etag(dump_detail(lead), lead.version, 201)


@blp.post("/leads/<int:lead_id>/status")
@blp.arguments(StatusMove)
@blp.response(200, LeadDetail)
@blp.doc(parameters=[http.IF_MATCH])
def change_status(move: dict, lead_id: int):
    """变更线索状态

    新线索→研判→在谈，任何未结束的状态都可放弃（须填原因）；签约请用“转为项目”。须带 If-Match。"""
    return http.versioned_change(
        lambda: _editable(lead_id),
        lambda lead, version: services.change_lead_status(lead, move["status"], reason=move.get("reason", ""),
                                                          version=version, by=current_user),
        dump_detail)


@blp.post("/leads/<int:lead_id>/convert")
@blp.arguments(LeadConversion)
@blp.response(200, LeadDetail)
@blp.doc(parameters=[http.IF_MATCH])
def convert(data: dict, lead_id: int):
    """线索转为项目

    签约：登记项目（签约阶段），带入线索的投资方、县区、园区、产业等，并把两者关联（只能一次）。须带 If-Match。
    响应为线索，其 project_id 为新项目的编号。"""
    def change(lead, version):
        if data["county_code"] not in {county.code for county in counties_for(current_user)}:
            raise InvalidInput(errors={"county_code": "请选择有效的县区。"})
        services.convert_lead(lead, data, version=version, by=current_user)

    return http.versioned_change(lambda: _editable(lead_id), change, dump_detail)


def _editable(lead_id: int):
    db.session.expire_all()
    return queries.get_lead_or_404(lead_id, current_user, for_edit=True)


def _check_offered(data: dict, lead=None) -> None:
    """The choices the lead form offers and the service does not check: a county among the user's, a park and a
    chain node in use (or the lead's own), an owner the user may assign (a county official: their county's)."""
    errors = {}
    if data.get("county_code") and data["county_code"] not in {c.code for c in counties_for(current_user)}:
        errors["county_code"] = "请选择有效的县区。"
    if data.get("park_id") and data["park_id"] not in {
            park.id for park in parks_by_county(keep=getattr(lead, "park_id", None))}:
        errors["park_id"] = "园区不存在或已停用。"
    if data.get("chain_node_id") and data["chain_node_id"] not in {
            node.id for industry in industries_with_chains(keep_node=getattr(lead, "chain_node_id", None))
            for chain in industry.chains for node in chain.nodes}:
        errors["chain_node_id"] = "产业链环节不存在或已停用。"
    if data.get("owner_id") and data["owner_id"] not in {user.id for user in queries.owner_choices(current_user, lead)}:
        errors["owner_id"] = "负责人须为在用的商务局、县区或管理员账号（县区用户只能选本县区的）。"
    if errors:
        raise InvalidInput(errors=errors)


def _duplicate_problem(duplicate: services.DuplicateInvestor):
    """The page's duplicate warning as a 409: the matches the caller may see, and of the rest only that they exist."""
    matches = {"leads": MatchedLead(many=True).dump(duplicate.leads),
               "projects": MatchedProject(many=True).dump(duplicate.projects),
               "elsewhere": "已有其他县区跟进，请联系市商务局" if duplicate.elsewhere else None}
    return problem(409, "投资方与已有线索或项目重复，未登记。确属新线索（如集团的第二个项目）时，请在 duplicate_reason 中"
                   "填写理由后重新提交。", duplicate.errors, title="投资方可能重复", duplicates=matches)
