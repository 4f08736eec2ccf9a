"""The shared page pieces written in Python: the same HTML as WTForms' select, Bootstrap-Flask's render_field and
the macros they replaced."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from flask import render_template_string
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Optional

from core.forms import DateField, Form, MoneyField, OptionalSelectField, html_params
from core.templating import badge, date, form_field, money

LABELS = st.text(max_size=12)


class Pickers(Form):
    class Meta:
        csrf = False

    plain = SelectField("甲", choices=[])
    optional = OptionalSelectField("乙", choices=[], blank="全部")
    several = SelectMultipleField("丙", choices=[])


@given(choices=st.lists(st.tuples(st.text(max_size=8), LABELS), max_size=6, unique_by=lambda c: c[0]),
       picked=st.integers(0, 6))
def test_a_select_renders_exactly_as_wtforms_does(app, choices, picked):
    chosen = choices[picked][0] if picked < len(choices) else "none"
    with app.test_request_context():
        form = Pickers(MultiDict([("plain", chosen), ("optional", chosen), ("several", chosen)]))
        for field in (form.plain, form.several):
            field.choices = choices
        form.optional.set_choices(choices)
        for field in (form.plain, form.optional, form.several):
            reference = widgets.Select(multiple=field.widget.multiple)
            assert field.widget is not reference and type(field.widget) is not widgets.Select
            assert str(field(class_="form-select")) == str(reference(field, class_="form-select"))


def test_a_selected_option_and_hostile_labels_are_written_safely(app):
    with app.test_request_context():
        form = Pickers(MultiDict([("plain", '"><x')]))
        form.plain.choices = [('"><x', "<script>甲</script>"), (True, "是"), ("b", "")]
        html = str(form.plain())
    assert '<option selected value="&#34;&gt;&lt;x">&lt;script&gt;甲&lt;/script&gt;</option>' in html
    assert '<option value="True">是</option>' in html and '<option value="b">b</option>' in html


@pytest.mark.parametrize(("value", "shown"), [(None, "—"), (Decimal("1234567.5"), "1,234,567.50"), (0, "0.00")])
def test_money(value, shown):
    assert money(value) == shown


def test_date_and_badge():
    assert date(None) == "—" and date(dt.date(2025, 3, 18)) == "2025-03-18"
    assert str(badge("stage-signed", "签<约>")) == '<span class="badge stage-signed">签&lt;约&gt;</span>'
    assert str(badge("light-red", "逾期", '"逾期"')) == '<span class="badge light-red" title="&#34;逾期&#34;">逾期</span>'


class Fields(Form):
    class Meta:
        csrf = False

    name = StringField("名称", validators=[DataRequired("请填写名称。")], description="工商登记的全称")
    notes = TextAreaField("备注")
    kind = SelectField("类型", choices=[])
    when = DateField("日期", validators=[Optional()])
    amount = MoneyField("金额（万元）", validators=[Optional()])
    major = BooleanField("重大项目")
    version = HiddenField()
    submit = SubmitField("保存")


def bootstrap(app, field, **kwargs) -> str:
    template = '{% from "bootstrap5/form.html" import render_field %}{{ render_field(field, **kwargs) }}'
    return render_template_string(template, field=field, kwargs=kwargs)


def compact(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


@pytest.mark.parametrize("with_errors", [False, True])
def test_a_form_field_is_written_as_bootstrap_flask_writes_it(app, with_errors):
    with app.test_request_context():
        form = Fields(MultiDict([("name", "" if with_errors else "某<公司>"), ("kind", "b"), ("when", "2025-13-01"),
                                 ("amount", "abc" if with_errors else "12"), ("major", "y")]))
        form.kind.choices = [("a", "甲"), ("b", "乙")]
        form.validate()
        for field in form:
            for kwargs in ({}, {"id": f"x-{field.name}", "rows": 2}, {"button_style": "outline-primary"}):
                if "button_style" in kwargs and field.type != "SubmitField":
                    continue
                expected = compact(bootstrap(app, field, **kwargs))
                if "id" in kwargs:  # Bootstrap-Flask's label keeps pointing at the field's default id: ours follows
                    expected = expected.replace(f'for="{field.id}"', f'for="{kwargs["id"]}"')
                assert compact(form_field(field, **kwargs)) == expected, field.name
        assert ('<div class="invalid-feedback d-block">请填写名称。</div>' in str(form_field(form.name))) is with_errors
        assert ("工商登记的全称" in str(form_field(form.name))) is not with_errors


@given(attributes=st.dictionaries(st.sampled_from(["id", "name", "value", "class_", "data_x_y", "aria_label",
                                                   "required", "rows", "for_"]),
                                  st.one_of(st.booleans(), st.integers(), st.text(max_size=10), st.none())))
def test_html_params_writes_what_wtforms_writes(attributes):
    assert html_params(**attributes) == str(widgets.html_params(**attributes))


def test_every_input_of_a_form_uses_the_faster_attributes(app):
    with app.test_request_context():
        form = Fields()
    inputs = [field for field in form if isinstance(field.widget, widgets.Input)]
    assert len(inputs) == 6 and all(field.widget.html_params is html_params for field in inputs)
    assert type(form.when.widget) is type(Fields.when.kwargs.get("widget") or DateField.widget)
