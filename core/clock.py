"""The one place the app asks for today's date and the current time (tests freeze it here), and its months."""
from __future__ import annotations

import datetime as dt

from core.errors import InvalidInput

# Sanming's working day: deadlines and "today" follow China Standard Time, not the server's zone.
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
FIRST_REPORTING_YEAR = 2000


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().astimezone(LOCAL_TZ).date()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def parse_month(text: str | None) -> dt.date:
    """``YYYY-MM`` (a ?month= argument) as the first of that month, this month when blank; a malformed or
    future month is refused."""
    this_month = month_start(today())
    if not text:
        return this_month
    try:
        month = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise InvalidInput("月份格式应为“年-月”，例如 2026-03。") from None
    if month > this_month or month.year < FIRST_REPORTING_YEAR:
        raise InvalidInput(f"只能查看 {FIRST_REPORTING_YEAR} 年 1 月至本月的数据。")
    return month
