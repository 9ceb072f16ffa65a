"""The boundary runs each operation as declared: one statement is checked, names come from
the functions, transactions commit once."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from movr.db.units import Kind, fresh, read, statement, transaction
from movr.services import rides, tokens
from movr.web.runtime import NotOneStatement, runtime


@statement
def two_statements(connection: Connection) -> int:
    connection.execute(text("SELECT 1"))
    return int(connection.execute(text("SELECT 2")).scalar_one())


@read
def two_reads(connection: Connection) -> int:
    connection.execute(text("SELECT 1"))
    return int(connection.execute(text("SELECT 2")).scalar_one())


@transaction
def two_in_a_transaction(session: Session) -> int:
    session.execute(text("SELECT 1"))
    return int(session.execute(text("SELECT 2")).scalar_one())


@pytest.mark.parametrize("operation", [two_statements, two_reads])
def test_a_one_statement_unit_that_sends_two_fails_loudly(app: Flask, operation: Any) -> None:
    with app.test_request_context(), pytest.raises(NotOneStatement, match=operation.name):
        runtime().run(operation)


def test_a_transaction_may_send_several_statements(app: Flask) -> None:
    with app.test_request_context():
        assert runtime().run(two_in_a_transaction) == 2


def test_operations_are_named_after_their_functions_for_retries_and_metrics(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    listener = runtime_listener(app)
    monkeypatch.setattr(listener, "finished", lambda operation, _attempts: seen.append(operation))
    with app.test_request_context():
        runtime().run(rides.count_active, ["new york"])
    assert seen == ["count_active"]


def runtime_listener(app: Flask) -> Any:
    with app.app_context():
        return runtime().listener


def test_services_declare_what_their_operations_are() -> None:
    assert rides.start_ride.kind is Kind.STATEMENT
    assert rides.ride_history.kind is Kind.READ
    assert tokens.user_for_token.kind is Kind.READ
    assert tokens.fresh_user_for_token.kind is Kind.FRESH_READ
    assert fresh(rides.get_ride).function is rides.get_ride.function
    with pytest.raises(TypeError, match="not a read"):
        fresh(rides.start_ride)
