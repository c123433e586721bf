"""answers to residents' questions that are not reports, and office hours per organisation

Revision ID: 0012_desk
Revises: 0011
Create Date: 2026-12-07 23:00:00

`question_answers`: an answer with a link, given at once to a question that holds one of its phrases ("hoe
verleng ik mijn paspoort"); `office_hours`: when a person answers the chat, per organisation and weekday (Dutch
public holidays closed), so a question left for a person is told honestly when one will answer.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_desk'
down_revision = '0012_push'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('question_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('phrases', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_question_answers_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_answers'))
    )
    op.create_table('office_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens', sa.String(length=5), nullable=False),
    sa.Column('closes', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_office_hours_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_hours')),
    sa.UniqueConstraint('organisation_id', 'weekday', name=op.f('uq_office_hours_organisation_id_weekday'))
    )


def downgrade():
    op.drop_table('office_hours')
    op.drop_table('question_answers')
