"""county outlines: each county's GeoJSON outline (WGS-84), loaded by flask seed

Revision ID: 1dbb87fe4535
Revises: fde00d392bc6
Create Date: 2026-12-05 07:34:51.387676

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '1dbb87fe4535'
down_revision = 'fde00d392bc6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('county', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outline_geojson', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('county', schema=None) as batch_op:
        batch_op.drop_column('outline_geojson')
