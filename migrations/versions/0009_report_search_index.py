"""a search index over reports: reference, address and words (staff search)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 17:00:00

Staff search by reference, street, house number, postcode, place or any words of the description, as parts of
words ("westerdok", "lantaarn"), fast over a million reports:
- PostgreSQL: a trigram GIN index (pg_trgm) over one expression holding all searched fields; ILIKE '%word%'
  uses it. `meldingen.staff.search.SEARCH_TEXT_SQL` is the same expression: they must stay equal.
- SQLite: an FTS5 table with the trigram tokenizer over the same columns, external content (the text is
  not stored twice), kept in sync with `reports` by triggers.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SEARCH_TEXT_SQL = (
    "(coalesce(reference, '') || ' ' || coalesce(address_street, '') || ' ' || coalesce(address_number, '') "
    "|| ' ' || coalesce(address_postcode, '') || ' ' || coalesce(address_city, '') || ' ' "
    "|| coalesce(address_text, '') || ' ' || coalesce(description, ''))"
)
FTS_COLUMNS = "reference, address_street, address_number, address_postcode, address_city, address_text, description"


def sqlite_triggers() -> list[str]:
    """The triggers that keep the FTS5 table in step with `reports` (bench/bench_search.py reuses them)."""
    new = ", ".join(f"new.{c.strip()}" for c in FTS_COLUMNS.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in FTS_COLUMNS.split(","))
    return [
        f"CREATE TRIGGER reports_search_ai AFTER INSERT ON reports BEGIN "
        f"INSERT INTO reports_search(rowid, {FTS_COLUMNS}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER reports_search_ad AFTER DELETE ON reports BEGIN "
        f"INSERT INTO reports_search(reports_search, rowid, {FTS_COLUMNS}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER reports_search_au AFTER UPDATE OF {FTS_COLUMNS} ON reports BEGIN "
        f"INSERT INTO reports_search(reports_search, rowid, {FTS_COLUMNS}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO reports_search(rowid, {FTS_COLUMNS}) VALUES (new.id, {new}); END",
    ]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_reports_search_trgm ON reports USING gin ({SEARCH_TEXT_SQL} gin_trgm_ops)")
        return
    op.execute(f"CREATE VIRTUAL TABLE reports_search USING fts5({FTS_COLUMNS}, content='reports', "
               "content_rowid='id', tokenize='trigram')")
    for statement in sqlite_triggers():
        op.execute(statement)
    op.execute("INSERT INTO reports_search(reports_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_reports_search_trgm")
        return
    for name in ("reports_search_au", "reports_search_ad", "reports_search_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS reports_search")
