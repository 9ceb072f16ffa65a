"""Settings: the only reader of the process environment, validated once at start."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from limits import parse_many

from movr.config_checks import (
    GENERATE_SECRET,
    attribution_problem,
    metrics_dir_problem,
    metrics_token_problem,
    secret_weakness,
    storage_problem,
    tile_url_problem,
)
from movr.regions import RegionMap, RegionMapError

Environment = Literal["production", "development"]
T = TypeVar("T")
LogFormat = Literal["json", "console"]

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "&copy; OpenStreetMap contributors"
# Per client address. Failed logins: enough for typos, not for password guessing. Registrations
# (all attempts): enough for a family or an office behind one address, not for account spam.
DEFAULT_LOGIN_RATE_LIMIT = "10 per minute;100 per hour"
DEFAULT_REGISTER_RATE_LIMIT = "30 per minute;300 per hour"
# Per account, from any address: short windows only, so guessing locks a victim out briefly.
DEFAULT_ACCOUNT_RATE_LIMIT = "10 per minute"
_SECRET_KEY_FILE = "secret_key"  # noqa: S105 -- a file name, not a secret


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def writable_folder(path: Path, variable: str = "MOVR_DATA_DIR") -> Path:
    """Create the folder `path` names if missing and check that this process can write there;
    ConfigError naming `variable` otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        # Modes, read-only mounts and ACLs are only known by trying (and root ignores modes).
        with tempfile.TemporaryFile(dir=path):
            pass
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"{variable}: {path} is not a folder") from None
    except OSError as error:
        raise ConfigError(
            f"{variable}: cannot write in {path} ({error.strerror or error})"
        ) from None
    return path


# Rate-limit counters in MovR's own database, shared by all workers and instances of a region
# (web/limit_storage.py); any other value is a Flask-Limiter storage URI (memory://, redis://).
DATABASE_STORAGE = "database"


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
        region_map = _region_map(env)
        region = env.get("MOVR_REGION") or region_map.primary_region
        if region not in region_map.regions:
            raise ConfigError(
                f"MOVR_REGION: {region!r} is not in the region map "
                f"({', '.join(region_map.regions)})"
            )
        return cls(
            environment=environment,
            data_dir=data_dir,
            database_url=_database_url(env, "DATABASE_URL"),
            secret_key=_secret_key(env, environment, data_dir),
            region_map=region_map,
            region=region,
            region_urls=_region_urls(env, region_map),
            login_rate_limit=_rate_limit(env, "MOVR_RATE_LIMITS", DEFAULT_LOGIN_RATE_LIMIT),
            register_rate_limit=_rate_limit(
                env, "MOVR_REGISTER_RATE_LIMITS", DEFAULT_REGISTER_RATE_LIMIT
            ),
            rate_limit_storage=_rate_limit_storage(env),
            tile_url=_checked(
                "MOVR_TILE_URL",
                (env.get("MOVR_TILE_URL") or DEFAULT_TILE_URL).strip(),
                tile_url_problem,
            ),
            tile_attribution=_checked(
                "MOVR_TILE_ATTRIBUTION",
                (env.get("MOVR_TILE_ATTRIBUTION") or DEFAULT_TILE_ATTRIBUTION).strip(),
                attribution_problem,
            ),
            log_format=_choice(  # type: ignore[arg-type]
                env,
                "MOVR_LOG_FORMAT",
                ("json", "console"),
                "console" if environment == "development" else "json",
            ),
            log_level=_choice(
                env, "MOVR_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", upper=True
            ),
            retry=RetryPolicy(max_attempts=_int(env, "MOVR_TX_MAX_ATTEMPTS", 10, minimum=1)),
            statement_timeout_ms=_int(env, "MOVR_STATEMENT_TIMEOUT_MS", 5000, minimum=0),
            bounds=_bounds(env),
            pool_size=_int(env, "MOVR_DB_POOL_SIZE", 10, minimum=1),
            follower_reads=_follower_reads(env),
            read_database_url=_database_url(env, "MOVR_READ_DATABASE_URL"),
            max_replica_lag_ms=_int(env, "MOVR_MAX_REPLICA_LAG_MS", 1000, minimum=0),
            replica_wait_ms=_int(env, "MOVR_REPLICA_WAIT_MS", 500, minimum=0, maximum=10_000),
            proxy_hops=_int(env, "MOVR_PROXY_HOPS", 0, minimum=0),
            forwarded_for_hops=_int(
                env,
                "MOVR_FORWARDED_FOR_HOPS",
                _int(env, "MOVR_PROXY_HOPS", 0, minimum=0),
                minimum=0,
            ),
            port=_int(env, "PORT", 8000, minimum=1, maximum=65535),
            token_ttl=timedelta(hours=_int(env, "MOVR_TOKEN_TTL_HOURS", 24, minimum=1)),
            account_login_rate_limit=_account_rate_limit(env),
            max_api_tokens=_int(env, "MOVR_MAX_API_TOKENS", 10, minimum=1, maximum=1000),
            session_idle=timedelta(
                minutes=_int(env, "MOVR_SESSION_IDLE_MINUTES", 60, minimum=1, maximum=12 * 60)
            ),
            idempotency_ttl=timedelta(hours=_int(env, "MOVR_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)),
            web_concurrency=_int(env, "WEB_CONCURRENCY", 2 * (os.cpu_count() or 1), minimum=1),
            threads=_int(env, "MOVR_THREADS", 4, minimum=1),
            metrics_token=_checked(
                "MOVR_METRICS_TOKEN", env.get("MOVR_METRICS_TOKEN") or None, metrics_token_problem
            ),
            metrics_dir=_checked("PROMETHEUS_MULTIPROC_DIR", _path(env), metrics_dir_problem),
            db_pre_ping=_bool(env, "MOVR_DB_PRE_PING", default=False),
        )


def _bounds(env: Mapping[str, str]) -> Bounds:
    """The deadlines, each below the one it serves: lock wait ≤ statement < request."""
    # At least 3 s: opening a database connection may take 2 s of it (libpq's shortest
    # connect_timeout, db/deadlines.py), and a shorter deadline could never reconnect.
    request = _int(env, "MOVR_REQUEST_TIMEOUT_MS", 10_000, minimum=3000)
    statement = _int(env, "MOVR_STATEMENT_TIMEOUT_MS", 5000, minimum=0)
    bounds = Bounds(
        request_ms=request,
        lock_timeout_ms=_int(env, "MOVR_LOCK_TIMEOUT_MS", 4000, minimum=0),
        idle_in_transaction_ms=_int(env, "MOVR_IDLE_IN_TRANSACTION_TIMEOUT_MS", 10_000, minimum=0),
        pool_timeout_ms=_int(env, "MOVR_DB_POOL_TIMEOUT_MS", 2000, minimum=1),
        keepalives_idle_s=_int(env, "MOVR_DB_KEEPALIVES_IDLE_S", 10, minimum=1),
        keepalives_interval_s=_int(env, "MOVR_DB_KEEPALIVES_INTERVAL_S", 3, minimum=1),
        keepalives_count=_int(env, "MOVR_DB_KEEPALIVES_COUNT", 3, minimum=1),
        tcp_user_timeout_ms=_int(env, "MOVR_DB_TCP_USER_TIMEOUT_MS", 10_000, minimum=0),
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
    if _choice(env, "MOVR_ENV", ("production", "development"), "production") == "development":
        return "development"
    return "production"


def _region_map(env: Mapping[str, str]) -> RegionMap:
    path = env.get("MOVR_REGION_MAP")
    if not path:
        return RegionMap.default()
    try:
        return RegionMap.from_file(Path(path))
    except RegionMapError as exc:
        raise ConfigError(f"MOVR_REGION_MAP: {exc}") from exc


def _database_url(env: Mapping[str, str], name: str) -> str | None:
    url = env.get(name)
    if not url:
        return None
    scheme = url.split("://", 1)[0]
    if scheme in ("postgres", "postgresql"):
        # Bare URLs (as printed by cloud consoles) mean psycopg 3, the driver MovR ships with.
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if scheme == "cockroachdb":
        return "cockroachdb+psycopg://" + url.split("://", 1)[1]
    if scheme not in ("postgresql+psycopg", "cockroachdb+psycopg"):
        raise ConfigError(
            f"{name}: expected postgresql+psycopg://… or cockroachdb+psycopg://…, "
            f"got scheme {scheme!r}"
        )
    return url


def _follower_reads(env: Mapping[str, str]) -> bool:
    """Follower reads exist on CockroachDB only; elsewhere the setting would silently do nothing."""
    wanted = _bool(env, "MOVR_FOLLOWER_READS", default=False)
    if not wanted:
        return False
    url = _database_url(env, "DATABASE_URL") or ""
    if not url.startswith("cockroachdb+"):
        raise ConfigError(
            "MOVR_FOLLOWER_READS: needs a CockroachDB DATABASE_URL (cockroachdb://…); "
            "on PostgreSQL set MOVR_READ_DATABASE_URL to a hot standby instead"
        )
    if env.get("MOVR_READ_DATABASE_URL"):
        raise ConfigError("MOVR_FOLLOWER_READS: set it or MOVR_READ_DATABASE_URL, not both")
    return True


def _secret_key(env: Mapping[str, str], environment: Environment, data_dir: Path) -> str:
    key = env.get("SECRET_KEY")
    if key:
        if len(key) < 16:
            raise ConfigError(f"SECRET_KEY: use at least 16 random characters ({GENERATE_SECRET})")
        weakness = secret_weakness(key)
        if weakness is not None and environment == "production":
            raise ConfigError(
                f"SECRET_KEY: {weakness}, so sessions could be forged; "
                f"generate one with: {GENERATE_SECRET}"
            )
        return key
    if environment == "production":
        raise ConfigError(
            "SECRET_KEY: required in production (or set MOVR_ENV=development for a local run)"
        )
    # Development: one random key kept in the data folder, so sessions survive restarts. The
    # folder must be writable anyway (the embedded database, metrics): say so first.
    path = writable_folder(data_dir) / _SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def _region_urls(env: Mapping[str, str], region_map: RegionMap) -> dict[str, str]:
    """Parse `region=https://host,region=https://host`."""
    raw = env.get("MOVR_REGION_URLS", "").strip()
    urls: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        region, sep, url = item.partition("=")
        parts = urlsplit(url.strip())
        if not sep or region.strip() not in region_map.regions:
            raise ConfigError(f"MOVR_REGION_URLS: {item!r} is not region=url for a known region")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"MOVR_REGION_URLS: {url!r} is not an http(s) URL")
        urls[region.strip()] = url.strip().rstrip("/")
    return urls


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str | None:
    """A Flask-Limiter limit string; `MOVR_RATE_LIMITS=off` turns every limit off."""
    if (env.get("MOVR_RATE_LIMITS") or "").strip().lower() == "off":
        return None
    raw = (env.get(name) or default).strip()
    try:
        parse_many(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{name}: {raw!r} is not a rate limit like '10 per minute;100 per hour' or 'off'"
        ) from exc
    return raw


def _account_rate_limit(env: Mapping[str, str]) -> str | None:
    """The per-account login limit: windows of an hour at most, or guessing at an account
    would lock its owner out of new logins for that long."""
    name = "MOVR_ACCOUNT_RATE_LIMITS"
    raw = _rate_limit(env, name, DEFAULT_ACCOUNT_RATE_LIMIT)
    if raw is not None and any(item.get_expiry() > 3600 for item in parse_many(raw)):
        raise ConfigError(f"{name}: {raw!r} has a window over an hour (lockouts must be short)")
    return raw


def _choice(
    env: Mapping[str, str],
    name: str,
    allowed: tuple[str, ...],
    default: str,
    *,
    upper: bool = False,
) -> str:
    value = env.get(name) or default
    value = value.upper() if upper else value.lower()
    if value not in allowed:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ConfigError(f"{name}: {value} must be {bound}")
    return value


def _rate_limit_storage(env: Mapping[str, str]) -> str:
    uri = (env.get("MOVR_RATE_LIMIT_STORAGE") or DATABASE_STORAGE).strip()
    if uri == DATABASE_STORAGE:
        return uri
    return _checked("MOVR_RATE_LIMIT_STORAGE", uri, storage_problem)


def _path(env: Mapping[str, str]) -> Path | None:
    raw = env.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(raw).resolve() if raw else None


def _checked(name: str, value: T, problem: Callable[[T], str | None]) -> T:
    """`value`, unless `problem` finds something wrong with it: then stop, naming `name`."""
    found = problem(value)
    if found is not None:
        raise ConfigError(f"{name}: {found}")
    return value


def _bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if not raw:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: {raw!r} is not true/false")
