"""The project's forms: the project itself, stage moves, conversion, approval items, milestones, the list filters."""
from __future__ import annotations

from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from core.forms import AreaField, DateField, Form, IdField, MoneyField, OptionalSelectField, at_most
from core.guide.glossary import hint
from core.inputs import id_value

from .models import ApprovalStatus, InvestorOrigin, InvestorType
from .stages import Light, SignType, Stage


class VersionedForm(Form):
    """Every edit form carries the version of the project it was loaded from."""

    version = IdField(widget=HiddenInput(), validators=[InputRequired("缺少版本号，请刷新页面后重试。")])


class ProjectForm(VersionedForm):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称。"), at_most(200, "项目名称")])
    investor_name = StringField("投资方（企业名称）", validators=[DataRequired("请填写投资方。"), at_most(200, "投资方名称")])
    investor_credit_code = StringField("统一社会信用代码", validators=[Optional(), Length(min=18, max=18, message="统一社会信用代码应为 18 位。")], description=hint("credit_code"))
    investor_origin = OptionalSelectField("投资方来源", coerce=InvestorOrigin, choices=[])
    investor_type = OptionalSelectField("投资方类型", coerce=InvestorType, choices=[])
    county_code = SelectField("所属县区", choices=[], validators=[DataRequired("请选择县区。")])
    park_id = OptionalSelectField("所属园区", coerce=id_value, choices=[])
    industry_id = OptionalSelectField("产业", coerce=id_value, choices=[])
    chain_node_id = OptionalSelectField("产业链环节", coerce=id_value, choices=[])
    total_investment = MoneyField("总投资（万元）", places=2, validators=[InputRequired("请填写总投资。")], description=hint("total_investment"))
    fixed_asset_investment = MoneyField("其中固定资产投资（万元）", places=2, validators=[Optional()], description=hint("fixed_asset_investment"))
    land_area = AreaField("用地（亩）", validators=[Optional()], unit="亩", description=hint("land_area"))
    sign_type = OptionalSelectField("签约类型", coerce=SignType, choices=[], description=hint("sign_type"))
    sign_date = DateField("签约日期", validators=[Optional()])
    project_code = StringField("项目代码（前期阶段起必填）", validators=[Optional(), at_most(24, "项目代码")], description=hint("project_code"))
    is_major = BooleanField("重大项目", description=hint("major"))
    hooked_leader_id = OptionalSelectField("挂钩领导", coerce=id_value, choices=[], description=hint("hooked_leader"))
    responsible_unit = StringField("责任单位", validators=[at_most(200, "责任单位")], description=hint("responsible_unit"))
    liaison = StringField("联络员", validators=[at_most(100, "联络员")], description=hint("liaison"))
    planned_start = DateField("计划开工日期", validators=[Optional()])
    actual_start = DateField("实际开工日期", validators=[Optional()])
    planned_completion = DateField("计划竣工日期", validators=[Optional()])
    actual_completion = DateField("实际竣工日期", validators=[Optional()])
    planned_production = DateField("计划投产日期", validators=[Optional()])
    actual_production = DateField("实际投产日期", validators=[Optional()])
    investment_baseline = MoneyField("月报启用前的累计完成投资（万元）", places=2, validators=[Optional()], description=hint("investment_baseline"))
    signing_event_id = OptionalSelectField("签约活动（首次签约的活动）", coerce=id_value, choices=[], description=hint("signing_event"))
    is_capital_increase = BooleanField("增资项目（总投资只填增资部分）", description=hint("capital_increase"))
    notes = TextAreaField("备注", validators=[at_most(4000, "备注")])
    submit = SubmitField("保存")

    def set_choices(self, *, counties, parks, industries, chain_nodes, leaders, events) -> None:
        """Each picker's (value, label) pairs, as projects.queries.form_choices gives them."""
        self.investor_origin.set_choices(InvestorOrigin.choices())
        self.investor_type.set_choices(InvestorType.choices())
        self.sign_type.set_choices(SignType.choices())
        self.county_code.choices = counties
        self.park_id.set_choices(parks)
        self.industry_id.set_choices(industries)
        self.chain_node_id.set_choices(chain_nodes)
        self.hooked_leader_id.set_choices(leaders)
        self.signing_event_id.set_choices(events)

    def project_data(self) -> dict:
        """The submitted values of the project's own fields (never version, stage or anything extra)."""
        return {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "version", "submit")}


class StageForm(VersionedForm):
    to_stage = SelectField("变更为", choices=[])
    reason = TextAreaField("原因（退回、暂缓、终止时必填）", validators=[at_most(1000, "原因")])
    resume_date = DateField("预计恢复日期（暂缓时必填）", validators=[Optional()])
    submit = SubmitField("变更阶段")


class ConvertForm(VersionedForm):
    contract_date = DateField("合同签订日期", validators=[InputRequired("请填写合同签订日期。")])
    submit = SubmitField("协议转合同")


class ApprovalForm(VersionedForm):
    status = SelectField("状态", choices=[])
    planned_date = DateField("计划日期", validators=[Optional()])
    done_date = DateField("办结日期", validators=[Optional()])
    document_no = StringField("文号", validators=[at_most(100, "文号")])
    submit = SubmitField("保存")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Assigned, not declared: WTForms 3.3 deprecates (value, label) tuples given to the field.
        self.status.choices = ApprovalStatus.choices()


class MilestoneForm(VersionedForm):
    name = StringField("节点名称", validators=[DataRequired("请填写节点名称。"), at_most(100, "节点名称")])
    planned_date = DateField("计划日期", validators=[InputRequired("请填写计划日期。")])
    note = StringField("说明", validators=[at_most(500, "说明")])
    submit = SubmitField("添加节点")


class MilestoneUpdateForm(VersionedForm):
    planned_date = DateField("计划日期", validators=[InputRequired("请填写计划日期。")])
    actual_date = DateField("实际完成日期", validators=[Optional()])
    submit = SubmitField("保存")


class ApprovalTypeForm(Form):
    name = StringField("新的前期手续名称", validators=[DataRequired("请填写名称。"), at_most(64, "手续名称")])
    submit = SubmitField("添加")


class ListFilterForm(Form):
    """The list's filters, read from the query string (GET: no CSRF)."""

    class Meta:
        csrf = False

    county = OptionalSelectField("县区", choices=[], blank="全部县区")
    park = OptionalSelectField("园区", coerce=id_value, choices=[], blank="全部园区")
    industry = OptionalSelectField("产业", coerce=id_value, choices=[], blank="全部产业")
    stage = OptionalSelectField("阶段", choices=[], blank="全部阶段")
    sign_type = OptionalSelectField("签约类型", choices=[], blank="全部")
    year = OptionalSelectField("签约年份", coerce=int, choices=[], blank="全部年份")
    major = BooleanField("只看重大项目")
    gaps = BooleanField("只看资料缺项")
    light = OptionalSelectField("亮灯", choices=[], blank="全部")
    q = StringField("搜索项目名称、投资方或园区", validators=[at_most(100, "搜索词")])
    sort = SelectField("排序", choices=[])
    page = HiddenField()

    def set_choices(self, *, counties, parks, industries, years, sorts) -> None:
        """Each picker's (value, label) pairs, as projects.queries.picker_choices gives them."""
        self.county.set_choices(counties)
        self.park.set_choices(parks)
        self.industry.set_choices(industries)
        self.stage.set_choices(Stage.choices())
        self.sign_type.set_choices(SignType.choices())
        self.year.set_choices(years)
        self.light.set_choices((light.value, light.label) for light in (Light.RED, Light.YELLOW, Light.GREEN))
        self.sort.choices = [("", "默认排序")] + list(sorts.items())
