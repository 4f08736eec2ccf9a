"""The map's filters, and the scope filters it shares with the dashboard, read from the query string."""
from __future__ import annotations

from wtforms import BooleanField

from core.forms import OptionalSelectField
from core.inputs import id_value
from projects.forms import ListFilterForm
from projects.stages import SignType, Stage


class ScopeFilterForm(ListFilterForm):
    """County, industry and signing year from the projects list's filters, plus the signing event."""

    park = stage = sign_type = major = light = q = sort = page = None
    event = OptionalSelectField("签约活动", coerce=id_value, choices=[], blank="全部签约活动")

    def read_scope(self, *, counties, industries, years, events) -> list[str]:
        """Offer the choices, validate, and name the filters ignored: a value that is not one of the
        choices, or not even a number, is dropped (never a 500)."""
        self.county.set_choices(counties)
        self.industry.set_choices(industries)
        self.year.set_choices(years)
        self.event.set_choices(events)
        self.validate()
        return [field.label.text for field in self if field.errors]

    def value(self, name: str):
        """A filter's value, or None when it was ignored."""
        field = self[name]
        return None if field.errors else field.data


class MapFilterForm(ScopeFilterForm):
    """The scope, plus the list's stage, sign type and major (its own fields: one label each), and red lights only."""

    stage, sign_type, major = ListFilterForm.stage, ListFilterForm.sign_type, ListFilterForm.major
    red = BooleanField("只看逾期（红灯）")

    def read_scope(self, **choices) -> list[str]:
        self.stage.set_choices(Stage.choices())
        self.sign_type.set_choices(SignType.choices())
        return super().read_scope(**choices)
