"""security: session versions, named expiring API tokens, Open311 API keys per application

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:00:00

- staff_users.session_version: stored in each staff session at sign-in and compared on every request;
  raising it (sign-out, password change, deactivation) ends every session of that account.
- api_tokens.name / expires_at / revoked_at: tokens are named, expire and are revoked at a known time.
- open311_api_keys: keys for Open311 POST per application and organisation (only the SHA-256 is stored).
"""
import sqlalchemy as sa
from alembic import op

import meldingen.db

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('expires_at', meldingen.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', meldingen.db.UTCDateTime(timezone=True), nullable=True))

    op.create_table('open311_api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', meldingen.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', meldingen.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', meldingen.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_open311_api_keys_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_open311_api_keys_key_hash'))
    )
    with op.batch_alter_table('open311_api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open311_api_keys_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('open311_api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open311_api_keys_organisation_id'))
    op.drop_table('open311_api_keys')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('name')

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
