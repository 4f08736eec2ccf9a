"""attachments: photos and documents on a project or one of its milestones, approval items or blockers

Each row names its stored file by SHA-256 (the file lives under the instance folder, stored once); a photo keeps
the time and place its EXIF gave. Removal sets removed_at and a reason, keeping the row.

Revision ID: fde00d392bc6
Revises: f57437767734
Create Date: 2026-12-05 07:36:39.104241

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fde00d392bc6'
down_revision = 'f57437767734'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('approval_item_id', sa.Integer(), nullable=True),
    sa.Column('blocker_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('photo', 'document', name='filekind', native_enum=False), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('removal_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['approval_item_id'], ['approval_item.id'], name=op.f('fk_attachment_approval_item_id_approval_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['blocker_id'], ['blocker.id'], name=op.f('fk_attachment_blocker_id_blocker'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_attachment_milestone_id_milestone'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_attachment_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['removed_by_id'], ['app_user.id'], name=op.f('fk_attachment_removed_by_id_app_user')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_attachment_uploaded_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_approval_item_id'), ['approval_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_blocker_id'), ['blocker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_milestone_id'), ['milestone_id'], unique=False)
        batch_op.create_index('ix_attachment_project_kind', ['project_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_uploaded_at'), ['uploaded_at'], unique=False)



def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_uploaded_at'))
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index('ix_attachment_project_kind')
        batch_op.drop_index(batch_op.f('ix_attachment_milestone_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_blocker_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_approval_item_id'))

    op.drop_table('attachment')
