"""The one retry helper: every unit of work runs through `run_in_transaction`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError

from movr.config import RetryPolicy

T = TypeVar("T")
Unit = TypeVar("Unit")
Unit_co = TypeVar("Unit_co", covariant=True)


class Units(Protocol[Unit_co]):
    """Opens units of work: an ORM sessionmaker (Sessions) or an Engine (Connections)."""

    def begin(self) -> AbstractContextManager[Unit_co]:
        """A fresh unit in a transaction that commits when the block ends."""
        ...


log = structlog.get_logger(__name__)

SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
# CockroachDB's "result is ambiguous" (40003) must never be retried: the commit may have applied.
RETRYABLE_SQLSTATES = frozenset({SERIALIZATION_FAILURE, DEADLOCK_DETECTED})


class TransactionRetriesExhausted(Exception):
    """A unit of work kept failing with retryable errors until the attempt bound."""

    def __init__(self, operation: str, attempts: int, sqlstate: str) -> None:
        super().__init__(
            f"{operation}: gave up after {attempts} attempts (last SQLSTATE {sqlstate})"
        )
        self.operation = operation
        self.attempts = attempts
        self.sqlstate = sqlstate


class TransactionListener(Protocol):
    """Observes the retry loop (metrics and logs plug in here)."""

    def retried(self, operation: str, attempt: int, sqlstate: str) -> None:
        """Attempt number `attempt` failed with a retryable error and will be retried."""

    def gave_up(self, operation: str, attempts: int, sqlstate: str) -> None:
        """The last allowed attempt failed with a retryable error."""

    def finished(self, operation: str, attempts: int) -> None:
        """The unit of work committed after `attempts` attempts."""

    def failed(self, operation: str, sqlstate: str | None) -> None:
        """A non-retryable database error ended the unit of work."""


class LoggingListener:
    """Logs retries at INFO and give-ups at WARNING."""

    def retried(self, operation: str, attempt: int, sqlstate: str) -> None:
        """Log a retry."""
        log.info("transaction_retry", operation=operation, attempt=attempt, sqlstate=sqlstate)

    def gave_up(self, operation: str, attempts: int, sqlstate: str) -> None:
        """Log a give-up."""
        log.warning(
            "transaction_gave_up", operation=operation, attempts=attempts, sqlstate=sqlstate
        )

    def finished(self, operation: str, attempts: int) -> None:
        """Nothing to log for a success."""

    def failed(self, operation: str, sqlstate: str | None) -> None:
        """Log a non-retryable database error (its SQL and parameters stay out of the log)."""
        log.error("transaction_failed", operation=operation, sqlstate=sqlstate)


def sqlstate_of(error: DBAPIError) -> str | None:
    """The SQLSTATE of a driver error, when the driver reports one."""
    return getattr(error.orig, "sqlstate", None)


def backoff_delay(policy: RetryPolicy, attempt: int, rng: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt-1))]."""
    return rng() * min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))


def run_in_transaction(
    units: Units[Unit],
    work: Callable[[Unit], T],
    *,
    operation: str = "transaction",
    policy: RetryPolicy | None = None,
    listener: TransactionListener | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """Run `work` in a fresh unit and transaction (`units.begin()`: a Session from a
    sessionmaker, a Connection from an Engine), committing inside the attempt.

    Retries the whole callable on SQLSTATE 40001/40P01 (a retry on the same transaction would
    keep PostgreSQL's old snapshot), so `work` must be safe to repeat and should return data
    that outlives its unit. Any other error propagates at once.
    """
    policy = policy or RetryPolicy()
    listener = listener or LoggingListener()
    for attempt in range(1, policy.max_attempts + 1):
        try:
            with units.begin() as unit:
                result = work(unit)
        except DBAPIError as error:
            sqlstate = sqlstate_of(error)
            if sqlstate not in RETRYABLE_SQLSTATES:
                listener.failed(operation, sqlstate)
                raise
            if attempt == policy.max_attempts:
                listener.gave_up(operation, attempt, sqlstate)
                raise TransactionRetriesExhausted(operation, attempt, sqlstate) from error
            listener.retried(operation, attempt, sqlstate)
            sleep(backoff_delay(policy, attempt, rng))
        else:
            listener.finished(operation, attempt)
            return result
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
