"""Demo signing events of the last five years, with about half the signed demo projects credited to one."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from core.db import db
from projects.demo import DEMO_NOTE
from projects.stages import SignType

from .models import SigningEvent


def prepare(today: dt.date):
    events = _signing_events(today)
    return lambda rng, row: _credit_to_event(rng, row, events)


EVENT_TEMPLATES = [((6, 18), "第{n}届中国·海峡项目成果交易会（6·18）", "福州", "福建省人民政府", 2003),
                   ((9, 8), "第{n}届中国国际投资贸易洽谈会（9·8投洽会）", "厦门", "商务部", 1997),
                   ((11, 5), "第{n}届中国国际进口博览会", "上海", "商务部、上海市人民政府", 2018),
                   ((3, 28), "{year}年三明市重点项目集中签约活动", "三明", "三明市人民政府", None)]


def _signing_events(today: dt.date) -> list[SigningEvent]:
    """The city's usual signing events of the last five years (existing ones are reused)."""
    events = []
    for year in range(today.year - 5, today.year + 1):
        for (month, day), pattern, place, organiser, first_year in EVENT_TEMPLATES:
            date = dt.date(year, month, day)
            if date > today:
                continue
            name = pattern.format(n=year - first_year + 1 if first_year else "", year=year)
            event = db.session.scalar(select(SigningEvent).where(SigningEvent.name == name))
            if event is None:
                event = SigningEvent(name=name, date=date, place=place, organiser=organiser, notes=DEMO_NOTE)
                db.session.add(event)
            events.append(event)
    db.session.flush()
    return events


def _credit_to_event(rng: random.Random, row: dict, events: list[SigningEvent]) -> None:
    """About half the signed projects were signed at an event: move their sign date onto it."""
    if row["sign_date"] is None or rng.random() < 0.5:
        return
    candidates = [e for e in events if e.date <= (row["actual_start"] or row["sign_date"] + dt.timedelta(days=60))]
    if not candidates:
        return
    event = min(candidates, key=lambda e: abs((e.date - row["sign_date"]).days))
    row["signing_event_id"], row["sign_date"] = event.id, event.date
    if row["signed_as"] == SignType.CONTRACT.value:
        row["contract_date"] = event.date
    elif row["contract_date"] is not None and row["contract_date"] < event.date:
        row["contract_date"] = event.date


