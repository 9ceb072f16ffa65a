"""What revisions read from the Alembic context set up by movr.db.migrate."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from alembic import op

from movr.regions import RegionMap

# Written into the rendered CockroachDB script where a revision's statements begin, so that
# whoever reviews it sees why no BEGIN surrounds them.
OUTSIDE_TRANSACTIONS = "-- CockroachDB: no transaction; each statement below commits on its own"


def attribute(name: str) -> Any:
    """A value movr.db.migrate put on the Alembic config (region map, database name)."""
    config = op.get_context().config
    if config is None:
        raise RuntimeError("run migrations through movr.db.migrate")
    return config.attributes[name]


def region_map() -> RegionMap:
    """The region map the schema is generated for."""
    value: RegionMap = attribute("region_map")
    return value


def drop_index(name: str, table: str) -> None:
    """Drop an index, in CockroachDB's documented `table@index` form where needed."""
    if is_cockroach():
        op.execute(f'DROP INDEX "{table}"@"{name}"')
    else:
        op.drop_index(name, table_name=table)


def is_cockroach() -> bool:
    """True when migrating (or rendering SQL for) CockroachDB."""
    return op.get_context().dialect.name == "cockroachdb"


def autocommit_on_cockroach(migration: Callable[[], None]) -> Callable[[], None]:
    """Run a revision's upgrade or downgrade, on CockroachDB, in an Alembic autocommit block.

    Each statement is then a transaction of its own there. CockroachDB guarantees a schema
    change's atomicity only alone in its transaction; a region it adds is not public, so
    neither usable in a CASE nor compatible with SET LOCALITY, until the ADD REGION commits;
    and a transaction must not mix schema changes with writes (a schema change can fail after
    its transaction's writes committed). Alembic's version stamp follows in a transaction of
    its own, so a revision is recorded only once all its statements have committed; one that
    fails midway leaves its earlier statements applied. On PostgreSQL nothing changes: the
    revision and its stamp commit together or not at all.
    """

    @functools.wraps(migration)
    def run() -> None:
        if not is_cockroach():
            migration()
            return
        context = op.get_context()
        with context.autocommit_block():
            if context.as_sql:
                context.impl.static_output(OUTSIDE_TRANSACTIONS)
            migration()

    return run
