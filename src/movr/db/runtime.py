"""Which database the process talks to: DATABASE_URL, or the embedded PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from movr.config import ConfigError, Settings, writable_folder
from movr.db.embedded import EmbeddedPostgres, EmbeddedStandby

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "movr"
REPLICA_FOLDER = "replica"


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the URL to use; with no DATABASE_URL, run the embedded server meanwhile (one that
    a live process runs already, e.g. `movr demo`, is used and left running; one that a dead
    process left running is taken over and stopped)."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    server = EmbeddedPostgres(writable_folder(settings.data_dir))
    try:
        # Inside the try: an interruption (Ctrl-C, or `movr demo`'s SIGTERM) while it starts
        # must stop what it started.
        server.start()
        server.ensure_database(EMBEDDED_DATABASE)
        log.info("embedded PostgreSQL running in %s", settings.data_dir)
        yield server.url(EMBEDDED_DATABASE)
    finally:
        if server.owned:
            server.stop()


@contextmanager
def embedded_replica(settings: Settings) -> Iterator[str]:
    """Yield the URL of a hot standby of the embedded database, streaming from it meanwhile.

    Made on first use in `<data folder>/replica` (a copy of the running primary); later runs
    restart it and it catches up. Only for the embedded database: a server of DATABASE_URL has
    its own standbys (MOVR_READ_DATABASE_URL).
    """
    if settings.database_url is not None:
        raise ConfigError(
            "--replica starts a standby of the embedded database: unset DATABASE_URL, or "
            "name your own standby in MOVR_READ_DATABASE_URL"
        )
    standby = EmbeddedStandby(
        settings.data_dir / REPLICA_FOLDER, EmbeddedPostgres(settings.data_dir)
    )
    try:
        standby.start()
        log.info("embedded hot standby running in %s", standby.data_dir)
        yield standby.url(EMBEDDED_DATABASE)
    finally:
        if standby.owned:
            standby.stop()
