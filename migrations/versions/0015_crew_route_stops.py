"""a staff member's route for the day

Revision ID: 0012_crew
Revises: 0011
Create Date: 2026-12-07 22:40:00

`route_stops`: the reports a field crew means to visit on a day, in the order they set (nearest neighbour from
their position, or by hand), kept per staff member on the server.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_crew'
down_revision = '0012_head'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('route_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_route_stops_report_id_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_route_stops_staff_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_stops')),
    sa.UniqueConstraint('staff_user_id', 'day', 'report_id', name=op.f('uq_route_stops_staff_user_id_day_report_id'))
    )
    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_stops_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_route_stops_staff_user_id'), ['staff_user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_stops_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_route_stops_report_id'))

    op.drop_table('route_stops')
