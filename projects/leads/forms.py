"""The leads' forms: a lead, a follow-up, a status move and signing a lead into a project."""
from __future__ import annotations

from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import AreaField, DateField, Form, MoneyField, OptionalSelectField, at_most
from core.guide.glossary import hint
from core.inputs import id_value
from projects.forms import VersionedForm
from projects.models import InvestorOrigin
from projects.stages import SignType

from .models import FollowUpKind, LeadSource


class LeadForm(VersionedForm):
    investor_name = StringField("投资方（企业名称）", validators=[DataRequired("请填写投资方。"), at_most(200, "投资方名称")])
    investor_credit_code = StringField("统一社会信用代码", validators=[Optional(), Length(min=18, max=18, message="统一社会信用代码应为 18 位。")], description=hint("credit_code"))
    contact_person = StringField("联系人", validators=[at_most(50, "联系人")])
    contact_phone = StringField("联系电话", validators=[at_most(30, "联系电话")])
    investor_origin = OptionalSelectField("投资方来源", choices=[])
    industry_id = OptionalSelectField("意向产业", coerce=id_value, choices=[])
    chain_node_id = OptionalSelectField("产业链环节", coerce=id_value, choices=[])
    county_code = OptionalSelectField("意向县区", choices=[])
    park_id = OptionalSelectField("意向园区", coerce=id_value, choices=[])
    estimated_investment = MoneyField("预计投资（万元）", places=2, validators=[Optional()])
    land_needed = AreaField("用地需求（亩）", validators=[Optional()], unit="亩")
    factory_space_needed = AreaField("标准厂房需求（m²）", validators=[Optional()], unit="m²")
    source = SelectField("线索来源", choices=[], validators=[DataRequired("请选择线索来源。")])
    referrer = StringField("引荐人", validators=[at_most(100, "引荐人")])
    owner_id = OptionalSelectField("负责人（默认为登记人）", coerce=id_value, choices=[])
    notes = TextAreaField("备注", validators=[at_most(4000, "备注")])
    duplicate_reason = TextAreaField("仍要保存的理由（与已有线索或项目重复时必填）", validators=[at_most(500, "理由")])
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
    summary = TextAreaField("跟进情况", validators=[DataRequired("请填写跟进情况。"), at_most(2000, "跟进情况")])
    next_step = StringField("下一步", validators=[at_most(500, "下一步")])
    next_due = DateField("下一步期限", validators=[Optional()])
    submit = SubmitField("记录跟进")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = FollowUpKind.choices()


class LeadStatusForm(VersionedForm):
    status = SelectField("变更为", choices=[])
    reason = TextAreaField("原因（放弃时必填）", validators=[at_most(1000, "原因")])
    submit = SubmitField("变更状态")


class LeadConvertForm(VersionedForm):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称。"), at_most(200, "项目名称")])
    county_code = SelectField("所属县区", choices=[], validators=[DataRequired("请选择县区。")])
    total_investment = MoneyField("总投资（万元）", places=2, validators=[InputRequired("请填写总投资。")], description=hint("total_investment"))
    sign_type = SelectField("签约类型", choices=[], description=hint("sign_type"))
    sign_date = DateField("签约日期", validators=[InputRequired("请填写签约日期。")])
    signing_event_id = OptionalSelectField("签约活动", coerce=id_value, choices=[], description=hint("signing_event"))
    submit = SubmitField("转为签约项目")

    def set_choices(self, *, counties, events) -> None:
        self.county_code.choices = [(c.code, c.name) for c in counties]
        self.sign_type.choices = SignType.choices()
        self.signing_event_id.set_choices(events)
