"""The input rules: clean text, one money rule, one date range and ids in range, on every form and every route."""
from __future__ import annotations

import datetime as dt
import inspect
import re
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import DateField as WTDateField
from wtforms import DecimalField, HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

from core import forms as core_forms
from core import inputs
from core.app import IdConverter
from core.auth.models import Role
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.projects.web import new_client

from .helpers import login, path_of

# Decimal fields that are no amount of money: a park's position, checked against Sanming's extent.
NOT_MONEY = {("PositionForm", "lat"), ("PositionForm", "lon")}
# Whole numbers that name no row: core.auth.tokens checks a token's life against API_TOKEN_MAX_DAYS before any use.
NOT_IDS = {("TokenCreateForm", "days")}


def all_form_classes(app) -> list[type]:
    """Every form the app defines (the domains are imported by create_app)."""
    found, todo = [], [core_forms.Form]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    assert len(found) > 15, "the domains' forms were not imported"
    return found


def unbound_fields(cls) -> list[tuple[str, UnboundField]]:
    return [(name, value) for name, value in inspect.getmembers(cls) if isinstance(value, UnboundField)]


# --- the pure rules -------------------------------------------------------------------------------

@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\u202e", "\u2066", "\uffff"])
def test_control_characters_are_refused_naming_the_field(char):
    with pytest.raises(ValueError, match=f"“项目名称”含有不可见的控制字符（U\\+{ord(char):04X}）"):
        inputs.clean_text(f"甲{char}乙", "项目名称")


def test_tab_and_newline_only_in_multi_line_fields():
    assert inputs.clean_text("第一行\r\n\t第二行\r第三行", "备注", multiline=True) == "第一行\n\t第二行\n第三行"
    for char in ("\t", "\n", "\r"):
        with pytest.raises(ValueError):
            inputs.clean_text(f"甲{char}乙", "名称")


def test_text_is_stored_in_nfc_and_lone_surrogates_are_refused():
    assert inputs.clean_text("Cafe\u0301", "名称") == "Caf\u00e9"
    with pytest.raises(ValueError, match="“名称”含有无效的字符编码"):
        inputs.clean_text("甲\ud800乙", "名称")
    assert inputs.clean_text("正常的中文、English 与 emoji 🏭", "名称") == "正常的中文、English 与 emoji 🏭"


def test_exports_drop_what_xml_cannot_carry():
    assert inputs.xml_safe("甲\x00乙\x0b丙\x1f丁\ud800\ufffe") == "甲乙丙丁"
    assert inputs.xml_safe("行一\n\t行二\r") == "行一\n\t行二\r"


@pytest.mark.parametrize(("amount", "stored"), [("0", "0.00"), ("12.345", "12.35"), ("1e-999999", "0.00"),
                                                ("100000000", "100000000.00"), ("-0", "0.00")])
def test_money_in_range_is_kept_to_the_cent(amount, stored):
    assert inputs.check_money(Decimal(amount)) == Decimal(stored)


@pytest.mark.parametrize(("amount", "message"), [("-0.01", "不能为负数"), ("100000000.01", "不能超过 100,000,000 万元"),
                                                 ("1e1000000", "不能超过"), ("NaN", "请输入数字"), ("sNaN", "请输入数字"),
                                                 ("Infinity", "请输入数字"), ("-Infinity", "请输入数字")])
def test_money_out_of_range_is_refused(amount, message):
    with pytest.raises(ValueError, match=message):
        inputs.check_money(Decimal(amount))


@pytest.mark.parametrize(("area", "unit", "message"), [
    ("-0.01", "亩", "可供地不能为负数"), ("1000000.01", "亩", "可供地超过 1,000,000 亩"),
    ("100000000.01", "m²", "可供地超过 100,000,000 m²"), ("1e1000000", "亩", "超过"), ("NaN", "亩", "请输入数字（单位：亩）"),
    ("-Infinity", "m²", "请输入数字（单位：m²）")])
def test_area_out_of_range_is_refused(area, unit, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        inputs.check_area(Decimal(area), "可供地（亩）", unit)


def test_area_in_range_is_rounded_to_two_places():
    assert inputs.check_area(Decimal("12.345"), "可供地（亩）", "亩") == Decimal("12.35")
    assert inputs.check_area(Decimal("0"), "标准厂房（m²）", "m²") == 0


def test_one_date_range():
    assert inputs.date_in_range(dt.date(1990, 1, 1)) and inputs.date_in_range(dt.date(2100, 12, 31))
    assert not inputs.date_in_range(dt.date(1989, 12, 31)) and not inputs.date_in_range(dt.date(2101, 1, 1))
    assert not inputs.date_in_range(dt.date(1, 1, 1)) and not inputs.date_in_range(dt.date(9999, 12, 31))


# --- every form follows them ----------------------------------------------------------------------

def test_every_date_money_and_id_field_is_the_shared_one(app):
    for cls in all_form_classes(app):
        for name, field in unbound_fields(cls):
            kind = field.field_class
            where = f"{cls.__module__}.{cls.__name__}.{name}"
            if issubclass(kind, WTDateField):
                assert issubclass(kind, core_forms.DateField), f"{where}: use core.forms.DateField (one date range)"
            if issubclass(kind, DecimalField) and (cls.__name__, name) not in NOT_MONEY:
                assert issubclass(kind, (core_forms.MoneyField, core_forms.AreaField)), \
                    f"{where}: use core.forms.MoneyField or AreaField (one money rule, one area rule)"
            if issubclass(kind, IntegerField) and (cls.__name__, name) not in NOT_IDS:
                assert issubclass(kind, core_forms.IdField), f"{where}: use core.forms.IdField (ids in range)"


def test_every_id_select_coerces_through_the_id_rule(app):
    # A bare int() takes 2**63, which a query then sends to the database (a 500 on SQLite and PostgreSQL).
    for cls in all_form_classes(app):
        for name, field in unbound_fields(cls):
            if issubclass(field.field_class, SelectField) and name != "year":
                assert field.kwargs.get("coerce") is not int, f"{cls.__name__}.{name}: coerce=inputs.id_value"


@pytest.mark.parametrize("query", [f"park={2**63}", f"industry={2**31}", f"park=-1&page={10**30}", "park=0"])
def test_id_filters_past_the_range_are_ignored_not_a_500(app, project_ref, query):
    client = new_client(app, make_user(Role.COMMERCE))
    assert client.get(f"/projects/?{query}").status_code == 200


def test_every_text_field_of_every_form_refuses_control_characters(app):
    checked = 0
    with app.test_request_context(method="POST"):
        for cls in all_form_classes(app):
            for name, field in unbound_fields(cls):
                kind = field.field_class
                if not issubclass(kind, StringField) or issubclass(kind, (HiddenField, PasswordField)):
                    continue
                form = cls(formdata=MultiDict({name: "甲\x0b乙"}))
                form.validate()
                assert any("控制字符（U+000B）" in error for error in form[name].errors), \
                    f"{cls.__name__}.{name} took a vertical tab: {form[name].errors}"
                if issubclass(kind, TextAreaField):
                    form = cls(formdata=MultiDict({name: "第一行\r\n第二行"}))
                    form.validate()
                    assert form[name].data == "第一行\n第二行" and not form[name].errors, f"{cls.__name__}.{name}"
                checked += 1
    assert checked > 30


def test_making_forms_adds_no_filter_to_the_shared_fields(app):
    # The text rule once went onto the class's shared field: one more filter with every form made, so a
    # worker's pages grew slower (and its memory larger) with every request.
    with app.test_request_context(method="POST"):
        for cls in all_form_classes(app):
            counts = []
            for _ in range(3):
                form = cls(formdata=MultiDict())
                counts.append({name: len(field.filters) for name, field in form._fields.items()})
            assert counts[0] == counts[1] == counts[2], cls.__name__
            assert all(len(field.kwargs.get("filters", ())) == 0 for _, field in unbound_fields(cls)
                       if issubclass(field.field_class, StringField)), cls.__name__


@pytest.mark.parametrize("typed", ["0001-01-01", "1989-12-31", "2101-01-01", "9999-12-31"])
def test_every_date_field_refuses_dates_out_of_range(app, typed):
    with app.test_request_context(method="POST"):
        for cls in all_form_classes(app):
            for name, field in unbound_fields(cls):
                if issubclass(field.field_class, WTDateField):
                    form = cls(formdata=MultiDict({name: typed}))
                    form.validate()
                    assert form[name].errors == [inputs.DATE_RANGE_MESSAGE], f"{cls.__name__}.{name}"


# --- ids in routes --------------------------------------------------------------------------------

@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_ids_past_the_integer_range_are_404_on_every_route(app, project_ref, huge):
    client = new_client(app, make_user(Role.ADMIN))
    rules = [rule for rule in app.url_map.iter_rules()
             if any(isinstance(converter, IdConverter) for converter in rule._converters.values())]
    assert len(rules) > 20
    for rule in rules:
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", str(huge))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, data={"version": "1"})
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"


# --- redirect targets and cookies -----------------------------------------------------------------

@pytest.mark.parametrize("target", ["/projects/\r\nSet-Cookie: x=1", "/projects/\n", "/\x00", "/projects/\x85",
                                    "//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_a_next_that_is_no_clean_path_goes_home(app, client, project_ref, target):
    response = login(client, make_user(), next=target)
    assert response.status_code == 302
    assert path_of(response) == "/" and "\n" not in response.headers["Location"]


def test_a_clean_next_is_followed(client, project_ref):
    response = login(client, make_user(), next="/projects/?q=测试")
    assert response.status_code == 302 and path_of(response) == "/projects/"


def test_the_session_cookie_is_secure_when_the_request_came_over_https(app, client, project_ref):
    plain = login(client, make_user(username="plain_user"))
    assert "Secure" not in plain.headers["Set-Cookie"]
    # Behind the proxy, gunicorn turns X-Forwarded-Proto from a trusted address into this scheme.
    secure = app.test_client().post("/login", base_url="https://localhost",
                         data={"username": make_user(username="tls_user").username, "password": DEFAULT_PASSWORD})
    assert all("Secure" in cookie for cookie in secure.headers.getlist("Set-Cookie"))
    assert secure.headers.getlist("Set-Cookie")


@pytest.mark.parametrize("url", ["/ledgers/export?county=%00", "/leads/?q=%00", "/projects/?q=%00",
                                 "/api/v1/projects.geojson?q=%00", "/ledgers/export?county=%0b"])
def test_a_nul_in_a_lookup_is_no_500(app, project_ref, url):
    # PostgreSQL refuses a NUL in any text parameter: a lookup must drop it before it gets there.
    assert new_client(app, make_user(Role.COMMERCE)).get(url).status_code < 500
