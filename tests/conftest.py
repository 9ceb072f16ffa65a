"""Shared fixtures: one real PostgreSQL per test run, one migrated database per worker,
and per-test isolation by an outer transaction rolled back after each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from movr.config import RetryPolicy, Settings
from movr.db.embedded import EmbeddedPostgres
from movr.db.engine import Database, create_database
from movr.db.migrate import upgrade
from movr.db.reads import ReadRouter
from movr.regions import RegionMap
from movr.services.passwords import fast_hasher
from movr.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA_DIR = Path(os.environ.get("MOVR_TEST_DATA_DIR") or ROOT / ".movr" / "test")
TABLES = "rate_limit_counters, active_rides, idempotency_keys, api_tokens, rides, vehicles, users"


def make_settings(**overrides: object) -> Settings:
    """Settings for tests: development mode, a fixed secret, no rate limits unless asked."""
    env = {
        "MOVR_ENV": "development",
        "SECRET_KEY": "test-secret-key-0123456789",
        "MOVR_DATA_DIR": str(TEST_DATA_DIR),
        "MOVR_RATE_LIMITS": "off",
    }
    # Every one-statement unit the tests run is checked to send one statement.
    settings = _replace(Settings.from_env(env), check_units=True)
    return settings if not overrides else _replace(settings, **overrides)


def _replace(settings: Settings, **overrides: object) -> Settings:
    return replace(settings, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Admin URL of the test PostgreSQL: MOVR_TEST_DATABASE_URL, or the embedded server."""
    configured = os.environ.get("MOVR_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(TEST_DATA_DIR)
    shared = server.is_running()  # another test run started it: leave it running for that run
    try:
        server.start()
    except Exception as exc:  # one clear message instead of an error in every test
        pytest.exit(f"cannot start the embedded PostgreSQL for tests: {exc}", returncode=3)
    yield server.url("postgres")
    if not shared:
        server.stop()


@pytest.fixture(scope="session")
def database_url(server_url: str, worker_id: str) -> Iterator[str]:
    """A freshly created and migrated database for this test worker.

    Named after the process, so that test runs sharing a server never drop each other's
    database; databases of runs that died are dropped here.
    """
    name = f"movr_test_{worker_id}_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for stale in connection.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE 'movr\\_test\\_%'")
        ):
            suffix = stale.rsplit("_", 1)[-1]
            if not suffix.isdigit() or not _process_alive(int(suffix)):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    upgrade(engine, RegionMap.default())
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """pytest-xdist's worker name, or "main" without xdist."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Default test settings (serving region gcp-us-east1)."""
    return make_settings()


@pytest.fixture(scope="session")
def committed_db(settings: Settings, database_url: str) -> Iterator[Database]:
    """A real engine whose transactions commit: for concurrency tests, which clean up."""
    database = create_database(settings, database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def engine(committed_db: Database) -> Engine:
    """The engine behind committed_db."""
    return committed_db.engine


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def db(connection: Connection, committed_db: Database) -> Database:
    """A Database whose every commit is a savepoint inside the test's outer transaction."""
    sessions = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    autocommit = Savepoints(connection)
    return Database(
        engine=connection.engine,
        pooled=committed_db.pooled,  # the pool's own engine: its events see every statement
        sessions=sessions,
        autocommit=autocommit,
        reads=ReadRouter(autocommit),
    )


class Savepoints:
    """Units on the test's connection: each a savepoint inside its outer transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """The connection, inside a fresh savepoint (released at the end, or rolled back)."""
        with self.connection.begin_nested():
            yield self.connection


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session for service tests (isolated like db)."""
    with db.sessions() as session:
        yield session


@pytest.fixture
def clean_tables(committed_db: Database) -> Iterator[Database]:
    """Committed data allowed: every table is emptied after the test."""
    yield committed_db
    with committed_db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} CASCADE"))


@pytest.fixture(scope="session")
def hasher() -> PasswordHasher:
    """Cheap argon2 parameters (production uses the library's defaults)."""
    return fast_hasher()


@pytest.fixture(scope="session")
def region_map() -> RegionMap:
    """The default region map."""
    return RegionMap.default()


@pytest.fixture
def no_sleep_policy() -> RetryPolicy:
    """A retry policy whose backoff is negligible (tests of the loop, not of the timing)."""
    return RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002)


@pytest.fixture
def app(settings: Settings, db: Database, hasher: PasswordHasher) -> Flask:
    """The app bound to the test's transaction."""
    app = create_app(settings, database=db, hasher=hasher)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    """A browser-like client (cookies kept between requests)."""
    with app.test_client() as client:
        yield client
