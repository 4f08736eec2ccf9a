"""The park names a ledger may use: current and former names, retired parks too, and the notice each gets."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.excel import ImportReport, where
from parks.models import Park

from .excel import LedgerRow


def park_lookup() -> dict[str, tuple[int, str, str]]:
    """Every name a park goes or went by → (id, county code, what the report says of that name or "")."""
    lookup = {}
    for park in db.session.scalars(select(Park).options(selectinload(Park.aliases))):
        retired = "已撤销，仍按原园区导入" if park.is_retired else ""
        lookup[park.name] = (park.id, park.county_code, f"园区“{park.name}”{retired}" if retired else "")
        for alias in park.aliases:  # a renamed park's former names still name it
            note = f"园区“{alias.name}”已更名为“{park.name}”，" + (retired or "按新名称导入")
            lookup.setdefault(alias.name, (park.id, park.county_code, note))
    return lookup


def add_park_notices(rows: list[LedgerRow], report: ImportReport) -> None:
    """One notice per retired or former park name the ledger uses, with the rows using it."""
    places: dict[str, list[str]] = {}
    for row in rows:
        park = row.values.get("park")
        if park and park[2]:
            places.setdefault(park[2], []).append(where(row.sheet, row.row))
    report.notices.extend(f"{note}（{'、'.join(found)}）。" for note, found in places.items())
