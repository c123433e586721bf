"""reports.address_id: the address id an Open311 client sent (a BAG nummeraanduiding id, or the client's own)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 17:30:00

Open311 GeoReport v2 returns a request's `address_id`; it was always null because nothing kept it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: a batch copy of `reports` would drop SpatiaLite's geometry registration.
def upgrade():
    op.add_column("reports", sa.Column("address_id", sa.String(64), nullable=True))


def downgrade():
    op.drop_column("reports", "address_id")
