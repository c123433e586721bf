"""saved list filters per staff member, and standard texts for the inbox

Revision ID: 0012_head
Revises: 0011
Create Date: 2026-12-07 23:00:00

`saved_filters`: a staff member's named list filters (the list's URL), kept on the server instead of in one
browser. `standard_texts.purpose`: "report" (the texts for "bericht aan melder", as before) or "inbox" (reply
texts an agent inserts in a conversation).
"""
import sqlalchemy as sa
from alembic import op

from meldingen.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0012_head'
down_revision = '0012_desk'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_saved_filters_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters'))
    )
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_filters_staff_id'), ['staff_id'], unique=False)
    with op.batch_alter_table('standard_texts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=10), server_default='report', nullable=False))


def downgrade():
    with op.batch_alter_table('standard_texts', schema=None) as batch_op:
        batch_op.drop_column('purpose')
    with op.batch_alter_table('saved_filters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_filters_staff_id'))
    op.drop_table('saved_filters')
