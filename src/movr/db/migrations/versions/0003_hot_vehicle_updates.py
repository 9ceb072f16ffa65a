"""Let vehicle updates be HOT: no index on the columns a ride changes, and room on each page.

Starting and ending rides change a vehicle's status and position. While `status` was indexed
(vehicles_city_status_idx, which also covered the position), every such update wrote new index
entries; at SERIALIZABLE, PostgreSQL's page-level predicate locks on those index pages made
unrelated rides abort each other (40001) and retry. The listing now uses an index on what
never changes (city, date added) and skips retired vehicles as it reads.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from movr.db.migrations import support

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@support.autocommit_on_cockroach
def upgrade() -> None:
    """Swap the listing index; leave free space for HOT updates (PostgreSQL only)."""
    support.drop_index("vehicles_city_status_idx", "vehicles")
    op.create_index(
        "vehicles_city_added_idx",
        "vehicles",
        ["city", sa.text("date_added DESC"), sa.text("id DESC")],
    )
    if not support.is_cockroach():  # CockroachDB has no fillfactor (and no HOT updates)
        op.execute("ALTER TABLE vehicles SET (fillfactor = 70)")
        op.execute("ALTER TABLE rides SET (fillfactor = 80)")


@support.autocommit_on_cockroach
def downgrade() -> None:
    """Restore the covering (city, status) index."""
    if not support.is_cockroach():
        op.execute("ALTER TABLE vehicles RESET (fillfactor)")
        op.execute("ALTER TABLE rides RESET (fillfactor)")
    support.drop_index("vehicles_city_added_idx", "vehicles")
    op.create_index(
        "vehicles_city_status_idx",
        "vehicles",
        ["city", "status"],
        postgresql_include=["type", "last_location", "color", "brand", "owner_id", "date_added"],
    )
