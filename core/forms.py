"""The base form (Chinese validation messages, the input rules on every field) and the fields every domain shares."""
from __future__ import annotations

import copy
import functools
import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import DateField as _DateField
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import Length
from wtforms.widgets.core import clean_key

from . import inputs

_MONEY_NOISE = re.compile(r"[,，\s]|万元$|万$")
_AREA_NOISE = re.compile(r"[,，\s]|亩$|m²$|m2$|平方米$")


def at_most(limit: int, what: str) -> Length:
    # WTForms has no Chinese text for a max-only Length ("Field must be at most ..."): say it here.
    return Length(max=limit, message=f"{what}不能超过 {limit} 个字符。")


def _text_filter(label: str, multiline: bool):
    def clean(value):
        return inputs.clean_text(value, label, multiline=multiline) if isinstance(value, str) else value
    return clean


@functools.cache
def field_names(form_class: type) -> frozenset[str]:
    """The names of a form class's fields (those a subclass set to None are not fields): the query-string
    parameters a filter form reads, so a cache key made of them holds everything the filters depend on."""
    return frozenset(name for name in dir(form_class) if isinstance(getattr(form_class, name), UnboundField))


class Select(widgets.Select):
    """WTForms' select, with the plain option (no extra attributes, the usual case) written in one step: WTForms
    sorts and escapes a dict of attributes per option, and the project list's pickers hold about sixty options."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if choice.render_kw or kwargs:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = " selected" if choice.selected else ""
        return f'<option{selected} value="{escape(value)}">{escape(choice.label or choice.value)}</option>'


_SELECT, _MULTIPLE = Select(), Select(multiple=True)


def html_params(**kwargs) -> str:
    """WTForms' html_params, the same attributes in the same order, with one f-string per attribute where WTForms
    formats a Markup template: an input costs a third as much, and the project page draws about sixty."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = clean_key(key)
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{escape(value)}"')
    return " ".join(params)


_FAST_INPUTS: dict = {}


def _fast_input(widget):
    # Widgets are shared by every field made from one class attribute: one faster copy each, made once.
    fast = _FAST_INPUTS.get(widget)
    if fast is None:
        fast = _FAST_INPUTS[widget] = copy.copy(widget)
        fast.html_params = html_params
    return fast


class Form(FlaskForm):
    class Meta:
        # WTForms ships Chinese messages ("不是有效的小数。"); Flask-WTF's own i18n would need Babel.
        locales = ("zh",)

        def bind_field(self, form, unbound_field, options):
            # Every text field of every form gets the text rules (NFC, no control characters) as its
            # first filter: a filter's ValueError becomes the field's error, so nothing reaches a service.
            # Passwords are left as typed: they are hashed, never shown or exported. Hidden fields carry
            # no typed text; their one reader checks them (a bad ?next= goes home, a bad page is page 1).
            # Set on the bound field, never on the class's shared UnboundField (one more filter per form made).
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField) and not isinstance(field, (PasswordField, HiddenField)):
                label = str(field.label.text or field.name or "输入")
                field.filters = (_text_filter(label, isinstance(field, TextAreaField)), *field.filters)
            if type(field.widget) is widgets.Select:
                field.widget = _MULTIPLE if field.widget.multiple else _SELECT
            elif isinstance(field.widget, widgets.Input) and field.widget.html_params is not html_params:
                field.widget = _fast_input(field.widget)
            return field


class _Quantity(DecimalField):
    """A number as typed from ledgers ("1,234.5", "1234.5万元"): ``noise`` (separators, the unit) is dropped, then
    ``check`` applies the quantity's one rule (finite, its range, two places)."""

    noise: re.Pattern
    unit: str

    def __init__(self, label=None, validators=None, places=2, **kwargs):
        super().__init__(label, validators, places=places, **kwargs)

    def check(self, value: Decimal) -> Decimal:
        raise NotImplementedError

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        text = self.noise.sub("", valuelist[0] or "")
        if text == "":
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"请输入数字（单位：{self.unit}）。") from None
        self.data = self.check(value)


class MoneyField(_Quantity):
    """An amount in 万元 (the one money rule: finite, 0 to 10^8, two places)."""

    noise, unit = _MONEY_NOISE, "万元"

    def check(self, value: Decimal) -> Decimal:
        return inputs.check_money(value, self.label.text)


class AreaField(_Quantity):
    """An area in 亩 or m² (the one area rule: finite, 0 to inputs.AREA_LIMITS, two places)."""

    noise = _AREA_NOISE

    def __init__(self, label=None, validators=None, *, unit: str = "亩", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.unit = unit

    def check(self, value: Decimal) -> Decimal:
        return inputs.check_area(value, self.label.text, self.unit)


class DateField(_DateField):
    """A date within the one stated range (1990-01-01 to 2100-12-31), whatever the field."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not inputs.date_in_range(self.data):
            self.data = None
            raise ValueError(inputs.DATE_RANGE_MESSAGE)


class IdField(IntegerField):
    """A row id or version number: out of the database's integer range reads as not a number at all."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not 0 <= self.data <= inputs.MAX_ID:
            self.data = None
            raise ValueError("编号无效，请刷新页面后重试。")


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
