"""Run Alembic migrations programmatically: `movr db upgrade`, `movr db sql`, readiness."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, make_url, text

from movr.db.units import fresh_read
from movr.regions import RegionMap

MIGRATIONS = Path(__file__).parent / "migrations"
# Offline rendering needs a URL only for its dialect; nothing connects to it.
OFFLINE_URLS = {
    "postgresql": "postgresql+psycopg://movr@localhost/movr",
    "cockroachdb": "cockroachdb+psycopg://movr@localhost/movr",
}


def _config(region_map: RegionMap, database_name: str, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["region_map"] = region_map
    config.attributes["database_name"] = database_name
    return config


def upgrade(engine: Engine, region_map: RegionMap, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision`."""
    with engine.connect() as connection:
        # Schema changes (CockroachDB region changes especially) may outlast the per-request
        # statement and lock timeouts the engine sets.
        connection.exec_driver_sql("SET statement_timeout = 0")
        connection.exec_driver_sql("SET lock_timeout = 0")
        # The SET began a transaction (the connection is not in autocommit); commit it, the
        # setting stays for the session. Finding a transaction open, Alembic would run every
        # revision inside it instead of one transaction each, and CockroachDB cannot use a
        # region it adds, nor change a table's locality, before the ADD REGION commits.
        connection.commit()
        config = _config(region_map, engine.url.database or "movr")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def downgrade(engine: Engine, region_map: RegionMap, revision: str) -> None:
    """Migrate the database behind `engine` down to `revision` ("base" drops everything)."""
    with engine.connect() as connection:
        config = _config(region_map, engine.url.database or "movr")
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def render_sql(dialect: str, region_map: RegionMap, database_name: str = "movr") -> str:
    """The DDL of all migrations for `dialect`, as text (no database needed)."""
    url = make_url(OFFLINE_URLS[dialect]).set(database=database_name)
    config = _config(region_map, database_name, url.render_as_string(hide_password=False))
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, "head", sql=True)
    return buffer.getvalue()


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@fresh_read
def schema_revision(connection: Connection) -> str | None:
    """The revision the database is at, in one read (readiness checks; Alembic's own way
    first asks whether its table exists: a second statement)."""
    revision: str | None = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return revision
