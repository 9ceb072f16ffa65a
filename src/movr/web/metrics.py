"""Prometheus metrics, correct with several gunicorn workers (multiprocess mode)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, event

from movr.config import Settings
from movr.db.reads import ReplicaState
from movr.db.transaction import LoggingListener

__all__ = [
    "CONTENT_TYPE_LATEST",
    "MetricsListener",
    "ReadMetrics",
    "exposition",
    "instrument_pool",
    "ride_ended",
    "ride_started",
]

REQUESTS = Counter(
    "movr_http_requests_total", "HTTP requests.", ["region", "route", "method", "status"]
)
LATENCY = Histogram(
    "movr_http_request_duration_seconds",
    "HTTP request latency.",
    ["region", "route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TX_ATTEMPTS = Counter(
    "movr_transaction_attempts_total", "Transaction attempts.", ["region", "operation"]
)
TX_RETRIES = Counter(
    "movr_transaction_retries_total",
    "Transactions retried after a serialization failure or deadlock.",
    ["region", "operation", "sqlstate"],
)
TX_GIVE_UPS = Counter(
    "movr_transaction_give_ups_total",
    "Transactions that exhausted their retries.",
    ["region", "operation"],
)
TX_FAILURES = Counter(
    "movr_transaction_failures_total",
    "Transactions ended by a non-retryable database error.",
    ["region", "operation", "sqlstate"],
)
RIDES_STARTED = Counter("movr_rides_started_total", "Rides started.", ["region"])
RIDES_ENDED = Counter("movr_rides_ended_total", "Rides ended.", ["region"])
REPLICA_READS = Counter(
    "movr_reads_total",
    "Reads that a replica may serve, by where they ran (replica or primary).",
    ["region", "served_by"],
)
REPLICA_FALLBACKS = Counter(
    "movr_replica_fallbacks_total",
    "Reads that went to the primary instead of the replica, by reason "
    "(down, lagging, own_write: it had not shown the client's write in time, unreachable).",
    ["region", "reason"],
)
REPLICA_WAITS = Histogram(
    "movr_replica_wait_seconds",
    "Time a read waited for the replica to show the client's own write.",
    ["region"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
REPLICA_LAG = Gauge(
    "movr_replica_lag_seconds",
    "The replica's replay lag as last measured by this process (-1: unreachable).",
    ["region"],
    multiprocess_mode="max",
)
POOL_IN_USE = Gauge(
    "movr_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    ["region"],
    multiprocess_mode="livesum",
)


def ride_started(region: str) -> None:
    """Count a ride that was started (not a replayed or refused request)."""
    RIDES_STARTED.labels(region).inc()


def ride_ended(region: str) -> None:
    """Count a ride that was ended."""
    RIDES_ENDED.labels(region).inc()


class MetricsListener(LoggingListener):
    """Counts what the retry loop reports, and logs it."""

    def __init__(self, region: str) -> None:
        self.region = region

    def retried(self, operation: str, attempt: int, sqlstate: str) -> None:
        """Count and log a retry."""
        TX_ATTEMPTS.labels(self.region, operation).inc()
        TX_RETRIES.labels(self.region, operation, sqlstate).inc()
        super().retried(operation, attempt, sqlstate)

    def gave_up(self, operation: str, attempts: int, sqlstate: str) -> None:
        """Count and log a give-up."""
        TX_ATTEMPTS.labels(self.region, operation).inc()
        TX_GIVE_UPS.labels(self.region, operation).inc()
        super().gave_up(operation, attempts, sqlstate)

    def finished(self, operation: str, attempts: int) -> None:
        """Count the successful attempt."""
        TX_ATTEMPTS.labels(self.region, operation).inc()

    def failed(self, operation: str, sqlstate: str | None) -> None:
        """Count and log a non-retryable failure."""
        TX_ATTEMPTS.labels(self.region, operation).inc()
        TX_FAILURES.labels(self.region, operation, sqlstate or "none").inc()
        super().failed(operation, sqlstate)


class ReadMetrics:
    """Counts where reads ran, fallbacks and waits; publishes the replica's lag."""

    def __init__(self, region: str) -> None:
        """Label everything with the serving region."""
        self.region = region

    def served(self, by: str) -> None:
        """Count a read."""
        REPLICA_READS.labels(self.region, by).inc()

    def fell_back(self, reason: str) -> None:
        """Count a fallback to the primary."""
        REPLICA_FALLBACKS.labels(self.region, reason).inc()

    def waited(self, seconds: float) -> None:
        """Observe a wait for the replica."""
        REPLICA_WAITS.labels(self.region).observe(seconds)

    def measured(self, state: ReplicaState) -> None:
        """Publish the lag (-1 when the replica could not be reached)."""
        REPLICA_LAG.labels(self.region).set(-1 if state.lag is None else state.lag)


WRITE_OPERATIONS = (
    "start_ride",
    "end_ride",
    "register",
    "issue_token",
    "issue_api_token",
    "add_vehicle",
)


def publish_zeroes(region: str) -> None:
    """Show the retry and give-up series from the start (at 0), so that dashboards and the
    load generator can tell "no retries yet" from "not measured"."""
    for operation in WRITE_OPERATIONS:
        TX_RETRIES.labels(region, operation, "40001")
        TX_GIVE_UPS.labels(region, operation)
    RIDES_STARTED.labels(region)
    RIDES_ENDED.labels(region)


def instrument_pool(engine: Engine, region: str) -> None:
    """Track connections in use through pool events."""
    gauge = POOL_IN_USE.labels(region)
    event.listen(engine, "checkout", lambda *_: gauge.inc())
    event.listen(engine, "checkin", lambda *_: gauge.dec())


def exposition(settings: Settings, active_rides: int | None) -> bytes:
    """The text format: every worker's metrics, plus the active rides as last counted (left
    out until they have been)."""
    if settings.metrics_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]  # untyped upstream
            registry, path=str(settings.metrics_dir)
        )
    else:
        registry = REGISTRY
    active = GaugeMetricFamily(
        "movr_active_rides", "Rides in progress in this region's cities.", labels=["region"]
    )
    if active_rides is None:
        return generate_latest(registry)
    active.add_metric([settings.region], active_rides)
    extra = CollectorRegistry()
    extra.register(_Fixed([active]))
    return generate_latest(registry) + generate_latest(extra)


class _Fixed:
    """A collector of ready-made metric families."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        """Return the families."""
        return self.families
