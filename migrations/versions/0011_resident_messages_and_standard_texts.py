"""public messages apart from internal notes, and standard reply texts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 17:00:00

A status change keeps two texts: `note` (internal, staff only) and `resident_message` (sent to every resident
who follows the report, and the only text public outputs may show). `standard_texts` holds the reply texts
staff pick from, per status and category, kept by administrators.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resident_message', sa.Text(), nullable=True))

    op.create_table('standard_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_standard_texts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_standard_texts_category_id_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_texts'))
    )
    with op.batch_alter_table('standard_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_texts_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('standard_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_texts_status'))
    op.drop_table('standard_texts')
    with op.batch_alter_table('report_events', schema=None) as batch_op:
        batch_op.drop_column('resident_message')
