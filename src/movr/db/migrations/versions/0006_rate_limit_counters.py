"""Rate-limit counters in the database, shared by every worker and instance of a region.

Flask-Limiter's `memory://` storage counts in each gunicorn worker's own memory: with four
workers a client got four times the failed logins it was allowed. Counters live with the
serving region (keyed by its first city), so a limit needs no cross-region check.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from movr.db import ddl
from movr.db.migrations import support

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@support.autocommit_on_cockroach
def upgrade() -> None:
    """Create rate_limit_counters; on CockroachDB, home its rows by region."""
    cockroach = support.is_cockroach()
    op.create_table(
        "rate_limit_counters",
        *ddl.city_columns("rate_limit_counters", support.region_map(), cockroach=cockroach),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        # The city first: on CockroachDB the key's region is then part of it (no global check).
        sa.PrimaryKeyConstraint("city", "key", name="rate_limit_counters_pkey"),
    )
    if cockroach:
        op.execute(ddl.cockroach_regional_by_row("rate_limit_counters"))


@support.autocommit_on_cockroach
def downgrade() -> None:
    """Drop the counters (the app then needs MOVR_RATE_LIMIT_STORAGE=memory:// or redis://)."""
    op.drop_table("rate_limit_counters")
