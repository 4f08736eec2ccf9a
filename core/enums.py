"""A StrEnum whose members carry the Chinese label users read."""
from __future__ import annotations

from enum import StrEnum


class LabeledEnum(StrEnum):
    """Members are declared as ``NAME = "value", "中文"``; ``.label`` is the Chinese text."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]
