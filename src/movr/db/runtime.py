"""Which database the process talks to: DATABASE_URL, or the embedded PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from movr.config import Settings
from movr.db.embedded import EmbeddedPostgres

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "movr"


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the URL to use; with no DATABASE_URL, run the embedded server meanwhile (one that
    was running already, e.g. under `movr demo`, is used and left running)."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    server = EmbeddedPostgres(settings.data_dir)
    ours = server.start()
    try:
        server.ensure_database(EMBEDDED_DATABASE)
        log.info("embedded PostgreSQL running in %s", settings.data_dir)
        yield server.url(EMBEDDED_DATABASE)
    finally:
        if ours:
            server.stop()
