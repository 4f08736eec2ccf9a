"""Benchmark: import a 10,000-row ledger end to end and export 10,000 projects; prints time and peak memory.

Builds a throw-away database (SQLite file by default, or BENCH_DATABASE_URL, whose schema is dropped
and recreated), writes a real .xlsx ledger with openpyxl, imports it through projects.ledgers (the
same path as `flask ledger import`: parse, validate every row, project services, one transaction),
then exports everything. Memory is the process's peak RSS (resource.getrusage), which
includes the interpreter and the reference data. Run: .venv/bin/python bench/ledger.py [ROWS]
"""
from __future__ import annotations

import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth.models import Role  # noqa: E402
from core.auth.services import create_user, seed_counties  # noqa: E402
from core.db import db  # noqa: E402
from parks.services import seed_reference  # noqa: E402
from projects.ledgers import export, importer  # noqa: E402
from projects.ledgers.excel import export_ledger  # noqa: E402
from projects.models import Project  # noqa: E402
from projects.services import seed_approval_types  # noqa: E402
from tests.harness import reset_schema  # noqa: E402
from tests.projects.ledgers.files import ledger_bytes, row  # noqa: E402

COUNTIES = ["三元区", "沙县", "永安市", "明溪", "350423", "宁化县", "大田县", "尤溪县", "将乐县", "泰宁县", "建宁县"]
INDUSTRIES = ["氟新材料", "石墨烯", "稀土", "医药", "装备", "轻合金"]
STAGES = ["签约", "已签约", "在谈", "签约"]


def ledger(rows: int) -> bytes:
    body = [row(name=f"基准项目{i}", investor=f"基准投资方{i}有限公司", county=COUNTIES[i % len(COUNTIES)],
                industry=INDUSTRIES[i % len(INDUSTRIES)], total=f"{1000 + i % 5000:,}万元",
                sign_date=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", stage=STAGES[i % len(STAGES)],
                sign_type="合同" if i % 3 else "框架协议", event="6·18 海峡项目成果交易会" if i % 5 == 0 and i % 4 != 2 else "",
                unit="县工信局", completed=str(i % 300), seq=i + 1) for i in range(rows)]
    return ledger_bytes(body + [["合计", None, None, None, None, None, 0]])


def main(rows: int) -> None:
    workdir = tempfile.mkdtemp(prefix="bench-ledger-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir}/bench.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "LEDGER_IMPORT_DIR": workdir})
    with app.app_context():
        reset_schema(db.engine)
        upgrade()
        seed_counties()
        seed_reference()
        seed_approval_types()
        admin = create_user("bench_admin", Role.ADMIN, "bench-password-123")
        db.session.commit()
        data = ledger(rows)
        print(f"ledger: {rows:,} rows, {len(data) / 1024 / 1024:.1f} MB ({db.engine.dialect.name})")

        started = time.perf_counter()
        outcome = importer.import_ledger(data, by=admin, filename="bench.xlsx")
        assert outcome.ok, outcome.report.lines()[:5]
        db.session.commit()
        import_s = time.perf_counter() - started
        import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        count = db.session.scalar(select(func.count()).select_from(Project))
        print(f"import: {import_s:.2f} s end to end for {count:,} projects (target < 10 s); "
              f"peak RSS so far {import_rss:.0f} MB")

        started = time.perf_counter()
        body = export_ledger(export.export_rows(), title=export.export_title(None))
        export_s = time.perf_counter() - started
        print(f"export: {export_s:.2f} s for {count:,} projects, {len(body) / 1024 / 1024:.1f} MB (target < 3 s)")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process peak RSS: {rss:.0f} MB (target < 400 MB)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
