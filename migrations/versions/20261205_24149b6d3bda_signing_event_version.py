"""signing event version: an event edited from an older copy is refused (pages and the API's If-Match)

Revision ID: 24149b6d3bda
Revises: 015cec2d13e5
Create Date: 2026-12-05 11:09:53.717514

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '24149b6d3bda'
down_revision = '015cec2d13e5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signing_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('signing_event', schema=None) as batch_op:
        batch_op.drop_column('version')

