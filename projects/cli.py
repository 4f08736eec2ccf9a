"""`flask demo-data`: realistic, clearly marked demo projects (and what the packages built on them add)."""
from __future__ import annotations

import click

from core.transaction import transaction

from .demo import generate


def init_app(app) -> None:
    app.cli.add_command(demo_data)


@click.command("demo-data")
@click.option("--projects", "count", type=click.IntRange(1, 200_000), default=300, show_default=True,
              help="要生成的演示项目数量")
@click.option("--if-empty", is_flag=True, help="数据库中已有项目时不生成")
@click.option("--seed", "random_seed", type=int, default=None, help="随机种子（便于复现）")
def demo_data(count, if_empty, random_seed):
    """生成演示项目（备注中注明“演示数据”），分布于各园区、阶段、县区和日期。"""
    with transaction():
        generate(count, if_empty=if_empty, random_seed=random_seed)
