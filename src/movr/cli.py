"""The `movr` command: demo, serve, database tasks."""

from __future__ import annotations

import logging
import os
import signal
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import click
from sqlalchemy import Connection, Engine

from movr.chaos.command import chaos
from movr.config import ConfigError, RetryPolicy, Settings
from movr.db import migrate
from movr.db.engine import create_database
from movr.db.runtime import database_url, embedded_replica
from movr.db.transaction import run_in_transaction
from movr.demo_lifetime import DemoLifetime
from movr.front import HAPROXY, render_front
from movr.loadgen.command import load
from movr.seeding import demo_logins, prepare_database
from movr.services import retention
from movr.simulation.command import global_command
from movr.web.server import launch


def _settings(*, development: bool = False, port: int | None = None) -> Settings:
    settings = Settings.from_env(development=development)
    if port is not None:
        settings = replace(settings, port=port)
    return settings


class _Commands(click.Group):
    """The command group; a ConfigError, whenever a command meets it (reading the environment,
    or later, e.g. an unwritable MOVR_DATA_DIR), ends it with one line naming the variable."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(f"configuration error: {error}") from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """MovR: a global vehicle-sharing application on CockroachDB or PostgreSQL."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: $PORT or 8000).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--replica",
    is_flag=True,
    help="Also run a streaming hot standby of the embedded database and read from it.",
)
def demo(port: int | None, host: str, replica: bool) -> None:
    """Start the embedded database (unless DATABASE_URL), migrate, seed, and serve."""
    settings = _settings(development=True, port=port)
    if replica and settings.database_url is not None:
        raise click.ClickException(
            "--replica starts a standby of the embedded database: unset DATABASE_URL "
            "(your own server's standby goes in MOVR_READ_DATABASE_URL)"
        )
    # The lifetime is entered first and left last: it covers starting and stopping the database.
    with DemoLifetime(settings) as lifetime, ExitStack() as running:
        url = running.enter_context(database_url(settings))
        _prepare(settings, url, seed_data=True)
        if replica:
            read_url = running.enter_context(embedded_replica(settings))
            settings = replace(settings, read_database_url=read_url)
        click.echo(_banner(settings, host))
        lifetime.served(launch(settings, url, host=host))
    click.echo(lifetime.farewell(replica=replica))
    if lifetime.exit_status():
        raise SystemExit(lifetime.exit_status())


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: $PORT or 8000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")  # noqa: S104
def serve(port: int | None, host: str) -> None:
    """Serve MovR with gunicorn (run `movr db upgrade` first). Never expose it without a
    buffering front (`movr front`): slow clients would hold every thread."""
    settings = _settings(port=port)
    with database_url(settings) as url:
        status = launch(settings, url, host=host)
    if status not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise SystemExit(status)


@main.command()
@click.option(
    "--listen", default="0.0.0.0:8080", show_default=True, help="Address:port for clients."
)
@click.option(
    "--backend",
    "backends",
    multiple=True,
    help="host:port of a `movr serve` (repeatable; default: 127.0.0.1:$PORT).",
)
@click.option("--print", "print_only", is_flag=True, help="Print HAProxy's configuration only.")
def front(listen: str, backends: tuple[str, ...], print_only: bool) -> None:
    """Run HAProxy in front of `movr serve`: it reads whole requests before MovR sees them."""
    settings = _settings(development=True)
    config = render_front(
        listen,
        backends or (f"127.0.0.1:{settings.port}",),
        per_server=settings.web_concurrency * settings.threads,
        request_ms=settings.bounds.request_ms,
    )
    if print_only:
        click.echo(config, nl=False)
        return
    if not Path(HAPROXY).exists():
        raise click.ClickException(
            "HAProxy is missing: install Debian's package (apt-get install haproxy)"
        )
    path = settings.data_dir / "front.cfg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config, encoding="utf-8")
    os.execv(HAPROXY, [HAPROXY, "-db", "-f", str(path)])  # noqa: S606 -- HAProxy, our config


@main.group()
def db() -> None:
    """Database tasks: upgrade, seed, purge, sql."""


@db.command()
def upgrade() -> None:
    """Apply all migrations (embedded database unless DATABASE_URL)."""
    settings = _settings(development=True)
    with database_url(settings) as url:
        _prepare(settings, url, seed_data=False)
    click.echo(f"database at revision {migrate.head_revision()}")


@db.command()
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=retention.DEFAULT_BATCH,
    show_default=True,
    help="Rows deleted per statement.",
)
def purge(batch_size: int) -> None:
    """Delete expired Idempotency-Keys, dead tokens and ended rate-limit windows (run daily;
    safe while MovR serves)."""
    # A batch on a large backlog may take longer than a request may (the timeout of 0 is none).
    settings = replace(_settings(development=True), statement_timeout_ms=0)
    with database_url(settings) as url:
        database = create_database(settings, url)
        # Deleting rows that no request reads anymore needs no serializable snapshot; at
        # SERIALIZABLE, PostgreSQL's scan of the table would take a table-wide predicate lock
        # and abort concurrent logins and ride actions.
        read_committed = database.pooled.execution_options(isolation_level="READ COMMITTED")
        try:
            for kind in retention.PURGES:
                total = _purge(read_committed, kind, batch_size, settings.retry)
                click.echo(f"{kind}: {total} deleted")
        finally:
            database.dispose()


@db.command("seed")
def seed_command() -> None:
    """Add deterministic demo data in every city not seeded yet (none in a database whose
    users include no demo login)."""
    settings = _settings(development=True)
    with database_url(settings) as url:
        _prepare(settings, url, seed_data=True)


@db.command()
@click.option(
    "--dialect",
    type=click.Choice(["postgresql", "cockroachdb"]),
    default="postgresql",
    show_default=True,
)
@click.option(
    "--database", default="movr", show_default=True, help="Database name for ALTER DATABASE."
)
def sql(dialect: str, database: str) -> None:
    """Print the DDL of all migrations for a dialect (no database needed)."""
    settings = _settings(development=True)
    click.echo(migrate.render_sql(dialect, settings.region_map, database))


def _purge(units: Engine, kind: str, batch_size: int, policy: RetryPolicy) -> int:
    """Delete every dead row of `kind`, a batch (one statement) at a time; how many went."""

    def batch(connection: Connection) -> int:
        return retention.purge_batch(connection, kind, batch_size)

    total = 0
    while True:
        gone = run_in_transaction(units, batch, operation="purge", policy=policy)
        total += gone
        if gone < batch_size:
            return total


def _prepare(settings: Settings, url: str, *, seed_data: bool) -> None:
    prepare_database(settings, url, seed_data=seed_data, progress=click.echo)


def _banner(settings: Settings, host: str) -> str:
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    lines = [
        "",
        f"MovR is serving region {settings.region} at http://{shown_host}:{settings.port}/",
        *(
            ["Reads go to a streaming hot standby (read-your-writes: see docs/deploy.md)."]
            if settings.read_database_url
            else []
        ),
        "Demo logins (password for all: " + demo_logins(settings.region_map)[0].password + "):",
    ]
    lines += [
        f"  {login.username:<24} home city {login.city}"
        for login in demo_logins(settings.region_map)
    ]
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)


main.add_command(load)
main.add_command(chaos)
main.add_command(global_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
