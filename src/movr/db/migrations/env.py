"""Alembic environment: run by movr.db.migrate, which passes the region map and connection."""

from __future__ import annotations

from typing import Any

from alembic import context

from movr.models import Base

config = context.config

# Both modes alike, so that the rendered script shows the transactions an online run has.
OPTIONS: dict[str, Any] = {
    "target_metadata": Base.metadata,
    "transaction_per_migration": True,
    # sqlalchemy-cockroachdb declares CockroachDB's DDL non-transactional. Online that changes
    # nothing (Alembic still opens a transaction per revision, which the revisions' autocommit
    # blocks leave), but offline it dropped every BEGIN and COMMIT from the CockroachDB script,
    # hiding which statements share a transaction and which run on their own.
    "transactional_ddl": True,
}


def run_offline() -> None:
    """Render SQL for the dialect of the configured URL without connecting."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate through the connection movr.db.migrate opened."""
    context.configure(connection=config.attributes["connection"], **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
