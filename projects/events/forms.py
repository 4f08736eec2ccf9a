"""The signing events' form."""
from __future__ import annotations

from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional
from wtforms.widgets import HiddenInput

from core.forms import DateField, Form, IdField, OptionalSelectField, at_most


class SigningEventForm(Form):
    version = IdField(widget=HiddenInput(), validators=[Optional()])  # the version edited (none for a new event)
    name = StringField("活动名称", validators=[DataRequired("请填写活动名称。"), at_most(100, "活动名称")])
    date = DateField("日期", validators=[InputRequired("请填写日期。")])
    place = StringField("地点", validators=[at_most(100, "地点")])
    organiser = StringField("主办单位", validators=[at_most(100, "主办单位")])
    county_code = OptionalSelectField("县区自办活动（可选）", choices=[])
    notes = TextAreaField("备注", validators=[at_most(2000, "备注")])
    submit = SubmitField("保存")
