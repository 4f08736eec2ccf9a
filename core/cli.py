"""CLI room: `flask seed`, which loads every domain's reference data (idempotent)."""
from __future__ import annotations

import click

from core.auth.services import seed_counties
from core.db import db
from parks.services import seed_reference
from projects.services import seed_approval_types


def init_app(app):
    app.cli.add_command(seed)


@click.command("seed")
def seed():
    """载入参考数据：县区（含旧区划代码）、产业与产业链、集聚区、园区与龙头企业、前期手续。可重复运行。"""
    added = seed_counties()
    counts = seed_reference()
    approvals = seed_approval_types()
    db.session.commit()
    click.echo(f"县区：新增 {added} 个；产业 {counts['industries']} 个，集聚区 {counts['zones']} 个，"
               f"园区 {counts['parks']} 个，龙头企业 {counts['enterprises']} 家；前期手续类型新增 {approvals} 个。")
