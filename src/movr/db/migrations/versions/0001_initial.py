"""Users, vehicles and rides, homed by city region; invariants as constraints and indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

from movr.db import ddl
from movr.db.migrations import support

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("users", "vehicles", "rides")


def _city_columns(table: str) -> list[SchemaItem]:
    return ddl.city_columns(table, support.region_map(), cockroach=support.is_cockroach())


def _id_column() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid(), primary_key=True, server_default=sa.text("gen_random_uuid()"))


def _now() -> sa.TextClause:
    return sa.text("now()")


@support.autocommit_on_cockroach
def upgrade() -> None:
    """Create the schema; on CockroachDB, make the database and tables multi-region."""
    cockroach = support.is_cockroach()
    if cockroach:
        database: str = support.attribute("database_name")
        for statement in ddl.cockroach_database_regions(database, support.region_map()):
            op.execute(statement)
    else:
        # New sessions default to SERIALIZABLE too (the engine also asks for it explicitly);
        # skipped with a notice where the migrating role does not own the database.
        op.execute(
            "DO $$ BEGIN EXECUTE 'ALTER DATABASE ' || quote_ident(current_database()) "
            "|| ' SET default_transaction_isolation = ''serializable'''; "
            "EXCEPTION WHEN insufficient_privilege THEN "
            "RAISE NOTICE 'cannot set default_transaction_isolation'; END $$"
        )

    op.create_table(
        "users",
        _id_column(),
        *_city_columns("users"),
        sa.Column("first_name", sa.String(64)),
        sa.Column("last_name", sa.String(64)),
        sa.Column("email", sa.String(254)),
        sa.Column("username", sa.String(32)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        # Invariant 5: a live account has credentials; a deleted one keeps no personal data.
        sa.CheckConstraint(
            "(deleted_at IS NULL AND username IS NOT NULL AND password_hash IS NOT NULL)"
            " OR (deleted_at IS NOT NULL AND username IS NULL AND password_hash IS NULL"
            " AND email IS NULL AND first_name IS NULL AND last_name IS NULL)",
            name="users_erased_check",
        ),
        sa.CheckConstraint("username = lower(username)", name="users_username_lower_check"),
    )
    # Invariant 5: usernames are stored lowercased and unique (erased ones are NULL).
    op.create_index("users_username_key", "users", ["username"], unique=True)
    op.create_index("users_city_idx", "users", ["city"])

    op.create_table(
        "vehicles",
        _id_column(),
        *_city_columns("vehicles"),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("date_added", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("status", sa.String(16), nullable=False, server_default="available"),
        sa.Column("last_location", sa.String(128)),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("color", sa.String(32), nullable=False),
        sa.Column("brand", sa.String(64), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("type IN ('bike', 'scooter', 'skateboard')", name="vehicles_type_check"),
        sa.CheckConstraint(
            "status IN ('available', 'in_use', 'removed')", name="vehicles_status_check"
        ),
        sa.CheckConstraint(
            "(status = 'removed') = (removed_at IS NOT NULL)", name="vehicles_removed_check"
        ),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180",
            name="vehicles_position_check",
        ),
    )
    op.create_index(
        "vehicles_city_status_idx",
        "vehicles",
        ["city", "status"],
        postgresql_include=["type", "last_location", "color", "brand", "owner_id", "date_added"],
    )
    op.create_index("vehicles_owner_idx", "vehicles", ["owner_id"])

    op.create_table(
        "rides",
        _id_column(),
        *_city_columns("rides"),
        sa.Column("vehicle_id", sa.Uuid(), sa.ForeignKey("vehicles.id"), nullable=False),
        sa.Column("rider_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("start_location", sa.String(128)),
        sa.Column("start_latitude", sa.Float()),
        sa.Column("start_longitude", sa.Float()),
        sa.Column("end_location", sa.String(128)),
        sa.Column("end_latitude", sa.Float()),
        sa.Column("end_longitude", sa.Float()),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("end_time", sa.DateTime(timezone=True)),
        sa.Column("length", sa.Interval(), sa.Computed("end_time - start_time", persisted=True)),
        sa.Column("revenue", sa.Numeric(10, 2)),
        # Invariant 3: a ride cannot end before it starts.
        sa.CheckConstraint(
            "end_time IS NULL OR end_time >= start_time", name="rides_end_after_start_check"
        ),
        sa.CheckConstraint(
            "(end_time IS NULL) = (end_location IS NULL)", name="rides_end_complete_check"
        ),
        sa.CheckConstraint("revenue IS NULL OR revenue >= 0", name="rides_revenue_check"),
    )
    op.create_index("rides_rider_start_idx", "rides", ["rider_id", sa.text("start_time DESC")])
    op.create_index("rides_vehicle_idx", "rides", ["vehicle_id"])
    # Invariant 1: at most one active ride per vehicle (its rides live in its region).
    op.create_index(
        "rides_one_active_per_vehicle",
        "rides",
        ["region", "vehicle_id"],
        unique=True,
        postgresql_where=sa.text("end_time IS NULL"),
    )
    # Invariant 2: at most one active ride per rider, across all regions.
    op.create_index(
        "rides_one_active_per_rider",
        "rides",
        ["rider_id"],
        unique=True,
        postgresql_where=sa.text("end_time IS NULL"),
    )

    if cockroach:
        for table in TABLES:
            op.execute(ddl.cockroach_regional_by_row(table))


@support.autocommit_on_cockroach
def downgrade() -> None:
    """Drop the schema (the database's region configuration is left as it is)."""
    for table in reversed(TABLES):
        op.drop_table(table)
