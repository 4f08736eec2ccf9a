"""The chain map's filters: county and signing year, read from the query string."""
from __future__ import annotations

from core.forms import Form, OptionalSelectField


class ChainFilterForm(Form):
    """County and signing year (GET: no CSRF); a value not offered is ignored, never a 500."""

    class Meta:
        csrf = False

    county = OptionalSelectField("县区", choices=[], blank="全市")
    year = OptionalSelectField("签约年份", coerce=int, choices=[], blank="全部年份")

    def read(self, *, counties, years) -> None:
        self.county.set_choices((c.code, c.name) for c in counties)
        self.year.set_choices((y, f"{y}年") for y in years)
        self.validate()

    def value(self, name: str):
        field = self[name]
        return None if field.errors else field.data
