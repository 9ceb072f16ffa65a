"""Engines and session factories built from Settings (SERIALIZABLE on the primary)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from movr.config import Settings
from movr.db.deadlines import bound
from movr.db.reads import ReadRouter
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
    # be one statement (db/units.py).
    autocommit: Units[Connection]  # the pool's own engine (in tests: savepoints)
    # Reads that a replica may serve: the region's replica, or the primary (db/reads.py).
    reads: ReadRouter

    def dispose(self) -> None:
        """Close pooled connections (the replica's too)."""
        self.pooled.dispose()
        if self.reads.replica is not None:
            self.reads.replica.dispose()


def session_options(settings: Settings, url: str, *, role: str = "primary") -> str:
    """Server settings for every connection (libpq `options`) to the primary, to a PostgreSQL
    hot standby (`role="replica"`), or for CockroachDB follower reads (`role="follower"`)."""
    bounds = settings.bounds
    options = [
        f"-c statement_timeout={settings.statement_timeout_ms}",
        f"-c lock_timeout={bounds.lock_timeout_ms}",
        f"-c idle_in_transaction_session_timeout={bounds.idle_in_transaction_ms}",
    ]
    if role == "replica":
        # A hot standby refuses SERIALIZABLE; each autocommit read is one snapshot anyway.
        options.append("-c default_transaction_isolation=repeatable\\ read")
    else:
        # Autocommit statements run at the default level: make it SERIALIZABLE whatever the
        # server's or database's default is.
        options.append("-c default_transaction_isolation=serializable")
    if role == "follower":
        # Every read-only transaction reads AS OF SYSTEM TIME follower_read_timestamp(), and
        # every transaction on these connections is read-only.
        options.append("-c default_transaction_use_follower_reads=on")
        options.append("-c default_transaction_read_only=on")
    if make_url(url).get_backend_name() == "postgresql":
        # At SERIALIZABLE a sequential scan takes a predicate lock on the whole table, so any
        # concurrent write to it can abort the reader; on small tables the planner prefers
        # such scans. PostgreSQL's manual suggests steering it to index scans; every MovR
        # query has one. (CockroachDB has no such locks and no such setting.)
        options.append("-c enable_seqscan=off")
    return " ".join(options)


def create_database(settings: Settings, url: str, read_url: str | None = None) -> Database:
    """Build the engines for `url` (the primary) and for reads: `read_url` (a hot standby;
    default: settings.read_database_url), or CockroachDB follower reads when configured."""
    read_url = read_url or settings.read_database_url
    pooled = _pool(settings, url, role="primary")
    replica = None
    if read_url is not None:
        replica = _pool(settings, read_url, role="replica")
    elif settings.follower_reads and make_url(url).get_backend_name() == "cockroachdb":
        replica = _pool(settings, url, role="follower")
    serializable = pooled.execution_options(isolation_level="SERIALIZABLE")
    return Database(
        engine=serializable,
        pooled=pooled,
        sessions=sessionmaker(serializable, expire_on_commit=False),
        autocommit=pooled,
        reads=ReadRouter(
            pooled,
            replica,
            follower_reads=read_url is None and replica is not None,
            max_lag=settings.max_replica_lag_ms / 1000,
            max_wait=settings.replica_wait_ms / 1000,
        ),
    )


def _pool(settings: Settings, url: str, *, role: str) -> Engine:
    """A pool of autocommit connections to `url`."""
    # Pooled connections live in autocommit, the mode of nearly every request (one statement
    # each); units of work switch theirs to SERIALIZABLE for the checkout. The other way round,
    # every one-statement request paid for switching its connection and back: 11% of an API
    # ride request's instructions (bench/instructions.py).
    bounds = settings.bounds
    engine = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=bounds.pool_timeout_ms / 1000,
        # Recycle before common load-balancer idle timeouts cut connections silently.
        pool_recycle=1800,
        # Off by default: a ping is one more round trip per checkout (70-150 ms between
        # regions). Without it SQLAlchemy drops the whole pool on the first disconnect error,
        # so after a database restart one request per worker fails fast (503) and the rest
        # reconnect.
        pool_pre_ping=settings.db_pre_ping,
        connect_args={
            "application_name": f"movr-{settings.region}",
            # A replica that cannot be reached is skipped: give up on it sooner.
            "connect_timeout": 5 if role == "primary" else 2,
            "options": session_options(settings, url, role=role),
            # Over TCP: notice a peer gone silent (the server's statement_timeout cannot).
            "keepalives": 1,
            "keepalives_idle": bounds.keepalives_idle_s,
            "keepalives_interval": bounds.keepalives_interval_s,
            "keepalives_count": bounds.keepalives_count,
            "tcp_user_timeout": bounds.tcp_user_timeout_ms,
        },
    )
    bound(engine)  # and within a request, its deadline (db/deadlines.py)
    return engine
