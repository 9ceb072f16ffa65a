"""Settings: the one reader of the process environment (config_*.py parse what it hands them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from movr.config_checks import (
    attribution_problem,
    metrics_dir_problem,
    metrics_token_problem,
    tile_url_problem,
)
from movr.config_database import read_follower_reads, read_psycopg_url
from movr.config_limits import (
    DATABASE_STORAGE,
    DEFAULT_ACCOUNT_RATE_LIMIT,
    DEFAULT_LOGIN_RATE_LIMIT,
    DEFAULT_REGISTER_RATE_LIMIT,
    read_account_rate_limit,
    read_rate_limit,
    read_rate_limit_storage,
)
from movr.config_readers import (
    ConfigError,
    checked,
    read_bool,
    read_choice,
    read_int,
    read_path,
    writable_folder,
)
from movr.config_regions import read_region, read_region_map, read_region_urls
from movr.config_secret import read_secret_key
from movr.regions import RegionMap

# What other modules import from here, wherever it is defined.
__all__ = [
    "DATABASE_STORAGE",
    "DEFAULT_ACCOUNT_RATE_LIMIT",
    "DEFAULT_LOGIN_RATE_LIMIT",
    "DEFAULT_REGISTER_RATE_LIMIT",
    "DEFAULT_TILE_ATTRIBUTION",
    "DEFAULT_TILE_URL",
    "Bounds",
    "ConfigError",
    "Environment",
    "LogFormat",
    "RetryPolicy",
    "Settings",
    "writable_folder",
]

Environment = Literal["production", "development"]
LogFormat = Literal["json", "console"]

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "&copy; OpenStreetMap contributors"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds of the transaction retry loop (full-jitter exponential backoff)."""

    # PostgreSQL's SERIALIZABLE aborts some transactions that merely share index pages, and a
    # retried ride usually succeeds at once: many short, jittered attempts beat a few long ones.
    max_attempts: int = 10
    base_delay: float = 0.01
    max_delay: float = 0.5


@dataclass(frozen=True, slots=True)
class Bounds:
    """How long a request, and each wait for the database inside it, may take."""

    # From the worker's accept (or the connection turning readable) to the response, the wait
    # for a free thread included; the database work of a request is cut off at this deadline.
    request_ms: int = 10_000
    lock_timeout_ms: int = 4000  # server-side: a lock wait gives up before the statement does
    idle_in_transaction_ms: int = 10_000  # server-side: a transaction left open is ended
    pool_timeout_ms: int = 2000  # waiting for a pooled connection
    # TCP (ignored on Unix sockets): a dead peer or a path dropping packets is noticed in
    # keepalives_idle + interval * count seconds when idle, tcp_user_timeout when sending.
    keepalives_idle_s: int = 10
    keepalives_interval_s: int = 3
    keepalives_count: int = 3
    tcp_user_timeout_ms: int = 10_000


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything MovR reads from its environment."""

    environment: Environment
    data_dir: Path
    database_url: str | None  # None: the embedded PostgreSQL in data_dir
    secret_key: str
    region_map: RegionMap
    region: str
    region_urls: Mapping[str, str] = field(default_factory=dict)
    login_rate_limit: str | None = DEFAULT_LOGIN_RATE_LIMIT  # None: rate limits off
    register_rate_limit: str | None = DEFAULT_REGISTER_RATE_LIMIT
    rate_limit_storage: str = DATABASE_STORAGE
    tile_url: str = DEFAULT_TILE_URL
    tile_attribution: str = DEFAULT_TILE_ATTRIBUTION
    log_format: LogFormat = "json"
    log_level: str = "INFO"
    retry: RetryPolicy = RetryPolicy()
    statement_timeout_ms: int = 5000
    bounds: Bounds = Bounds()
    pool_size: int = 10
    follower_reads: bool = False  # CockroachDB: read-mostly requests as follower reads
    read_database_url: str | None = None  # PostgreSQL: the region's hot standby
    max_replica_lag_ms: int = 1000  # a replica further behind is not read
    replica_wait_ms: int = 500  # how long a read waits for the replica to show its own write
    check_units: bool = False  # fail a one-statement unit that sends more (the test suite)
    proxy_hops: int = 0  # how many reverse proxies' X-Forwarded-Proto/Host/Port to trust
    forwarded_for_hops: int = 0  # how many X-Forwarded-For entries they add (GCP's LB adds 2)
    port: int = 8000
    token_ttl: timedelta = timedelta(hours=24)
    account_login_rate_limit: str | None = DEFAULT_ACCOUNT_RATE_LIMIT  # login attempts
    max_api_tokens: int = 10  # live API tokens per account; a new one revokes the oldest
    session_idle: timedelta = timedelta(minutes=60)  # within the 12 h absolute lifetime
    idempotency_ttl: timedelta = timedelta(hours=24)
    web_concurrency: int = 2 * (os.cpu_count() or 1)  # gunicorn worker processes
    threads: int = 4  # gunicorn threads per worker
    metrics_token: str | None = None  # bearer token protecting /metrics, if set
    metrics_dir: Path | None = None  # PROMETHEUS_MULTIPROC_DIR: metrics shared by workers
    db_pre_ping: bool = False

    @property
    def cities(self) -> tuple[str, ...]:
        """Keys of the cities the serving region offers."""
        return tuple(city.id for city in self.region_map.cities(self.region))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, development: bool = False
    ) -> Settings:
        """Read and validate settings; `development` is set by `movr demo`."""
        env = os.environ if environ is None else environ
        environment = _environment(env, development=development)
        data_dir = Path(env.get("MOVR_DATA_DIR") or ".movr").expanduser().resolve()
        region_map = read_region_map(env)
        region = read_region(env, region_map)
        return cls(
            environment=environment,
            data_dir=data_dir,
            database_url=read_psycopg_url(env, "DATABASE_URL"),
            secret_key=read_secret_key(env, data_dir, production=environment == "production"),
            region_map=region_map,
            region=region,
            region_urls=read_region_urls(env, region_map),
            login_rate_limit=read_rate_limit(env, "MOVR_RATE_LIMITS", DEFAULT_LOGIN_RATE_LIMIT),
            register_rate_limit=read_rate_limit(
                env, "MOVR_REGISTER_RATE_LIMITS", DEFAULT_REGISTER_RATE_LIMIT
            ),
            rate_limit_storage=read_rate_limit_storage(env),
            tile_url=checked(
                "MOVR_TILE_URL",
                (env.get("MOVR_TILE_URL") or DEFAULT_TILE_URL).strip(),
                tile_url_problem,
            ),
            tile_attribution=checked(
                "MOVR_TILE_ATTRIBUTION",
                (env.get("MOVR_TILE_ATTRIBUTION") or DEFAULT_TILE_ATTRIBUTION).strip(),
                attribution_problem,
            ),
            log_format=read_choice(  # type: ignore[arg-type]
                env,
                "MOVR_LOG_FORMAT",
                ("json", "console"),
                "console" if environment == "development" else "json",
            ),
            log_level=read_choice(
                env, "MOVR_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", upper=True
            ),
            retry=RetryPolicy(max_attempts=read_int(env, "MOVR_TX_MAX_ATTEMPTS", 10, minimum=1)),
            statement_timeout_ms=read_int(env, "MOVR_STATEMENT_TIMEOUT_MS", 5000, minimum=0),
            bounds=_bounds(env),
            pool_size=read_int(env, "MOVR_DB_POOL_SIZE", 10, minimum=1),
            follower_reads=read_follower_reads(env),
            read_database_url=read_psycopg_url(env, "MOVR_READ_DATABASE_URL"),
            max_replica_lag_ms=read_int(env, "MOVR_MAX_REPLICA_LAG_MS", 1000, minimum=0),
            replica_wait_ms=read_int(env, "MOVR_REPLICA_WAIT_MS", 500, minimum=0, maximum=10_000),
            proxy_hops=read_int(env, "MOVR_PROXY_HOPS", 0, minimum=0),
            forwarded_for_hops=read_int(
                env,
                "MOVR_FORWARDED_FOR_HOPS",
                read_int(env, "MOVR_PROXY_HOPS", 0, minimum=0),
                minimum=0,
            ),
            port=read_int(env, "PORT", 8000, minimum=1, maximum=65535),
            token_ttl=timedelta(hours=read_int(env, "MOVR_TOKEN_TTL_HOURS", 24, minimum=1)),
            account_login_rate_limit=read_account_rate_limit(env),
            max_api_tokens=read_int(env, "MOVR_MAX_API_TOKENS", 10, minimum=1, maximum=1000),
            session_idle=timedelta(
                minutes=read_int(env, "MOVR_SESSION_IDLE_MINUTES", 60, minimum=1, maximum=12 * 60)
            ),
            idempotency_ttl=timedelta(
                hours=read_int(env, "MOVR_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
            ),
            web_concurrency=read_int(env, "WEB_CONCURRENCY", 2 * (os.cpu_count() or 1), minimum=1),
            threads=read_int(env, "MOVR_THREADS", 4, minimum=1),
            metrics_token=checked(
                "MOVR_METRICS_TOKEN", env.get("MOVR_METRICS_TOKEN") or None, metrics_token_problem
            ),
            metrics_dir=checked(
                "PROMETHEUS_MULTIPROC_DIR",
                read_path(env, "PROMETHEUS_MULTIPROC_DIR"),
                metrics_dir_problem,
            ),
            db_pre_ping=read_bool(env, "MOVR_DB_PRE_PING", default=False),
        )


def _bounds(env: Mapping[str, str]) -> Bounds:
    """The deadlines, each below the one it serves: lock wait ≤ statement < request."""
    # At least 3 s: opening a database connection may take 2 s of it (libpq's shortest
    # connect_timeout, db/deadlines.py), and a shorter deadline could never reconnect.
    request = read_int(env, "MOVR_REQUEST_TIMEOUT_MS", 10_000, minimum=3000)
    statement = read_int(env, "MOVR_STATEMENT_TIMEOUT_MS", 5000, minimum=0)
    bounds = Bounds(
        request_ms=request,
        lock_timeout_ms=read_int(env, "MOVR_LOCK_TIMEOUT_MS", 4000, minimum=0),
        idle_in_transaction_ms=read_int(
            env, "MOVR_IDLE_IN_TRANSACTION_TIMEOUT_MS", 10_000, minimum=0
        ),
        pool_timeout_ms=read_int(env, "MOVR_DB_POOL_TIMEOUT_MS", 2000, minimum=1),
        keepalives_idle_s=read_int(env, "MOVR_DB_KEEPALIVES_IDLE_S", 10, minimum=1),
        keepalives_interval_s=read_int(env, "MOVR_DB_KEEPALIVES_INTERVAL_S", 3, minimum=1),
        keepalives_count=read_int(env, "MOVR_DB_KEEPALIVES_COUNT", 3, minimum=1),
        tcp_user_timeout_ms=read_int(env, "MOVR_DB_TCP_USER_TIMEOUT_MS", 10_000, minimum=0),
    )
    # 0 is "no timeout" for the server-side ones, as in PostgreSQL.
    if statement and statement >= request:
        raise ConfigError(
            f"MOVR_STATEMENT_TIMEOUT_MS: {statement} must be below "
            f"MOVR_REQUEST_TIMEOUT_MS ({request}), or no statement could end in time"
        )
    if bounds.lock_timeout_ms and statement and bounds.lock_timeout_ms > statement:
        raise ConfigError(
            f"MOVR_LOCK_TIMEOUT_MS: {bounds.lock_timeout_ms} must not exceed "
            f"MOVR_STATEMENT_TIMEOUT_MS ({statement})"
        )
    if bounds.pool_timeout_ms >= request:
        raise ConfigError(
            f"MOVR_DB_POOL_TIMEOUT_MS: {bounds.pool_timeout_ms} must be below "
            f"MOVR_REQUEST_TIMEOUT_MS ({request})"
        )
    return bounds


def _environment(env: Mapping[str, str], *, development: bool) -> Environment:
    if development:
        return "development"
    if read_choice(env, "MOVR_ENV", ("production", "development"), "production") == "development":
        return "development"
    return "production"
