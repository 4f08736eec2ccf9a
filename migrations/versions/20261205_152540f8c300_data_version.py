"""data version: one row bumped with every write to the app's data, keying the caches

Revision ID: 152540f8c300
Revises: 6a639ddf1165
Create Date: 2026-12-05 06:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '152540f8c300'
down_revision = '6a639ddf1165'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('data_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('stamp', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version'))
    )
    # The row exists from the start; its random stamp keeps this database's versions apart from any other's.
    op.bulk_insert(table, [{"id": 1, "version": 0, "stamp": secrets.token_hex(8)}])


def downgrade():
    op.drop_table('data_version')
