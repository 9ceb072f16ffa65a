"""Plain SQL statements, declared so that SQLAlchemy executes them as cheaply as its own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from sqlalchemy import Connection, TextClause, column
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TextualSelect

# What a service runs Core or text() statements on: a Session inside a unit of work, or an
# autocommit Connection for a one-statement unit (no ORM bookkeeping: Runtime.one_statement).
Executor: TypeAlias = Session | Connection


def with_result_columns(statement: TextClause, names: Iterable[str]) -> TextualSelect:
    """`statement` with its result columns declared in order.

    An undeclared text() result is matched to the driver's column names on every execution;
    declared by position, its metadata is cached with the compiled statement (for a ride's
    20 columns that was ~7% of an API ride request's instructions: bench/instructions.py).
    Rows are still read by name: `row.city`.
    """
    return statement.columns(*(column(name) for name in names))
