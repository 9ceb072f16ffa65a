"""The retry helper against a real PostgreSQL: what is retried, what is not, and the bound."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from movr.config import RetryPolicy
from movr.db.engine import Database
from movr.db.transaction import (
    TransactionRetriesExhausted,
    backoff_delay,
    run_in_transaction,
)


class RecordingListener:
    """Remembers what the loop reported."""

    def __init__(self) -> None:
        self.retries: list[tuple[str, int, str]] = []
        self.give_ups: list[tuple[str, int, str]] = []
        self.completed: list[tuple[str, int]] = []

    def retried(self, operation: str, attempt: int, sqlstate: str) -> None:
        self.retries.append((operation, attempt, sqlstate))

    def gave_up(self, operation: str, attempts: int, sqlstate: str) -> None:
        self.give_ups.append((operation, attempts, sqlstate))

    def finished(self, operation: str, attempts: int) -> None:
        self.completed.append((operation, attempts))


def raise_sqlstate(session: Session, sqlstate: str) -> None:
    """Make PostgreSQL itself fail with the given SQLSTATE."""
    session.execute(
        text(f"DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '{sqlstate}'; END $$")
    )


def test_serialization_failure_is_retried_until_it_succeeds(
    db: Database, no_sleep_policy: RetryPolicy
) -> None:
    attempts: list[int] = []
    listener = RecordingListener()

    def work(session: Session) -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise_sqlstate(session, "40001")
        return "done"

    result = run_in_transaction(
        db.sessions, work, operation="probe", policy=no_sleep_policy, listener=listener
    )
    assert result == "done"
    assert len(attempts) == 3
    assert listener.retries == [("probe", 1, "40001"), ("probe", 2, "40001")]
    assert listener.completed == [("probe", 3)]


def test_deadlock_is_retried(db: Database, no_sleep_policy: RetryPolicy) -> None:
    calls: list[None] = []

    def work(session: Session) -> int:
        calls.append(None)
        if len(calls) == 1:
            raise_sqlstate(session, "40P01")
        return len(calls)

    assert run_in_transaction(db.sessions, work, policy=no_sleep_policy) == 2


@pytest.mark.parametrize("sqlstate", ["40003", "23505", "22001"])
def test_other_errors_are_not_retried(
    db: Database, no_sleep_policy: RetryPolicy, sqlstate: str
) -> None:
    calls: list[None] = []

    def work(session: Session) -> None:
        calls.append(None)
        raise_sqlstate(session, sqlstate)

    with pytest.raises(DBAPIError) as raised:
        run_in_transaction(db.sessions, work, policy=no_sleep_policy)
    assert getattr(raised.value.orig, "sqlstate", None) == sqlstate
    assert len(calls) == 1


def test_domain_errors_are_not_retried(db: Database, no_sleep_policy: RetryPolicy) -> None:
    calls: list[None] = []

    def work(_: Session) -> None:
        calls.append(None)
        raise LookupError("not a database error")

    with pytest.raises(LookupError):
        run_in_transaction(db.sessions, work, policy=no_sleep_policy)
    assert len(calls) == 1


def test_retries_give_up_after_the_bound_with_a_clear_error(db: Database) -> None:
    listener = RecordingListener()
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=2.0)
    calls: list[None] = []

    def work(session: Session) -> None:
        calls.append(None)
        raise_sqlstate(session, "40001")

    with pytest.raises(TransactionRetriesExhausted, match="gave up after 3 attempts") as raised:
        run_in_transaction(
            db.sessions,
            work,
            operation="doomed",
            policy=policy,
            listener=listener,
            sleep=sleeps.append,
            rng=lambda: 1.0,
        )
    assert raised.value.attempts == 3
    assert len(calls) == 3
    assert sleeps == [0.05, 0.1]
    assert listener.give_ups == [("doomed", 3, "40001")]


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=0.05, max_delay=2.0)
    assert backoff_delay(policy, 1, lambda: 1.0) == 0.05
    assert backoff_delay(policy, 3, lambda: 1.0) == 0.2
    assert backoff_delay(policy, 9, lambda: 1.0) == 2.0
    assert backoff_delay(policy, 9, lambda: 0.0) == 0.0


def test_work_commits_inside_the_attempt(db: Database) -> None:
    run_in_transaction(
        db.sessions,
        lambda s: s.execute(text("CREATE TEMP TABLE probe (n int) ON COMMIT PRESERVE ROWS")),
    )
    run_in_transaction(db.sessions, lambda s: s.execute(text("INSERT INTO probe VALUES (1)")))
    assert (
        run_in_transaction(db.sessions, lambda s: s.scalar(text("SELECT count(*) FROM probe"))) == 1
    )


@pytest.fixture
def counter_table(committed_db: Database) -> Iterator[Database]:
    with committed_db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS retry_counter (n int NOT NULL)"))
        connection.execute(text("TRUNCATE retry_counter"))
        connection.execute(text("INSERT INTO retry_counter VALUES (0)"))
    yield committed_db
    with committed_db.engine.begin() as connection:
        connection.execute(text("DROP TABLE retry_counter"))


@pytest.mark.concurrency
def test_racing_read_modify_writes_all_land(counter_table: Database) -> None:
    """Real conflicts from real threads: at SERIALIZABLE some attempts fail with 40001,
    sometimes at COMMIT; retrying the whole transaction makes every increment count."""
    threads = 6
    barrier = threading.Barrier(threads)
    listener = RecordingListener()
    errors: list[BaseException] = []
    first_attempt = threading.local()

    def increment(session: Session) -> None:
        value = session.scalar(text("SELECT n FROM retry_counter"))
        if not getattr(first_attempt, "done", False):
            first_attempt.done = True
            barrier.wait(timeout=10)  # every thread has read the same value before any writes
        session.execute(text("UPDATE retry_counter SET n = :n"), {"n": (value or 0) + 1})

    def run() -> None:
        try:
            run_in_transaction(
                counter_table.sessions,
                increment,
                policy=RetryPolicy(max_attempts=30, base_delay=0.005, max_delay=0.1),
                listener=listener,
            )
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    with counter_table.engine.connect() as connection:
        assert connection.scalar(text("SELECT n FROM retry_counter")) == threads
    assert listener.retries, "the race should have caused at least one serialization failure"
