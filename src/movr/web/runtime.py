"""What a running app needs per request, and the boundary that runs service operations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import current_app, has_request_context
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.engine import Database
from movr.db.sql import Executor
from movr.db.transaction import TransactionListener, Units, run_in_transaction, sqlstate_of
from movr.db.units import WRITE_XID, Kind, Operation
from movr.services.passwords import PasswordHasher
from movr.web import consistency

P = ParamSpec("P")
T = TypeVar("T")

EXTENSION_KEY = "movr"
STATEMENTS_SENT = "movr_statements_sent"
CURRENT_XID = text("SELECT txid_current()")


class NotOneStatement(AssertionError):
    """A unit declared as one statement sent more (only checked with Settings.check_units)."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """Attached to the Flask app; the boundary that owns transactions for web requests."""

    settings: Settings
    database: Database
    hasher: PasswordHasher
    listener: TransactionListener

    def run(self, operation: Operation[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a service operation as it is declared (db/units.py): on the connection its kind
        calls for, through the retry helper, named after its function."""

        def work(unit: Executor) -> T:
            return self._attempt(operation, unit, args, kwargs)

        if operation.kind is Kind.READ:
            return self._read(operation, work)
        units: Units[Any] = (
            self.database.sessions
            if operation.kind is Kind.TRANSACTION
            else self.database.autocommit
        )
        return self._retrying(units, work, operation.name)

    def _attempt(
        self,
        operation: Operation[..., T],
        unit: Executor,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        """One attempt of `operation` on `unit` (a Connection, or the Session of a unit)."""
        if operation.orm and isinstance(unit, Connection):
            # The unit's own transaction (its savepoint, in the tests) is the boundary's to end:
            # the Session borrows the connection and never ends it (a write statement's row
            # stays written when the Session closes).
            session = Session(
                bind=unit, expire_on_commit=False, join_transaction_mode="rollback_only"
            )
            with session:
                return self._attempt(operation, session, args, kwargs)
        unit.info.pop(WRITE_XID, None)
        if not (self.settings.check_units and operation.kind.one_statement):
            result = operation(unit, *args, **kwargs)
        else:  # the test suite's check, kept off the production path
            connection = unit if isinstance(unit, Connection) else unit.connection()
            sent = connection.info.get(STATEMENTS_SENT, 0)
            result = operation(unit, *args, **kwargs)
            count = connection.info.get(STATEMENTS_SENT, 0) - sent
            if count > 1:
                raise NotOneStatement(f"{operation!r} sent {count} statements")
        if operation.kind.writes and has_request_context():
            xid = self._write_xid(operation, unit)
            if xid is not None:
                consistency.wrote(xid)
        return result

    def _write_xid(self, operation: Operation[..., Any], unit: Executor) -> int | None:
        """The write's transaction id, which read-your-writes waits for on a replica."""
        xid: int | None = unit.info.get(WRITE_XID)
        reads = self.database.reads
        # A transaction unit is still open here: ask it (a statement must note its own).
        if xid is None and reads.has_replica and operation.kind is Kind.TRANSACTION:
            xid = unit.execute(CURRENT_XID).scalar()
        return xid

    def _read(self, operation: Operation[..., T], work: Callable[[Executor], T]) -> T:
        """A read on the replica when it may serve it, else on the primary."""
        reads = self.database.reads
        route = reads.route(consistency.read_token() if has_request_context() else None)
        last = len(route.targets) - 1
        for index, (name, units) in enumerate(route.targets):
            try:
                result = self._read_on(units, work, operation.name)
            except DBAPIError as error:
                if index == last or not _unreachable(error):
                    raise
                if name == "replica":
                    reads.mark_down()
                reads.listener.fell_back("unreachable")
                continue
            reads.listener.served(name)
            if route.caught_up and has_request_context():
                consistency.caught_up()
            return result
        raise AssertionError("unreachable: a route has at least one target")  # pragma: no cover

    def _read_on(self, units: Units[Any], work: Callable[[Any], T], operation: str) -> T:
        """A read, tried once more on a fresh connection if its pooled one had died (the
        server restarted, or a network path was cut and healed): a read is safe to repeat."""
        try:
            return self._retrying(units, work, operation)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self._retrying(units, work, operation)

    def _retrying(self, units: Units[Any], work: Callable[[Any], T], operation: str) -> T:
        return run_in_transaction(
            units,
            work,
            operation=operation,
            policy=self.settings.retry,
            listener=self.listener,
        )


def _unreachable(error: DBAPIError) -> bool:
    """True when the server could not be reached (connection failures, shutting down)."""
    sqlstate = sqlstate_of(error)
    return sqlstate is None or sqlstate.startswith(("08", "57P"))


def count_statements(engine: Engine) -> None:
    """Count the statements each connection sends (for Settings.check_units)."""
    if not event.contains(engine, "before_cursor_execute", _count_statement):
        event.listen(engine, "before_cursor_execute", _count_statement)


def _count_statement(connection: Connection, *_: Any) -> None:
    connection.info[STATEMENTS_SENT] = connection.info.get(STATEMENTS_SENT, 0) + 1


def runtime() -> Runtime:
    """The Runtime of the current app."""
    value: Runtime = current_app.extensions[EXTENSION_KEY]
    return value
