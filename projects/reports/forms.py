"""The monthly reports' and blockers' forms: one report row per project, the page around them, a blocker."""
from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional
from wtforms.widgets import HiddenInput

from core.forms import DateField, Form, IdField, MoneyField, at_most
from core.guide.glossary import hint
from projects.forms import VersionedForm

from .models import BlockerCategory


class ReportRowForm(Form):
    """One project's line on the monthly report page (prefixed with the project id)."""

    class Meta:
        csrf = False  # the page's own form carries the token

    version = IdField(widget=HiddenInput(), validators=[InputRequired("缺少版本号，请刷新页面后重试。")])
    investment = MoneyField("本月完成投资（万元）", places=2, validators=[Optional()], description=hint("investment_completed"))
    funds_arrived = MoneyField("本月到位资金（万元）", places=2, validators=[Optional()], description=hint("funds_arrived"))
    note = StringField("进展说明", validators=[at_most(1000, "进展说明")])
    no_change = BooleanField("本月无变化")
    confirm_funds = BooleanField("确认到位资金超过总投资")


class ReportPageForm(Form):
    """The CSRF token and submit button of the monthly report page."""

    submit = SubmitField("提交本月进展")


class BlockerForm(VersionedForm):
    category = SelectField("类别", choices=[])
    description = TextAreaField("问题描述", validators=[DataRequired("请描述存在的问题。"), at_most(2000, "问题描述")])
    department = StringField("责任部门（须协调解决的部门）", validators=[at_most(100, "责任部门")])
    due_date = DateField("期限", validators=[Optional()])
    escalated = BooleanField("提请挂钩领导协调", description=hint("hooked_leader"))
    submit = SubmitField("登记问题")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = BlockerCategory.choices()


class BlockerCloseForm(VersionedForm):
    closing_note = TextAreaField("解决情况", validators=[DataRequired("请说明解决情况。"), at_most(2000, "解决情况")])
    submit = SubmitField("关闭问题")


class BlockerEscalateForm(VersionedForm):
    submit = SubmitField("提请挂钩领导协调")
