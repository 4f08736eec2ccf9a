"""The login form, the administrators' user forms and the API token forms."""
from __future__ import annotations

from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from core.forms import Form, IdField, at_most

from .models import Role


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=256)])
    next = HiddenField()
    submit = SubmitField("登录")


class UserCreateForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    display_name = StringField("姓名", validators=[Length(max=64, message="姓名不能超过 64 个字符。")])
    role = SelectField("角色", choices=[])
    county = SelectField("所属县区（县区用户必填）", choices=[])
    password = PasswordField("初始密码", validators=[DataRequired("请输入初始密码。"), Length(max=256)])
    confirm = PasswordField("确认密码", validators=[EqualTo("password", "两次输入的密码不一致。")])
    submit = SubmitField("创建用户")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Assigned, not declared: WTForms 3.3 deprecates (value, label) tuples given to the field.
        self.role.choices = Role.choices()

    def set_counties(self, counties) -> None:
        self.county.choices = [("", "（无）")] + [(c.code, f"{c.name}（{c.code}）") for c in counties]


class ConfirmForm(Form):
    """A button that posts only its CSRF token."""

    submit = SubmitField("确定")


class TokenCreateForm(Form):
    """A new API token; core.auth.tokens checks the name's and the life's limits (the CLI's too)."""

    name = StringField("令牌名称", validators=[DataRequired("请输入令牌名称。"), at_most(64, "令牌名称")],
                       description="说明用途，如“数据共享平台”“BI 报表”。")
    read_only = BooleanField("只读（只能查询，不能修改数据）")
    days = IntegerField("有效期（天）", validators=[InputRequired("请输入有效期天数。")])
    submit = SubmitField("创建令牌")


class TokenRevokeForm(Form):
    """A revoke button: the token's id and the CSRF token."""

    token_id = IdField(validators=[InputRequired()])
    submit = SubmitField("撤销")
