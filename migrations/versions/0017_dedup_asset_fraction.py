"""assets.fraction: a container's fraction (glass, paper, residual, plastic, textile, organic)

Revision ID: 0012_dedup
Revises: 0011
Create Date: 2026-12-07 23:00:00

Containers for different fractions stand side by side; reports about the glass and the paper container at one
spot are two problems. `meldingen import assets --fraction-column` fills it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_dedup'
down_revision = '0012_api'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: a batch copy of `assets` would drop SpatiaLite's geometry registration.
def upgrade():
    op.add_column("assets", sa.Column("fraction", sa.String(20), nullable=True))


def downgrade():
    op.drop_column("assets", "fraction")
