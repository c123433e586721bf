"""a spatial index over the open reports only (PostGIS), for the duplicate search

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:00:00

The duplicate search looks only at open reports near a point; on a database of a million reports a GiST index
restricted to open ones keeps its p99 low. SpatiaLite's R*Tree cannot be partial; there the SpatialIndex on
all reports plus the partial B-tree indexes of 0003 serve.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_reports_open_geom ON reports USING gist (geom) WHERE closed_at IS NULL")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_reports_open_geom")
