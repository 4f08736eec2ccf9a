"""Demo leads in every status, some overdue, with their follow-ups."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.auth.models import Role, User
from core.db import db
from core.validators import company_key
from projects.demo import DEMO_NOTE, FIRM_PREFIXES, FIRM_SUFFIXES, FIRM_WORDS
from projects.models import InvestorOrigin

from .models import FollowUp, FollowUpKind, Lead, LeadSource, LeadStatus


def finish(rng, first_id: int, end_id: int, today: dt.date, now, parks) -> str:
    return f"{_leads(rng, min(60, max(10, (end_id - first_id) // 10)), parks, today, now)} 条招商线索"


def _leads(rng, count: int, parks, today: dt.date, now) -> int:
    """Leads in every status, some of them overdue, with follow-ups."""
    owners = db.session.scalars(select(User.id).where(User.role == Role.COMMERCE)).all() or [None]
    made = 0
    for _ in range(count):
        park = rng.choice(parks)
        firm = rng.choice(FIRM_PREFIXES) + "".join(rng.sample(FIRM_WORDS, 2)) + rng.choice(FIRM_SUFFIXES)
        status = rng.choices(list(LeadStatus), [30, 20, 30, 0, 10])[0]
        created = now - dt.timedelta(days=rng.randrange(0, 120), hours=rng.randrange(0, 24))
        lead = Lead(investor_name=firm, investor_key=company_key(firm), contact_person=rng.choice(["张总", "李总", "王经理", "陈董"]),
                    contact_phone=f"139{rng.randrange(10**7, 10**8)}", investor_origin=rng.choice(list(InvestorOrigin)),
                    industry_id=park.industry_id, county_code=park.county_code, park_id=park.id,
                    estimated_investment=Decimal(rng.choice([5000, 10000, 30000, 80000])), source=rng.choice(list(LeadSource)),
                    referrer=rng.choice(["", "三明商会", "省投促中心", "园区管委会"]), owner_id=rng.choice(owners),
                    notes=DEMO_NOTE, status=status, abandon_reason="投资方另选址" if status is LeadStatus.ABANDONED else "",
                    status_changed_at=created + dt.timedelta(days=rng.randrange(0, 5)), created_at=created, updated_at=created)
        db.session.add(lead)
        if status is not LeadStatus.NEW or rng.random() < 0.5:
            first = clock.local_date(created + dt.timedelta(days=rng.randrange(0, 3)))
            for step in range(rng.randrange(1, 4)):
                day = min(today, first + dt.timedelta(days=step * rng.randrange(5, 25)))
                lead.follow_ups.append(FollowUp(date=day, kind=rng.choice(list(FollowUpKind)),
                                                summary=rng.choice(["电话沟通投资意向", "赴企业总部走访", "企业来明考察园区", "洽谈用地与配套条件"]),
                                                next_step=rng.choice(["", "提供园区用地资料", "安排县领导会见"]),
                                                next_due=day + dt.timedelta(days=rng.randrange(3, 30)) if rng.random() < 0.6 else None,
                                                created_at=created))
        made += 1
    db.session.flush()
    return made


