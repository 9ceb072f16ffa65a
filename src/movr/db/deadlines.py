"""Client-side database deadlines: a request's database work ends by the request's deadline,
even when the server cannot say so itself (frozen, or behind a path that drops packets).

statement_timeout and lock_timeout are enforced by the server, so a stopped server enforces
nothing, and TCP keepalives and tcp_user_timeout see nothing wrong while the peer's kernel still
acknowledges (a SIGSTOPped server on this machine, a Unix socket). So a watchdog thread shuts
the socket of a connection still checked out at the deadline: the blocked driver call returns
at once with a broken connection (SQLAlchemy discards it), and the request answers 503.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from contextvars import ContextVar, Token
from typing import Any

import structlog
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

log = structlog.get_logger(__name__)

# The monotonic time by which the current request's database work must be over (None: no
# deadline, as for the command line's tasks).
_DEADLINE: ContextVar[float | None] = ContextVar("movr_db_deadline", default=None)


CONNECT_FLOOR = 2
CUT = "movr_cut_at_deadline"  # in a pool record's info: its socket was shut


class DeadlineExceeded(Exception):
    """The request's deadline passed before its database work was done."""


def begin(until: float) -> Token[float | None]:
    """Bound the database work that follows (a request's) by `until` (time.monotonic())."""
    return _DEADLINE.set(until)


def end(token: Token[float | None]) -> None:
    """Lift the deadline `begin` set (the request is over)."""
    _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (None: no deadline)."""
    until = _DEADLINE.get()
    return None if until is None else until - time.monotonic()


class Watchdog:
    """Shuts the sockets of connections still checked out past their deadline."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._armed: dict[int, tuple[float, Any]] = {}  # id(pool record) → (until, record)
        self._thread: threading.Thread | None = None

    def arm(self, record: Any, until: float) -> None:
        """Watch the pool record's connection until `disarm`; cut it at `until`."""
        with self._wake:
            earliest = min((u for u, _ in self._armed.values()), default=math.inf)
            self._armed[id(record)] = (until, record)
            if self._thread is None or not self._thread.is_alive():  # first use, or forked
                self._thread = threading.Thread(target=self._run, name="db-deadlines", daemon=True)
                self._thread.start()
            elif until < earliest:
                self._wake.notify()

    def disarm(self, record: Any) -> None:
        """Stop watching (the connection went back to the pool)."""
        with self._wake:
            self._armed.pop(id(record), None)

    def _run(self) -> None:
        while True:
            with self._wake:
                now = time.monotonic()
                due = [k for k, (until, _) in self._armed.items() if until <= now]
                # Cut under the lock: a connection checked in meanwhile and lent to another
                # request must not be cut under that one.
                cut = sum(_cut(self._armed.pop(key)[1]) for key in due)
                if not due:
                    earliest = min((u for u, _ in self._armed.values()), default=None)
                    self._wake.wait(None if earliest is None else earliest - now)
            if cut:
                log.warning("database_deadline", connections_cut=cut)


def _cut(record: Any) -> bool:
    """Shut the record's socket down (its blocked call, if any, fails at once) and mark it, so
    that the pool replaces it rather than lend it again."""
    try:
        dup = os.dup(record.dbapi_connection.fileno())
    except Exception:  # psycopg closed it already: no socket left to cut
        return False
    with socket.socket(fileno=dup) as sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return False
    record.info[CUT] = True
    return True


def bound(engine: Engine) -> None:
    """Hold `engine`'s database work to the current deadline: refuse to start a statement
    after it, cap the wait for a new connection, cut a connection still busy at it."""
    watchdog = Watchdog()
    pool = engine.pool

    @event.listens_for(pool, "checkout")
    def watch(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.pop(CUT, False):
            # Cut after its last statement had answered: the pool opens a fresh one instead.
            raise DisconnectionError("cut at a deadline")
        until = _DEADLINE.get()
        if until is not None:
            watchdog.arm(record, until)

    @event.listens_for(pool, "checkin")
    def unwatch(_dbapi_connection: Any, record: Any) -> None:
        watchdog.disarm(record)

    @event.listens_for(engine, "before_cursor_execute")
    def refuse_late(*_: Any) -> None:
        left = remaining()
        if left is not None and left <= 0:
            raise DeadlineExceeded("the request's deadline passed")

    @event.listens_for(engine, "do_connect")
    def cap_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        left = remaining()
        if left is None:
            return
        # psycopg's (and libpq's) connect_timeout is whole seconds, at least 2: with less left,
        # an attempt could outlast the deadline, so none is made.
        if left < CONNECT_FLOOR:
            raise DeadlineExceeded("too little time left to open a database connection")
        cparams["connect_timeout"] = min(int(cparams["connect_timeout"]), math.floor(left))
