"""Idempotency keys name the ride their first request started or ended.

A keyed start or end now writes its key in the ride's own statement (one round trip, no
BEGIN/COMMIT). That statement cannot also hold the HTTP response, which the application renders
from its result, so a successful answer is stored as the ride it made; a replay renders that
ride again (its start, and once ended its end, never change). Refusals keep their stored body.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from movr.db.migrations import support

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@support.autocommit_on_cockroach
def upgrade() -> None:
    """Add idempotency_keys.ride_id (no foreign key: rides are never deleted)."""
    op.add_column("idempotency_keys", sa.Column("ride_id", sa.Uuid()))


@support.autocommit_on_cockroach
def downgrade() -> None:
    """Drop the column (keys that named a ride answer as still in flight)."""
    op.drop_column("idempotency_keys", "ride_id")
