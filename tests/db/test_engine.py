"""One pool, two modes: pooled connections live in autocommit; units of work borrow them at
SERIALIZABLE and give them back in autocommit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text

from movr.db.engine import Database, create_database
from movr.db.roundtrips import StatementCounter
from movr.db.transaction import run_in_transaction
from tests.conftest import make_settings

# Two statements see the same transaction id only inside one transaction.
TRANSACTION_ID = text("SELECT txid_current()")


@pytest.fixture
def one_connection(database_url: str) -> Iterator[Database]:
    """A Database whose pool holds a single connection, so every unit reuses it."""
    database = create_database(make_settings(pool_size=1), database_url)
    yield database
    database.dispose()


def _probe(connection: Connection) -> tuple[int, str, bool]:
    """(backend pid, isolation level, whether two statements share a transaction)."""
    pid = connection.scalar(text("SELECT pg_backend_pid()"))
    level = connection.scalar(text("SHOW transaction_isolation"))
    first = connection.scalar(TRANSACTION_ID)
    second = connection.scalar(TRANSACTION_ID)
    return int(pid or 0), str(level), first == second


def test_units_of_work_and_single_statements_share_a_connection_in_their_own_modes(
    one_connection: Database,
) -> None:
    seen = []
    for _ in range(2):
        seen.append(("autocommit", run_in_transaction(one_connection.autocommit, _probe)))
        seen.append(
            ("unit", run_in_transaction(one_connection.sessions, lambda s: _probe(s.connection())))
        )
    assert len({pid for _, (pid, _, _) in seen}) == 1, "the pool's one connection is reused"
    for mode, (_, level, one_transaction) in seen:
        assert level == "serializable", mode
        assert one_transaction is (mode == "unit"), mode


def test_statement_counter_sees_begin_and_commit_only_where_they_are_sent(
    one_connection: Database,
) -> None:
    counter = StatementCounter(one_connection.pooled)
    with counter.counting() as statements:
        run_in_transaction(one_connection.autocommit, lambda c: c.scalar(text("SELECT 1")))
    assert statements == ["SELECT 1"]
    with counter.counting() as statements:
        run_in_transaction(one_connection.sessions, lambda s: s.scalar(text("SELECT 2")))
    assert statements == ["BEGIN", "SELECT 2", "COMMIT"]
