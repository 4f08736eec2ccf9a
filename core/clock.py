"""The one place the app asks for today's date and the current time (tests freeze it here), turns stored UTC
timestamps into China time, and its months."""
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


def local(moment: dt.datetime) -> dt.datetime:
    """A stored (UTC-aware) timestamp as China time."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: timestamps are UTC-aware")
    return moment.astimezone(LOCAL_TZ)


def wall_clock_to_utc(moment: dt.datetime, zone: dt.tzinfo | None = None) -> dt.datetime:
    """A naive wall-clock time (a camera's EXIF time) read in ``zone``, else in China time, as the UTC instant."""
    return moment.replace(tzinfo=zone or LOCAL_TZ).astimezone(dt.UTC)


def local_date(moment: dt.datetime | None) -> dt.date | None:
    """The China date a timestamp falls on (its ``.date()`` would be the UTC date, wrong before 08:00)."""
    return local(moment).date() if moment is not None else None


def format_time(moment: dt.datetime | None) -> str:
    """A timestamp as people read it: ``YYYY-MM-DD HH:MM`` in China time, no zone label; blank for None."""
    return f"{local(moment):%Y-%m-%d %H:%M}" if moment is not None else ""


def day_start(day: dt.date) -> dt.datetime:
    """The UTC instant China's ``day`` begins. SQL compares timestamps with this, never casts them to dates,
    so a day turns at local midnight alike on SQLite and PostgreSQL."""
    return dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(dt.UTC)


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
