"""Projects forms room: the project form, stage moves, conversion, approval items and milestones."""
from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from core.forms import Form, MoneyField, OptionalSelectField

from .models import ApprovalStatus, BlockerCategory, FollowUpKind, InvestorOrigin, InvestorType, LeadSource
from .stages import SignType

MAX_MONEY = 9_999_999_999  # 万元; far above any real project, below the column's limit


def _at_most(limit: int, what: str) -> Length:
    # WTForms has no Chinese text for a max-only Length ("Field must be at most ..."): say it here.
    return Length(max=limit, message=f"{what}不能超过 {limit} 个字符。")


_money_range = NumberRange(min=0, max=MAX_MONEY, message="金额须为 0 到 9,999,999,999 万元之间的数字（不能为负数）。")


class VersionedForm(Form):
    """Every edit form carries the version of the project it was loaded from."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("缺少版本号，请刷新页面后重试。")])


class ProjectForm(VersionedForm):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称。"), _at_most(200, "项目名称")])
    investor_name = StringField("投资方（企业名称）", validators=[DataRequired("请填写投资方。"), _at_most(200, "投资方名称")])
    investor_credit_code = StringField("统一社会信用代码", validators=[Optional(), Length(min=18, max=18, message="统一社会信用代码应为 18 位。")])
    investor_origin = OptionalSelectField("投资方来源", coerce=InvestorOrigin, choices=[])
    investor_type = OptionalSelectField("投资方类型", coerce=InvestorType, choices=[])
    county_code = SelectField("所属县区", choices=[], validators=[DataRequired("请选择县区。")])
    park_id = OptionalSelectField("所属园区", coerce=int, choices=[])
    industry_id = OptionalSelectField("产业", coerce=int, choices=[])
    chain_node_id = OptionalSelectField("产业链环节", coerce=int, choices=[])
    total_investment = MoneyField("总投资（万元）", places=2, validators=[InputRequired("请填写总投资。"), _money_range])
    fixed_asset_investment = MoneyField("其中固定资产投资（万元）", places=2, validators=[Optional(), _money_range])
    land_area = MoneyField("用地（亩）", places=2, validators=[Optional(), NumberRange(min=0, max=10_000_000, message="用地面积须为 0 到 1000 万亩之间的数字。")])
    sign_type = OptionalSelectField("签约类型", coerce=SignType, choices=[])
    sign_date = DateField("签约日期", validators=[Optional()])
    project_code = StringField("项目代码（前期阶段起必填）", validators=[Optional(), _at_most(24, "项目代码")])
    is_major = BooleanField("重大项目")
    hooked_leader_id = OptionalSelectField("挂钩领导", coerce=int, choices=[])
    responsible_unit = StringField("责任单位", validators=[_at_most(200, "责任单位")])
    liaison = StringField("联络员", validators=[_at_most(100, "联络员")])
    planned_start = DateField("计划开工日期", validators=[Optional()])
    actual_start = DateField("实际开工日期", validators=[Optional()])
    planned_completion = DateField("计划竣工日期", validators=[Optional()])
    actual_completion = DateField("实际竣工日期", validators=[Optional()])
    planned_production = DateField("计划投产日期", validators=[Optional()])
    actual_production = DateField("实际投产日期", validators=[Optional()])
    investment_baseline = MoneyField("月报启用前的累计完成投资（万元）", places=2, validators=[Optional(), _money_range])
    signing_event_id = OptionalSelectField("签约活动（首次签约的活动）", coerce=int, choices=[])
    is_capital_increase = BooleanField("增资项目（总投资只填增资部分）")
    notes = TextAreaField("备注", validators=[_at_most(4000, "备注")])
    submit = SubmitField("保存")

    def set_choices(self, *, counties, parks, industries, leaders, events) -> None:
        self.investor_origin.set_choices(InvestorOrigin.choices())
        self.investor_type.set_choices(InvestorType.choices())
        self.sign_type.set_choices(SignType.choices())
        self.county_code.choices = [(c.code, c.name) for c in counties]
        self.park_id.set_choices((p.id, f"{p.county.name} · {p.name}") for p in parks)
        self.industry_id.set_choices((i.id, i.name) for i in industries)
        self.chain_node_id.set_choices(
            (node.id, f"{industry.name} · {chain.name} · {node.name}")
            for industry in industries for chain in industry.chains for node in chain.nodes)
        self.hooked_leader_id.set_choices((u.id, u.name_for_display) for u in leaders)
        self.signing_event_id.set_choices((e.id, f"{e.date:%Y-%m-%d} {e.name}") for e in events)

    def project_data(self) -> dict:
        """The submitted values of the project's own fields (never version, stage or anything extra)."""
        return {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "version", "submit")}


class StageForm(VersionedForm):
    to_stage = SelectField("变更为", choices=[])
    reason = TextAreaField("原因（退回、暂缓、终止时必填）", validators=[_at_most(1000, "原因")])
    resume_date = DateField("预计恢复日期（暂缓时必填）", validators=[Optional()])
    submit = SubmitField("变更阶段")


class ConvertForm(VersionedForm):
    contract_date = DateField("合同签订日期", validators=[InputRequired("请填写合同签订日期。")])
    submit = SubmitField("协议转合同")


class ApprovalForm(VersionedForm):
    status = SelectField("状态", choices=[])
    planned_date = DateField("计划日期", validators=[Optional()])
    done_date = DateField("办结日期", validators=[Optional()])
    document_no = StringField("文号", validators=[_at_most(100, "文号")])
    submit = SubmitField("保存")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Assigned, not declared: WTForms 3.3 deprecates (value, label) tuples given to the field.
        self.status.choices = ApprovalStatus.choices()


class MilestoneForm(VersionedForm):
    name = StringField("节点名称", validators=[DataRequired("请填写节点名称。"), _at_most(100, "节点名称")])
    planned_date = DateField("计划日期", validators=[InputRequired("请填写计划日期。")])
    note = StringField("说明", validators=[_at_most(500, "说明")])
    submit = SubmitField("添加节点")


class MilestoneUpdateForm(VersionedForm):
    planned_date = DateField("计划日期", validators=[InputRequired("请填写计划日期。")])
    actual_date = DateField("实际完成日期", validators=[Optional()])
    submit = SubmitField("保存")


class ApprovalTypeForm(Form):
    name = StringField("新的前期手续名称", validators=[DataRequired("请填写名称。"), _at_most(64, "手续名称")])
    submit = SubmitField("添加")


class ListFilterForm(Form):
    """The list's filters, read from the query string (GET: no CSRF)."""

    class Meta:
        csrf = False

    county = OptionalSelectField("县区", choices=[], blank="全部县区")
    park = OptionalSelectField("园区", coerce=int, choices=[], blank="全部园区")
    industry = OptionalSelectField("产业", coerce=int, choices=[], blank="全部产业")
    stage = OptionalSelectField("阶段", choices=[], blank="全部阶段")
    sign_type = OptionalSelectField("签约类型", choices=[], blank="全部")
    year = OptionalSelectField("签约年份", coerce=int, choices=[], blank="全部年份")
    major = BooleanField("只看重大项目")
    light = OptionalSelectField("亮灯", choices=[], blank="全部")
    q = StringField("搜索项目名称或投资方", validators=[_at_most(100, "搜索词")])
    sort = SelectField("排序", choices=[])
    page = HiddenField()


class LeadForm(VersionedForm):
    investor_name = StringField("投资方（企业名称）", validators=[DataRequired("请填写投资方。"), _at_most(200, "投资方名称")])
    investor_credit_code = StringField("统一社会信用代码", validators=[Optional(), Length(min=18, max=18, message="统一社会信用代码应为 18 位。")])
    contact_person = StringField("联系人", validators=[_at_most(50, "联系人")])
    contact_phone = StringField("联系电话", validators=[_at_most(30, "联系电话")])
    investor_origin = OptionalSelectField("投资方来源", choices=[])
    industry_id = OptionalSelectField("意向产业", coerce=int, choices=[])
    chain_node_id = OptionalSelectField("产业链环节", coerce=int, choices=[])
    county_code = OptionalSelectField("意向县区", choices=[])
    park_id = OptionalSelectField("意向园区", coerce=int, choices=[])
    estimated_investment = MoneyField("预计投资（万元）", places=2, validators=[Optional(), _money_range])
    source = SelectField("线索来源", choices=[], validators=[DataRequired("请选择线索来源。")])
    referrer = StringField("引荐人", validators=[_at_most(100, "引荐人")])
    owner_id = OptionalSelectField("负责人（默认为登记人）", coerce=int, choices=[])
    notes = TextAreaField("备注", validators=[_at_most(4000, "备注")])
    duplicate_reason = TextAreaField("仍要保存的理由（与已有线索或项目重复时必填）", validators=[_at_most(500, "理由")])
    submit = SubmitField("保存")

    def set_choices(self, *, counties, parks, industries, owners) -> None:
        self.investor_origin.set_choices(InvestorOrigin.choices())
        self.source.choices = [("", "（请选择）")] + LeadSource.choices()
        self.county_code.set_choices((c.code, c.name) for c in counties)
        self.park_id.set_choices((p.id, f"{p.county.name} · {p.name}") for p in parks)
        self.industry_id.set_choices((i.id, i.name) for i in industries)
        self.chain_node_id.set_choices(
            (node.id, f"{industry.name} · {chain.name} · {node.name}")
            for industry in industries for chain in industry.chains for node in chain.nodes)
        self.owner_id.set_choices((u.id, f"{u.name_for_display}（{u.role.label}）") for u in owners)

    def lead_data(self) -> dict:
        return {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "version", "submit", "duplicate_reason")}


class FollowUpForm(Form):
    date = DateField("跟进日期", validators=[InputRequired("请填写跟进日期。")])
    kind = SelectField("方式", choices=[])
    summary = TextAreaField("跟进情况", validators=[DataRequired("请填写跟进情况。"), _at_most(2000, "跟进情况")])
    next_step = StringField("下一步", validators=[_at_most(500, "下一步")])
    next_due = DateField("下一步期限", validators=[Optional()])
    submit = SubmitField("记录跟进")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = FollowUpKind.choices()


class LeadStatusForm(VersionedForm):
    status = SelectField("变更为", choices=[])
    reason = TextAreaField("原因（放弃时必填）", validators=[_at_most(1000, "原因")])
    submit = SubmitField("变更状态")


class LeadConvertForm(VersionedForm):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称。"), _at_most(200, "项目名称")])
    county_code = SelectField("所属县区", choices=[], validators=[DataRequired("请选择县区。")])
    total_investment = MoneyField("总投资（万元）", places=2, validators=[InputRequired("请填写总投资。"), _money_range])
    sign_type = SelectField("签约类型", choices=[])
    sign_date = DateField("签约日期", validators=[InputRequired("请填写签约日期。")])
    signing_event_id = OptionalSelectField("签约活动", coerce=int, choices=[])
    submit = SubmitField("转为签约项目")

    def set_choices(self, *, counties, events) -> None:
        self.county_code.choices = [(c.code, c.name) for c in counties]
        self.sign_type.choices = SignType.choices()
        self.signing_event_id.set_choices((e.id, f"{e.date:%Y-%m-%d} {e.name}") for e in events)


class SigningEventForm(Form):
    name = StringField("活动名称", validators=[DataRequired("请填写活动名称。"), _at_most(100, "活动名称")])
    date = DateField("日期", validators=[InputRequired("请填写日期。")])
    place = StringField("地点", validators=[_at_most(100, "地点")])
    organiser = StringField("主办单位", validators=[_at_most(100, "主办单位")])
    county_code = OptionalSelectField("县区自办活动（可选）", choices=[])
    notes = TextAreaField("备注", validators=[_at_most(2000, "备注")])
    submit = SubmitField("保存")


class ReportRowForm(Form):
    """One project's line on the monthly report page (prefixed with the project id)."""

    class Meta:
        csrf = False  # the page's own form carries the token

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("缺少版本号，请刷新页面后重试。")])
    investment = MoneyField("本月完成投资（万元）", places=2, validators=[Optional(), _money_range])
    funds_arrived = MoneyField("本月到位资金（万元）", places=2, validators=[Optional(), _money_range])
    note = StringField("进展说明", validators=[_at_most(1000, "进展说明")])
    no_change = BooleanField("本月无变化")
    confirm_funds = BooleanField("确认到位资金超过总投资")


class ReportPageForm(Form):
    """The CSRF token and submit button of the monthly report page."""

    submit = SubmitField("提交本月进展")


class BlockerForm(VersionedForm):
    category = SelectField("类别", choices=[])
    description = TextAreaField("问题描述", validators=[DataRequired("请描述存在的问题。"), _at_most(2000, "问题描述")])
    department = StringField("责任部门（须协调解决的部门）", validators=[_at_most(100, "责任部门")])
    due_date = DateField("期限", validators=[Optional()])
    escalated = BooleanField("提请挂钩领导协调")
    submit = SubmitField("登记问题")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = BlockerCategory.choices()


class BlockerCloseForm(VersionedForm):
    closing_note = TextAreaField("解决情况", validators=[DataRequired("请说明解决情况。"), _at_most(2000, "解决情况")])
    submit = SubmitField("关闭问题")


class BlockerEscalateForm(VersionedForm):
    submit = SubmitField("提请挂钩领导协调")
