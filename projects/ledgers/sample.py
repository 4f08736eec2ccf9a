"""The sample ledger a county starts from: its own parks and industries, a few projects in every stage."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.auth.models import County
from parks.queries import industries, parks_by_county

# (stage word, what the row carries besides the stage): the first rows have every fact a stage needs, the
# last ones only the stage word, as many county ledgers do; those import with their 资料缺项 listed.
_ROWS = [
    ("在谈", {}),
    ("已签约", {"sign": ("合同", dt.date(2025, 3, 18))}),
    ("前期", {"sign": ("协议", dt.date(2025, 1, 9)), "code": "2025-{county}-26-03-00101A"}),
    ("在建", {"sign": ("合同", dt.date(2024, 11, 6)), "code": "2024-{county}-26-03-00102A",
              "permit": dt.date(2025, 2, 20), "planned_start": dt.date(2025, 3, 1), "start": dt.date(2025, 3, 16)}),
    ("已竣工", {"sign": ("合同", dt.date(2023, 9, 12)), "code": "2023-{county}-26-03-00103A",
               "permit": dt.date(2023, 12, 1), "start": dt.date(2024, 1, 8), "completion": dt.date(2025, 6, 30)}),
    ("已投产", {"sign": ("合同", dt.date(2022, 8, 2)), "code": "2022-{county}-26-03-00104A",
               "permit": dt.date(2022, 11, 3), "start": dt.date(2022, 12, 1), "production": dt.date(2024, 5, 20)}),
    ("在建", {}),
    ("已投产", {}),
]


def sample_rows(county: County) -> list[dict]:
    """The sample's rows for ``county`` in the export's layout (so the sample reads as counties' ledgers do)."""
    parks = [park for park in parks_by_county() if park.county_code == county.code] or [None]
    kinds = industries()
    rows = []
    for number, (stage, facts) in enumerate(_ROWS, start=1):
        park, industry = parks[number % len(parks)], kinds[number % len(kinds)]
        sign_type, sign_date = facts.get("sign", (None, None))
        total = Decimal(3000 * number)
        rows.append({
            "name": f"示例{county.short_name}{industry.name}项目{number:02d}", "investor_name": f"示例投资方{number:02d}有限公司",
            "county": county.name, "park": park.name if park else None, "industry": industry.name,
            "total_investment": total, "sign_type": sign_type, "sign_date": sign_date, "event": None, "stage": stage,
            "project_code": facts["code"].format(county=county.code) if "code" in facts else None,
            "permit_date": facts.get("permit"), "planned_start": facts.get("planned_start"),
            "actual_start": facts.get("start"), "actual_completion": facts.get("completion"),
            "actual_production": facts.get("production"),
            "completed": total / 2 if facts.get("start") else None, "leader": None,
            "responsible_unit": f"{county.name}工信局" if facts else None,
            "blocker": "用地指标待落实" if stage == "前期" else None,
        })
    return rows
