"""The API's input fields: the same rules as the forms (core.inputs), with Chinese messages and OpenAPI 3.1 types."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import fields

from core import inputs

# marshmallow's own messages, in Chinese: every field the API reads says what is wrong in the user's language.
FIELD_MESSAGES = {"required": "必填。", "null": "不能为空（null）。", "validator_failed": "取值无效。"}


class Schema(ma.Schema):
    """Every API schema: unknown members are refused (a typo is never silently dropped)."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    error_messages = {"unknown": "不认识的字段。", "type": "须为 JSON 对象。"}

    @classmethod
    def write(cls, obj) -> dict:
        """``obj`` dumped by one instance kept for the class: making a schema deep-copies every field, which cost
        three times the dump itself (a list of 500 projects: 0.4 s of its 0.5 s)."""
        shared = cls.__dict__.get("_shared")
        if shared is None:
            shared = cls()
            cls._shared = shared
        return shared.dump(obj)


def _messages(**extra) -> dict:
    return {**FIELD_MESSAGES, **extra}


def _example(kwargs: dict) -> dict:
    """``example=`` given to a field, as the document's JSON Schema ``examples``."""
    return {"examples": [kwargs.pop("example")]} if "example" in kwargs else {}


class Text(fields.String):
    """Text in NFC without control characters (tab and newline only when ``multiline``), length in characters."""

    default_error_messages = _messages(invalid="须为文本。", invalid_utf8="须为文本。")

    def __init__(self, label: str, *, max_length: int, multiline: bool = False, min_length: int = 0, **kwargs):
        self.label, self.max_length, self.multiline, self.min_length = label, max_length, multiline, min_length
        metadata = {"description": label, "maxLength": max_length, **_example(kwargs), **kwargs.pop("metadata", {})}
        if min_length:
            metadata["minLength"] = min_length
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text = inputs.clean_text(text, self.label, multiline=self.multiline).strip()
        except ValueError as problem:
            raise ma.ValidationError(str(problem)) from None
        if len(text) > self.max_length:
            raise ma.ValidationError(f"“{self.label}”不能超过 {self.max_length} 个字符。")
        if len(text) < self.min_length:
            raise ma.ValidationError(f"请填写“{self.label}”。")
        return text


class Quantity(fields.Field):
    """A finite decimal read from a JSON number (or numeric text), checked by ``check`` and kept to two places."""

    default_error_messages = _messages(invalid="须为数字。")

    def __init__(self, label: str, description: str, maximum, **kwargs):
        self.label = label
        metadata = {"description": description, "minimum": 0, "maximum": float(maximum), **_example(kwargs),
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else float(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.make_error("invalid")
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise self.make_error("invalid") from None
        try:
            return self.check(amount)
        except ValueError as problem:
            raise ma.ValidationError(str(problem)) from None

    def check(self, amount: Decimal) -> Decimal:
        raise NotImplementedError


class Money(Quantity):
    """An amount in 万元: a finite number from 0 to 10^8, rounded to two places (inputs.check_money)."""

    default_error_messages = _messages(invalid="须为数字（单位：万元）。")

    def __init__(self, label: str, **kwargs):
        super().__init__(label, f"{label}（万元，0 到 100,000,000，两位小数）", inputs.MAX_MONEY, **kwargs)

    def check(self, amount: Decimal) -> Decimal:
        return inputs.check_money(amount, self.label)


class Area(Quantity):
    """An area in 亩 or m²: finite, from 0 to inputs.AREA_LIMITS, two places (inputs.check_area, as the forms)."""

    def __init__(self, label: str, unit: str, **kwargs):
        self.unit = unit
        limit = inputs.AREA_LIMITS[unit]
        super().__init__(label, f"{label}（{unit}，0 到 {limit:,}，两位小数）", limit, **kwargs)

    def check(self, amount: Decimal) -> Decimal:
        return inputs.check_area(amount, self.label, self.unit)


class Date(fields.Date):
    """A date written YYYY-MM-DD, within the one date range of every field (1990-01-01 to 2100-12-31)."""

    default_error_messages = _messages(invalid="须为日期，格式 YYYY-MM-DD。", format="须为日期，格式 YYYY-MM-DD。")

    def __init__(self, label: str, **kwargs):
        self.label = label
        metadata = {"description": f"{label}（{inputs.MIN_DATE} 到 {inputs.MAX_DATE}）", **_example(kwargs),
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        date = super()._deserialize(value, attr, data, **kwargs)
        try:
            return inputs.check_date(date, self.label)
        except ValueError as problem:
            raise ma.ValidationError(str(problem)) from None


class Id(fields.Integer):
    """A row's id: a whole number from 1 to the database's integer range."""

    default_error_messages = _messages(invalid="须为整数编号。", too_large="编号超出范围。")

    def __init__(self, label: str = "编号", **kwargs):
        metadata = {"description": label, "minimum": 1, "maximum": inputs.MAX_ID, **_example(kwargs),
                    **kwargs.pop("metadata", {})}
        super().__init__(strict=True, metadata=metadata, **kwargs)

    def _validated(self, value):
        number = super()._validated(value)
        if number is not None and not 0 < number <= inputs.MAX_ID:
            raise self.make_error("too_large")
        return number


class QueryId(Id):
    """An id in a query string (?park=12): its digits, since a query carries text (a JSON body's Id is a number)."""

    def __init__(self, label: str = "编号", **kwargs):
        super().__init__(label, **kwargs)
        self.strict = False


class Choice(fields.String):
    """One of a LabeledEnum's values; the description lists each value with its Chinese label."""

    default_error_messages = _messages(invalid="须为文本。")

    def __init__(self, enum_cls, label: str, **kwargs):
        self.enum_cls = enum_cls
        values = [member.value for member in enum_cls]
        listed = "；".join(f"{member.value}＝{member.label}" for member in enum_cls)
        metadata = {"description": f"{label}：{listed}", "enum": values, **_example(kwargs),
                    **kwargs.pop("metadata", {})}
        if kwargs.get("allow_none"):
            metadata["enum"] = [*values, None]
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(getattr(value, "value", value))

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.enum_cls(text)
        except ValueError:
            raise ma.ValidationError("取值不在允许的范围内。") from None


class Bool(fields.Boolean):
    default_error_messages = _messages(invalid="须为 true 或 false。")

    def __init__(self, label: str, **kwargs):
        super().__init__(metadata={"description": label, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):  # JSON true/false only: "no" or 0 are more likely mistakes than intent
            raise self.make_error("invalid")
        return value


class Flag(fields.Boolean):
    """A yes/no in a query string (?major=true): true/false or 1/0."""

    truthy = {"true", "1"}
    falsy = {"false", "0"}
    default_error_messages = _messages(invalid="须为 true 或 false。")

    def __init__(self, label: str, **kwargs):
        super().__init__(metadata={"description": label, **kwargs.pop("metadata", {})}, **kwargs)


class Page(Schema):
    """?page= and ?per_page= on every list."""

    page = fields.Integer(load_default=1, validate=ma.validate.Range(1, 100_000, error="页码须为 1 到 100000。"),
                          error_messages=_messages(invalid="页码须为整数。"),
                          metadata={"description": "页码，从 1 开始"})
    per_page = fields.Integer(load_default=50, validate=ma.validate.Range(1, 500, error="每页条数须为 1 到 500。"),
                              error_messages=_messages(invalid="每页条数须为整数。"),
                              metadata={"description": "每页条数，最多 500"})


def listing(item_schema, name: str) -> type[Schema]:
    """The schema of a list: ``{"items": [...], "total": N, "page": P, "per_page": K}``."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Integer(required=True, metadata={"description": "符合条件的总条数"}),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
    }, name=name)
