"""Migrations: PostgreSQL for real (up, down, up), CockroachDB as text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text

from movr.db import migrate
from movr.models import Base
from movr.regions import RegionMap

TABLES = (
    "users",
    "vehicles",
    "rides",
    "api_tokens",
    "idempotency_keys",
    "active_rides",
    "rate_limit_counters",
)


@pytest.fixture
def scratch_engine(server_url: str) -> Iterator[Engine]:
    """An empty database of its own, dropped afterwards."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "movr_migrations" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "movr_migrations"'))
    url = make_url(server_url).set(database="movr_migrations")
    engine = create_engine(url)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE "movr_migrations" WITH (FORCE)'))
    admin.dispose()


def test_postgresql_migrations_go_up_down_and_up_again(
    scratch_engine: Engine, region_map: RegionMap
) -> None:
    migrate.upgrade(scratch_engine, region_map)
    assert migrate.current_revision(scratch_engine) == migrate.head_revision()
    assert {"users", "vehicles", "rides"} <= set(inspect(scratch_engine).get_table_names())
    migrate.downgrade(scratch_engine, region_map, "base")
    assert migrate.current_revision(scratch_engine) is None
    assert "rides" not in inspect(scratch_engine).get_table_names()
    migrate.upgrade(scratch_engine, region_map)
    assert migrate.current_revision(scratch_engine) == migrate.head_revision()


def transactions_of(engine: Engine, work: Callable[[], None]) -> list[list[str]]:
    """The statements `work` sends through `engine`, grouped by the COMMIT that ends them."""
    transactions: list[list[str]] = [[]]

    def executed(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        transactions[-1].append(statement)

    def committed(_conn: Connection) -> None:
        transactions.append([])

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", committed)
    return [statements for statements in transactions if statements]


def is_version_stamp(statement: str) -> bool:
    """True for Alembic's write of a revision into alembic_version."""
    return statement.startswith(("INSERT INTO alembic_version", "UPDATE alembic_version"))


def test_upgrade_commits_each_revision_on_its_own(
    scratch_engine: Engine, region_map: RegionMap
) -> None:
    # One transaction for all revisions is what CockroachDB refuses (a region added in a
    # transaction is not usable before it commits); on PostgreSQL it only hides the problem.
    revisions = list(ScriptDirectory(str(migrate.MIGRATIONS)).walk_revisions())
    transactions = transactions_of(
        scratch_engine, lambda: migrate.upgrade(scratch_engine, region_map)
    )
    stamps = [sum(map(is_version_stamp, statements)) for statements in transactions]
    assert [count for count in stamps if count] == [1] * len(revisions)
    assert migrate.current_revision(scratch_engine) == migrate.head_revision()


def test_postgresql_database_defaults_to_serializable(
    scratch_engine: Engine, region_map: RegionMap
) -> None:
    migrate.upgrade(scratch_engine, region_map)
    scratch_engine.dispose()  # the setting applies to new sessions
    with scratch_engine.connect() as connection:
        assert connection.scalar(text("SHOW default_transaction_isolation")) == "serializable"


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": lambda obj, name, kind, *_: (
                    kind in ("table", "column") and name != "region"
                )
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_cockroachdb_ddl_is_multi_region(region_map: RegionMap) -> None:
    sql = migrate.render_sql("cockroachdb", region_map, "movr")
    assert 'ALTER DATABASE "movr" SET PRIMARY REGION "gcp-us-east1"' in sql
    assert 'ALTER DATABASE "movr" ADD REGION IF NOT EXISTS "gcp-us-west1"' in sql
    assert 'ALTER DATABASE "movr" ADD REGION IF NOT EXISTS "gcp-europe-west1"' in sql
    case = (
        "CASE WHEN city IN ('new york', 'boston', 'washington dc') THEN 'gcp-us-east1' "
        "WHEN city IN ('san francisco', 'seattle', 'los angeles') THEN 'gcp-us-west1' "
        "WHEN city IN ('amsterdam', 'paris', 'rome') THEN 'gcp-europe-west1' "
        "ELSE 'gcp-us-east1' END"
    )
    assert sql.count(f"region crdb_internal_region AS ({case}) STORED NOT NULL") == len(TABLES)
    for table in TABLES:
        assert f'ALTER TABLE "{table}" SET LOCALITY REGIONAL BY ROW AS region' in sql
    assert (
        "CREATE UNIQUE INDEX active_rides_vehicle_key ON active_rides (region, vehicle_id)" in sql
    )
    assert "CREATE UNIQUE INDEX active_rides_rider_key ON active_rides (rider_id)" in sql
    assert 'DROP INDEX "rides"@"rides_one_active_per_rider"' in sql  # CockroachDB's form
    assert "DEFAULT gen_random_uuid()" in sql
    assert "GENERATED ALWAYS" not in sql
    assert "DO $$" not in sql  # PostgreSQL-only statements stay out of the CockroachDB DDL


def transaction_layout(script: str) -> tuple[list[list[str]], list[str]]:
    """The statements of a rendered script: those of each BEGIN … COMMIT, and those outside
    any transaction (each its own implicit transaction when the script is run)."""
    transactions: list[list[str]] = []
    outside: list[str] = []
    current: list[str] | None = None
    for chunk in script.split(";\n"):
        lines = [line for line in chunk.strip().splitlines() if not line.startswith("--")]
        statement = "\n".join(lines).strip()
        if statement == "BEGIN":
            current = []
        elif statement == "COMMIT":
            assert current is not None, "COMMIT without BEGIN"
            transactions.append(current)
            current = None
        elif statement:
            (outside if current is None else current).append(statement)
    assert current is None, "BEGIN without COMMIT"
    return transactions, outside


def is_schema_change(statement: str) -> bool:
    """True for DDL (CREATE, ALTER, DROP)."""
    return statement.startswith(("CREATE ", "ALTER ", "DROP "))


def test_cockroachdb_script_shows_each_revisions_transaction(region_map: RegionMap) -> None:
    transactions, _ = transaction_layout(migrate.render_sql("cockroachdb", region_map))
    revisions = list(ScriptDirectory(str(migrate.MIGRATIONS)).walk_revisions())
    stamps = [sum(map(is_version_stamp, statements)) for statements in transactions]
    assert [count for count in stamps if count] == [1] * len(revisions)


def test_cockroachdb_schema_changes_never_share_a_transaction(region_map: RegionMap) -> None:
    # CockroachDB guarantees a schema change's atomicity only alone in its transaction, cannot
    # use a region before its ADD REGION commits, and must not mix schema changes and writes.
    transactions, outside = transaction_layout(migrate.render_sql("cockroachdb", region_map))
    assert transactions, "the script shows no transaction boundaries"
    for statements in transactions:
        assert len(statements) == 1 or not any(map(is_schema_change, statements)), statements
    regions = [statement for statement in outside if statement.startswith("ALTER DATABASE")]
    assert regions[0] == 'ALTER DATABASE "movr" SET PRIMARY REGION "gcp-us-east1"'
    assert len(regions) == len(region_map.regions)
    localities = [statement for statement in outside if "SET LOCALITY" in statement]
    assert len(localities) == len(TABLES)
    assert any(statement.startswith("INSERT INTO active_rides") for statement in outside)


def test_postgresql_script_keeps_each_revision_in_one_transaction(region_map: RegionMap) -> None:
    transactions, outside = transaction_layout(migrate.render_sql("postgresql", region_map))
    assert outside == []
    assert [sum(map(is_version_stamp, statements)) for statements in transactions] == [1] * len(
        transactions
    )


def test_postgresql_ddl_uses_generated_text_region(region_map: RegionMap) -> None:
    sql = migrate.render_sql("postgresql", region_map)
    assert sql.count("region TEXT GENERATED ALWAYS AS (CASE WHEN city IN") == len(TABLES)
    assert "LOCALITY" not in sql
    assert "crdb_internal_region" not in sql
    assert "default_transaction_isolation" in sql


def test_ddl_follows_a_replaced_region_map() -> None:
    custom = RegionMap.from_mapping(
        {
            "aws-eu-central1": [
                {
                    "city": "berlin",
                    "name": "Berlin",
                    "lat": 52.5,
                    "lng": 13.4,
                    "tz": "Europe/Berlin",
                }
            ]
        }
    )
    sql = migrate.render_sql("cockroachdb", custom)
    assert 'SET PRIMARY REGION "aws-eu-central1"' in sql
    assert "CHECK (city IN ('berlin'))" in sql
