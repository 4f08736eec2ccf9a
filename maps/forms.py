"""Maps forms room: the map's filters, read from the query string (the projects list's, plus two)."""
from __future__ import annotations

from wtforms import BooleanField
from wtforms.fields import DateField
from wtforms.validators import Optional

from core.forms import OptionalSelectField
from projects.forms import ListFilterForm


class MapFilterForm(ListFilterForm):
    """Industry, county, stage, sign type, year and major from the list's filters; signing event and
    red lights only added; the list's park, light, search, sort and page dropped."""

    park = light = q = sort = page = None
    event = OptionalSelectField("签约活动", coerce=int, choices=[], blank="全部签约活动")
    red = BooleanField("只看逾期（红灯）")


class DashboardFilterForm(ListFilterForm):
    """The dashboard's period (signing date from/to) and scope: county, industry, signing event, year."""

    park = stage = sign_type = major = light = q = sort = page = None
    date_from = DateField("签约日期从", validators=[Optional()])
    date_to = DateField("签约日期至", validators=[Optional()])
    event = OptionalSelectField("签约活动", coerce=int, choices=[], blank="全部签约活动")

