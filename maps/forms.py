"""Maps forms room: the map's filters, read from the query string (the projects list's, plus two)."""
from __future__ import annotations

from wtforms import BooleanField

from core.forms import OptionalSelectField
from projects.forms import ListFilterForm


class MapFilterForm(ListFilterForm):
    """Industry, county, stage, sign type, year and major from the list's filters; signing event and
    red lights only added; the list's park, light, search, sort and page dropped."""

    park = light = q = sort = page = None
    event = OptionalSelectField("签约活动", coerce=int, choices=[], blank="全部签约活动")
    red = BooleanField("只看逾期（红灯）")
