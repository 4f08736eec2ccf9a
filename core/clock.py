"""Clock room: the one place the app asks for today's date and the current time (tests freeze it here)."""
from __future__ import annotations

import datetime as dt

# Sanming's working day: deadlines and "today" follow China Standard Time, not the server's zone.
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    return now().astimezone(LOCAL_TZ).date()
