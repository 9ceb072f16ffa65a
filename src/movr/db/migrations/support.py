"""What revisions read from the Alembic context set up by movr.db.migrate."""

from __future__ import annotations

from typing import Any

from alembic import op

from movr.regions import RegionMap


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
