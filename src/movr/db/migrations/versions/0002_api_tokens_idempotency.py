"""API bearer tokens and idempotency keys, homed with their user's city.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from movr.db import ddl
from movr.db.migrations import support

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("api_tokens", "idempotency_keys")


@support.autocommit_on_cockroach
def upgrade() -> None:
    """Create both tables; on CockroachDB, home their rows by region."""
    cockroach = support.is_cockroach()
    region_map = support.region_map()
    now = sa.text("now()")
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True, server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        *ddl.city_columns("api_tokens", region_map, cockroach=cockroach),
        # Only a SHA-256 of the token is kept: a database leak reveals no usable token.
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("api_tokens_token_hash_key", "api_tokens", ["token_hash"], unique=True)
    op.create_index("api_tokens_user_idx", "api_tokens", ["user_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        *ddl.city_columns("idempotency_keys", region_map, cockroach=cockroach),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer()),
        sa.Column("response_body", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    if cockroach:
        for table in TABLES:
            op.execute(ddl.cockroach_regional_by_row(table))


@support.autocommit_on_cockroach
def downgrade() -> None:
    """Drop both tables."""
    for table in reversed(TABLES):
        op.drop_table(table)
