"""park administration: retired and edited marks, seed keys, parks' former names

Every park, zone, chain, chain node and anchor firm gets retired_at (hidden from choices, still shown where
used), edited_at (an administrator changed it: a re-seed leaves it alone) and seed_key (the seed's name for
the row, so a re-seed finds it after a rename). Existing rows all came from the seed: their keys are filled
in here as the seed writes them. park_alias keeps a renamed park's former names.

Revision ID: 6a639ddf1165
Revises: ca0b985f5e1c
Create Date: 2026-12-05 04:42:45.111423

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a639ddf1165'
down_revision = 'ca0b985f5e1c'
branch_labels = None
depends_on = None

KEPT_TABLES = ('chain', 'chain_node', 'enterprise', 'park', 'zone')
# The seed's keys: a park's, zone's or firm's name; "industry code/chain"; "industry code/chain/node".
SEED_KEYS = (
    "UPDATE park SET seed_key = name",
    "UPDATE zone SET seed_key = name",
    "UPDATE enterprise SET seed_key = name",
    "UPDATE chain SET seed_key = (SELECT industry.code FROM industry WHERE industry.id = chain.industry_id)"
    " || '/' || name",
    "UPDATE chain_node SET seed_key = (SELECT chain.seed_key FROM chain WHERE chain.id = chain_node.chain_id)"
    " || '/' || name",
)


def upgrade():
    op.create_table('park_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], name=op.f('fk_park_alias_park_id_park')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_park_alias')),
    sa.UniqueConstraint('name', name=op.f('uq_park_alias_name'))
    )
    with op.batch_alter_table('park_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_park_alias_park_id'), ['park_id'], unique=False)

    for table in KEPT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('seed_key', sa.String(length=200), nullable=True))
            batch_op.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
            # A unique index, not a constraint: SQLite adds it without rebuilding the table (which the
            # foreign keys pointing at chain and park would refuse).
            batch_op.create_index(batch_op.f(f'ix_{table}_seed_key'), ['seed_key'], unique=True)
    for statement in SEED_KEYS:
        op.execute(statement)


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: rebuilding chain or park would break the
    # foreign keys pointing at them.
    for table in reversed(KEPT_TABLES):
        op.drop_index(op.f(f'ix_{table}_seed_key'), table_name=table)
        for column in ('retired_at', 'edited_at', 'seed_key'):
            op.drop_column(table, column)

    with op.batch_alter_table('park_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_park_alias_park_id'))

    op.drop_table('park_alias')
