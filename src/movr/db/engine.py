"""Engines and session factories built from Settings (SERIALIZABLE everywhere)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from movr.config import Settings
from movr.db.transaction import Units


@dataclass(frozen=True, slots=True)
class Database:
    """One connection pool and the ways MovR talks through it."""

    # Units of work, migrations, scripts: BEGIN … COMMIT at SERIALIZABLE.
    engine: Engine
    # The engine that owns the pool, its connections in autocommit. Events listened to on it
    # fire for every statement sent through the pool, by this engine or by `engine`.
    pooled: Engine
    sessions: sessionmaker[Session]
    # Single-statement units in autocommit: one round trip, no BEGIN/COMMIT. Each statement is
    # its own implicit transaction (serializable: see session_options), so such a unit must
    # be one statement: on a Connection, or on a Session when it loads ORM objects.
    autocommit: Units[Connection]  # the pool's own engine (in tests: savepoints)
    autocommit_sessions: sessionmaker[Session]

    @property
    def is_cockroachdb(self) -> bool:
        """True when the dialect is CockroachDB (multi-region SQL is only valid there)."""
        return self.engine.dialect.name == "cockroachdb"

    def dispose(self) -> None:
        """Close pooled connections."""
        self.pooled.dispose()


def session_options(settings: Settings, url: str) -> str:
    """Server settings for every connection (libpq `options`)."""
    options = [
        f"-c statement_timeout={settings.statement_timeout_ms}",
        # Autocommit statements run at the default level: make it SERIALIZABLE whatever the
        # server's or database's default is.
        "-c default_transaction_isolation=serializable",
    ]
    if make_url(url).get_backend_name() == "postgresql":
        # At SERIALIZABLE a sequential scan takes a predicate lock on the whole table, so any
        # concurrent write to it can abort the reader; on small tables the planner prefers
        # such scans. PostgreSQL's manual suggests steering it to index scans; every MovR
        # query has one. (CockroachDB has no such locks and no such setting.)
        options.append("-c enable_seqscan=off")
    return " ".join(options)


def create_database(settings: Settings, url: str) -> Database:
    """Build the engine for `url` with MovR's pool, timeout and isolation settings."""
    # Pooled connections live in autocommit, the mode of nearly every request (one statement
    # each); units of work switch theirs to SERIALIZABLE for the checkout. The other way round,
    # every one-statement request paid for switching its connection and back: 11% of an API
    # ride request's instructions (bench/instructions.py).
    pooled = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=10,
        # Recycle before common load-balancer idle timeouts cut connections silently.
        pool_recycle=1800,
        # Off by default: a ping is one more round trip per checkout (70-150 ms between
        # regions). Without it SQLAlchemy drops the whole pool on the first disconnect error,
        # so after a database restart one request per worker fails fast (503) and the rest
        # reconnect.
        pool_pre_ping=settings.db_pre_ping,
        connect_args={
            "application_name": f"movr-{settings.region}",
            "connect_timeout": 5,
            "options": session_options(settings, url),
        },
    )
    serializable = pooled.execution_options(isolation_level="SERIALIZABLE")
    return Database(
        engine=serializable,
        pooled=pooled,
        sessions=sessionmaker(serializable, expire_on_commit=False),
        autocommit=pooled,
        autocommit_sessions=sessionmaker(pooled, expire_on_commit=False),
    )
