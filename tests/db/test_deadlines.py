"""Client-side deadlines on a real PostgreSQL: the server-side timeouts are set on every
connection, and a statement still running at the deadline is cut off by the client."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from movr.db import deadlines
from movr.db.engine import Database, create_database
from tests.conftest import make_settings


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """Its own pool, server-side timeouts off: only the client's deadline can end a sleep."""
    built = create_database(make_settings(statement_timeout_ms=0), database_url)
    with built.pooled.connect():  # a pooled connection: a deadline may not leave time to open one
        pass
    yield built
    built.dispose()


def test_every_connection_carries_the_timeouts_and_tcp_settings(database_url: str) -> None:
    built = create_database(make_settings(), database_url)
    try:
        with built.pooled.connect() as connection:
            shown = {
                name: connection.scalar(text(f"SHOW {name}"))
                for name in (
                    "statement_timeout",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                )
            }
            # What libpq was given (over TCP it applies them; on a Unix socket it ignores them).
            given = connection.connection.dbapi_connection.info.get_parameters()
    finally:
        built.dispose()
    assert shown == {
        "statement_timeout": "5s",
        "lock_timeout": "4s",
        "idle_in_transaction_session_timeout": "10s",
    }
    tcp = ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count")
    assert {name: given[name] for name in (*tcp, "tcp_user_timeout")} == {
        "keepalives": "1",
        "keepalives_idle": "10",
        "keepalives_interval": "3",
        "keepalives_count": "3",
        "tcp_user_timeout": "10000",
    }


def test_a_statement_running_at_the_deadline_is_cut_off(database: Database) -> None:
    token = deadlines.begin(time.monotonic() + 0.5)
    begin = time.monotonic()
    try:
        with pytest.raises(DBAPIError) as caught, database.pooled.connect() as connection:
            connection.execute(text("SELECT pg_sleep(5)"))
    finally:
        deadlines.end(token)
    assert time.monotonic() - begin < 1.5
    assert caught.value.connection_invalidated
    with database.pooled.connect() as connection:  # the pool recovers by itself
        assert connection.scalar(text("SELECT 1")) == 1


def test_no_statement_starts_after_the_deadline(database: Database) -> None:
    token = deadlines.begin(time.monotonic() - 0.1)
    try:
        with pytest.raises(deadlines.DeadlineExceeded), database.pooled.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        deadlines.end(token)


def test_without_a_deadline_nothing_is_cut(database: Database) -> None:
    with database.pooled.connect() as connection:
        assert connection.scalar(text("SELECT 1 FROM pg_sleep(0.3)")) == 1


def test_a_connection_cut_after_its_last_answer_is_replaced_not_lent_again(
    database: Database,
) -> None:
    token = deadlines.begin(time.monotonic() + 0.3)
    try:
        with database.pooled.connect() as connection:
            first = connection.scalar(text("SELECT pg_backend_pid()"))
            time.sleep(0.6)  # the deadline passes while the connection is still checked out
    finally:
        deadlines.end(token)
    with database.pooled.connect() as connection:  # no deadline: this one must just work
        assert connection.scalar(text("SELECT pg_backend_pid()")) != first
