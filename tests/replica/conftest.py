"""A real primary and a real hot standby (streaming replication), held behind on purpose.

The standby replays WAL only after APPLY_DELAY (`recovery_min_apply_delay`), so every write is
missing there for a second: a read that shows it proves read-your-writes did its work.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import Engine, create_engine, text

from movr.config import Settings
from movr.db.embedded import EmbeddedPostgres, EmbeddedStandby
from movr.db.engine import Database, create_database
from movr.db.migrate import upgrade
from movr.db.reads import HEALTH_TTL
from movr.regions import RegionMap
from movr.web.app import create_app
from tests.conftest import TABLES, TEST_DATA_DIR, make_settings

APPLY_DELAY_MS = 1000
DATABASE = "movr"


@dataclass
class Replicated:
    """The two servers and an admin engine on each."""

    primary: EmbeddedPostgres
    standby: EmbeddedStandby
    primary_url: str
    standby_url: str
    primary_admin: Engine
    standby_admin: Engine

    def caught_up(self, timeout: float = 10.0) -> None:
        """Wait until the standby has replayed everything the primary wrote so far."""
        with self.primary_admin.connect() as connection:
            lsn = connection.scalar(text("SELECT pg_current_wal_lsn()"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.standby_admin.connect() as connection:
                done = connection.scalar(
                    text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}
                )
            if done:
                time.sleep(HEALTH_TTL)  # the app's last look at the replica is stale by now
                return
            time.sleep(0.05)
        raise AssertionError("the standby did not catch up")


@pytest.fixture(scope="session")
def replicated(worker_id: str) -> Iterator[Replicated]:
    """A primary with MovR's schema and a standby APPLY_DELAY_MS behind it, made afresh.

    Not under pytest's temporary folders: pytest resets their modes to 0700 while the servers,
    running as another user, still need to reach their files by absolute path.
    """
    root = TEST_DATA_DIR / f"replicated-{worker_id}"
    primary = EmbeddedPostgres(root / "primary")
    standby = EmbeddedStandby(root / "standby", primary, apply_delay_ms=APPLY_DELAY_MS)
    for server in (standby, primary):
        server.stop()  # left running by a run that was killed
    shutil.rmtree(root, ignore_errors=True)
    try:
        primary.start()
        primary.ensure_database(DATABASE)
        primary_url = primary.url(DATABASE)
        migrated = create_engine(primary_url)
        upgrade(migrated, RegionMap.default())
        migrated.dispose()
        standby.start()
        servers = Replicated(
            primary,
            standby,
            primary_url,
            standby.url(DATABASE),
            # Pings: the tests stop and restart the standby under these engines.
            create_engine(primary_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True),
            create_engine(
                standby.url(DATABASE),
                isolation_level="AUTOCOMMIT",
                pool_pre_ping=True,
                # The database's own default (serializable) is refused on a hot standby.
                connect_args={"options": "-c default_transaction_isolation=repeatable\\ read"},
            ),
        )
        servers.caught_up()
        yield servers
        servers.primary_admin.dispose()
        servers.standby_admin.dispose()
    finally:
        standby.stop()
        primary.stop()


def replica_settings(**overrides: object) -> Settings:
    """Test settings for an app that reads from the standby: by default the lag bound is
    generous, so that reads wait for the replica rather than skip it."""
    values: dict[str, object] = {"max_replica_lag_ms": 60_000, "replica_wait_ms": 5_000}
    return make_settings(**(values | overrides))


@pytest.fixture
def replica_db(replicated: Replicated) -> Iterator[Database]:
    """A Database whose reads go to the standby; every table is emptied afterwards."""
    database = create_database(replica_settings(), replicated.primary_url, replicated.standby_url)
    yield database
    database.dispose()
    with replicated.primary_admin.connect() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} CASCADE"))
    replicated.caught_up()


def app_on(database: Database, hasher: PasswordHasher, settings: Settings | None = None) -> Flask:
    """The app on `database` (committing for real)."""
    app = create_app(settings or replica_settings(), database=database, hasher=hasher)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def replica_app(replica_db: Database, hasher: PasswordHasher) -> Flask:
    """The app, reading from the standby."""
    return app_on(replica_db, hasher)


@pytest.fixture
def pages(replica_app: Flask) -> Iterator[FlaskClient]:
    """A pages-like client of the app that reads from the standby."""
    with replica_app.test_client() as client:
        yield client


def reads_served(by: str) -> float:
    """How many reads ran on `by` so far (the process's metrics)."""
    labels = {"region": "gcp-us-east1", "served_by": by}
    return REGISTRY.get_sample_value("movr_reads_total", labels) or 0.0


def fallbacks(reason: str) -> float:
    """How many reads went to the primary for `reason` so far."""
    labels = {"region": "gcp-us-east1", "reason": reason}
    return REGISTRY.get_sample_value("movr_replica_fallbacks_total", labels) or 0.0


def standby_data_dir(replicated: Replicated) -> Path:
    """Where the standby lives (to restart it)."""
    return replicated.standby.data_dir
