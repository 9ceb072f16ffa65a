"""Tokens have a kind: an API bearer token, or a browser session's token.

A session's token was accepted as a bearer token (and a bearer token could be planted as a
session): one copied cookie then gave the API without CSRF. Each kind is now accepted only
from its own place, checked by the statement that resolves the token. Tokens issued before
this revision become API tokens: browser sessions of that time end (their owners log in again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from movr.db.migrations import support

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "api_tokens_kind_check"


@support.autocommit_on_cockroach
def upgrade() -> None:
    """Add api_tokens.kind ('api' or 'session'; existing rows: 'api')."""
    op.add_column(
        "api_tokens",
        sa.Column("kind", sa.String(16), nullable=False, server_default=sa.text("'api'")),
    )
    op.create_check_constraint(CHECK, "api_tokens", "kind IN ('api', 'session')")


@support.autocommit_on_cockroach
def downgrade() -> None:
    """Drop the kind (every token is then accepted from either place again)."""
    op.drop_constraint(CHECK, "api_tokens", type_="check")
    op.drop_column("api_tokens", "kind")
