"""privacy: public description of reports, person-related categories, anonymisation marks, append-only audit log

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 17:00:00

Every existing report gets its public description by running the redaction over its description (with the
house numbers of person-related categories too), so public outputs never fall back to a resident's words.
The audit log refuses UPDATE and DELETE in the database itself (triggers on SQLite and PostgreSQL).
"""
import sqlalchemy as sa
from alembic import op

import meldingen.db

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None

# The sample tree's categories about a person (as in seed.py at the time of this migration).
PERSON_RELATED_MAINS = ("overlast-van-en-door-personen-of-groepen", "overlast-bedrijven-en-horeca")
PERSON_RELATED_SUBS = ("stank-geluidsoverlast",)


def upgrade():
    # Plain ADD COLUMN (no batch copy): SQLite adds in place, so SpatiaLite's geometry registration stays.
    op.add_column('categories', sa.Column('person_related', sa.Boolean(), server_default=sa.text('false'),
                                          nullable=False))
    op.add_column('categories', sa.Column('public_coordinate_decimals', sa.Integer(), nullable=True))
    op.add_column('reporters', sa.Column('anonymised_at', meldingen.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('reports', sa.Column('public_description', sa.Text(), nullable=True))
    op.add_column('reports', sa.Column('public_description_edited', sa.Boolean(), server_default=sa.text('false'),
                                       nullable=False))
    op.add_column('reports', sa.Column('anonymised_at', meldingen.db.UTCDateTime(timezone=True), nullable=True))

    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', meldingen.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('actor_role', sa.String(length=10), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('subject_organisation_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=80), nullable=False),
        sa.Column('object_type', sa.String(length=30), nullable=True),
        sa.Column('object_id', sa.String(length=80), nullable=True),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_action_at', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_organisation_at', ['organisation_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_subject_organisation_at', ['subject_organisation_id', 'at'],
                              unique=False)
    _append_only_triggers()
    _backfill()


def _append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END
            $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
        op.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def _backfill():
    from meldingen.privacy.redaction import redact_text

    bind = op.get_bind()
    categories = sa.table('categories', sa.column('id', sa.Integer), sa.column('parent_id', sa.Integer),
                          sa.column('slug', sa.String), sa.column('person_related', sa.Boolean))
    mains = [row.id for row in bind.execute(sa.select(categories.c.id).where(
        categories.c.parent_id.is_(None), categories.c.slug.in_(PERSON_RELATED_MAINS)))]
    condition = categories.c.slug.in_(PERSON_RELATED_SUBS) | categories.c.id.in_(mains)
    if mains:
        condition = condition | categories.c.parent_id.in_(mains)
    bind.execute(categories.update().where(condition).values(person_related=True))

    person_ids = {row.id for row in bind.execute(
        sa.select(categories.c.id).where(categories.c.person_related.is_(True)))}
    reports = sa.table('reports', sa.column('id', sa.Integer), sa.column('description', sa.Text),
                       sa.column('category_id', sa.Integer), sa.column('public_description', sa.Text))
    last_id = 0
    while True:  # in batches, so a million reports do not sit in memory at once
        rows = bind.execute(sa.select(reports.c.id, reports.c.description, reports.c.category_id)
                            .where(reports.c.id > last_id).order_by(reports.c.id).limit(1000)).all()
        if not rows:
            break
        for row in rows:
            public = redact_text(row.description, person_related=row.category_id in person_ids)
            bind.execute(reports.update().where(reports.c.id == row.id).values(public_description=public))
        last_id = rows[-1].id


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_subject_organisation_at')
        batch_op.drop_index('ix_audit_log_organisation_at')
        batch_op.drop_index('ix_audit_log_action_at')
    op.drop_table('audit_log')
    _drop_columns('reports', 'anonymised_at', 'public_description_edited', 'public_description')
    _drop_columns('reporters', 'anonymised_at')
    _drop_columns('categories', 'public_coordinate_decimals', 'person_related')


def _drop_columns(table, *columns):
    """SQLite drops a column in place (3.35+): no table copy, so SpatiaLite's geometry registration stays."""
    for column in columns:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
