"""attempts, next attempt and parking for inbound events, outbox messages and conversations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:00:00

Every piece of durable background work records its attempts and when it may be tried next, so sweeps take
up what a failure or a dead worker left; work that keeps failing is parked for staff (the stuck list).
"""
import sqlalchemy as sa
from alembic import op

from meldingen.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_attempt_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('parked_at', UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_inbound_events_next_attempt_at'), ['next_attempt_at'], unique=False)
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_attempt_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('parked_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('act_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('act_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('parked_at', UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('parked_at')
        batch_op.drop_column('act_error')
        batch_op.drop_column('act_attempts')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('parked_at')
        batch_op.drop_column('last_attempt_at')
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_events_next_attempt_at'))
        batch_op.drop_column('parked_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('attempts')
