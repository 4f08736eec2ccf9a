"""The base form (Chinese validation messages) and the fields and checks every domain's forms share."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField
from wtforms.validators import Length, NumberRange

_ROUNDABLE_BELOW = Decimal("1e15")
_MONEY_NOISE = re.compile(r"[,，\s]|万元$|万$")


MAX_MONEY = 9_999_999_999  # 万元; far above any real project, below the column's limit
money_range = NumberRange(min=0, max=MAX_MONEY, message="金额须为 0 到 9,999,999,999 万元之间的数字（不能为负数）。")


def at_most(limit: int, what: str) -> Length:
    # WTForms has no Chinese text for a max-only Length ("Field must be at most ..."): say it here.
    return Length(max=limit, message=f"{what}不能超过 {limit} 个字符。")


class Form(FlaskForm):
    class Meta:
        # WTForms ships Chinese messages ("不是有效的小数。"); Flask-WTF's own i18n would need Babel.
        locales = ("zh",)


class MoneyField(DecimalField):
    """An amount in 万元 that also accepts "1,234.5" or "1234.5万元" as typed from ledgers."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = _MONEY_NOISE.sub("", valuelist[0] or "")
        if text == "":
            self.data = None
            return
        try:
            self.data = Decimal(text)
        except InvalidOperation:
            self.data = None
            raise ValueError("请输入数字（单位：万元）。") from None
        if not self.data.is_finite():
            self.data = None
            raise ValueError("请输入数字（单位：万元）。")
        # Round to the stored places now: PostgreSQL refuses a numeric such as 1e-999999 outright
        # (a 500). Far too large amounts are left as typed for the field's range check to refuse.
        if self.places is not None and abs(self.data) < _ROUNDABLE_BELOW:
            self.data = self.data.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)


class OptionalSelectField(SelectField):
    """A select whose first choice is blank and whose value is None when left blank."""

    def __init__(self, label=None, validators=None, coerce=str, blank="（未选择）", **kwargs):
        self._inner_coerce = coerce
        super().__init__(label, validators, coerce=self._coerce_or_none, **kwargs)
        self.blank = blank

    def _coerce_or_none(self, value):
        if value in (None, "", "None"):
            return None
        return self._inner_coerce(value)

    def set_choices(self, choices) -> None:
        self.choices = [("", self.blank)] + list(choices)

    def pre_validate(self, form):
        if self.data is None:
            return
        super().pre_validate(form)
