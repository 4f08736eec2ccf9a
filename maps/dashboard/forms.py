"""The dashboard's filters, read from the query string: a signing period and the map's scope."""
from __future__ import annotations

from wtforms.validators import Optional

from core.forms import DateField
from maps.forms import ScopeFilterForm


class DashboardFilterForm(ScopeFilterForm):
    """The signing date from/to (both inclusive), then county, industry, signing event and year."""

    date_from = DateField("签约日期从", validators=[Optional()])
    date_to = DateField("签约日期至", validators=[Optional()])
