"""Active rides get a table of their own; ending a ride no longer rewrites index entries.

The partial unique indexes `rides (…) WHERE end_time IS NULL` enforced invariants 1 and 2,
but made every ride's end a non-HOT update that wrote new entries into the rides indexes. At
SERIALIZABLE, PostgreSQL's page-level predicate locks then made concurrent, unrelated starts
and ends abort each other (40001) far more often than they truly conflict. `active_rides`
holds one row per ride in progress: its unique keys are the invariants, a start inserts the
row and an end deletes it, and the update of the ride itself touches no indexed column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from movr.db import ddl
from movr.db.migrations import support

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@support.autocommit_on_cockroach
def upgrade() -> None:
    """Create active_rides from the rides in progress; drop the partial unique indexes."""
    cockroach = support.is_cockroach()
    op.create_table(
        "active_rides",
        sa.Column("ride_id", sa.Uuid(), sa.ForeignKey("rides.id"), primary_key=True),
        sa.Column("vehicle_id", sa.Uuid(), sa.ForeignKey("vehicles.id"), nullable=False),
        sa.Column("rider_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        *ddl.city_columns("active_rides", support.region_map(), cockroach=cockroach),
    )
    # Invariant 1: one active ride per vehicle (checked within the vehicle's region).
    op.create_index(
        "active_rides_vehicle_key", "active_rides", ["region", "vehicle_id"], unique=True
    )
    # Invariant 2: one active ride per rider, across all regions.
    op.create_index("active_rides_rider_key", "active_rides", ["rider_id"], unique=True)
    if cockroach:
        op.execute(ddl.cockroach_regional_by_row("active_rides"))
    op.execute(
        "INSERT INTO active_rides (ride_id, vehicle_id, rider_id, city) "
        "SELECT id, vehicle_id, rider_id, city FROM rides WHERE end_time IS NULL"
    )
    support.drop_index("rides_one_active_per_vehicle", "rides")
    support.drop_index("rides_one_active_per_rider", "rides")


@support.autocommit_on_cockroach
def downgrade() -> None:
    """Back to partial unique indexes on rides."""
    op.create_index(
        "rides_one_active_per_vehicle",
        "rides",
        ["region", "vehicle_id"],
        unique=True,
        postgresql_where=sa.text("end_time IS NULL"),
    )
    op.create_index(
        "rides_one_active_per_rider",
        "rides",
        ["rider_id"],
        unique=True,
        postgresql_where=sa.text("end_time IS NULL"),
    )
    op.drop_table("active_rides")
