"""What each service operation is, declared where it is written.

A service operation takes the unit it runs on first (a Connection, or a Session) and never
commits. Its declaration tells the boundary (web/runtime.py) how to run it:

- `@statement`: ONE statement on the primary, in autocommit: its own serializable
  transaction, a single round trip with no BEGIN/COMMIT (`orm=True`: on a Session).
- `@transaction`: several statements in one SERIALIZABLE transaction on an ORM Session.
- `@read`: ONE read statement that the region's replica may serve (or a CockroachDB follower
  read); read-your-writes applies (db/reads.py).
- `@fresh_read`: ONE read statement that must see the present: the primary.

Every kind runs through the one retry helper. "One statement" is a checked property: with
`Settings.check_units` (the test suite) a unit that sends more fails loudly.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, overload

from movr.db.sql import Executor

P = ParamSpec("P")
T = TypeVar("T")

# Where a write unit leaves its transaction id for read-your-writes (Connection.info and
# Session.info alike); cleared by the boundary before each unit.
WRITE_XID = "movr_write_xid"


class Kind(enum.Enum):
    """How an operation runs."""

    STATEMENT = "statement"
    TRANSACTION = "transaction"
    READ = "read"
    FRESH_READ = "fresh_read"

    @property
    def one_statement(self) -> bool:
        """True for the kinds that must send exactly one statement."""
        return self is not Kind.TRANSACTION

    @property
    def writes(self) -> bool:
        """True for the kinds that may change rows (and so start read-your-writes)."""
        return self in (Kind.STATEMENT, Kind.TRANSACTION)


class Operation(Generic[P, T]):
    """A service function with its declaration; calling it calls the function."""

    def __init__(
        self, function: Callable[Concatenate[Any, P], T], kind: Kind, *, orm: bool
    ) -> None:
        """Wrap `function`, whose first argument is the unit it runs on."""
        functools.update_wrapper(self, function)
        self.function = function
        self.kind = kind
        # Loads ORM objects: the boundary hands it a Session on the chosen connection.
        self.orm = orm
        self.name: str = function.__name__

    def __call__(self, unit: Executor, /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run on `unit` (tests and other operations call operations directly)."""
        return self.function(unit, *args, **kwargs)

    def __repr__(self) -> str:
        """The operation's name and kind."""
        return f"<{self.kind.value} {self.function.__module__}.{self.name}>"


class Declaration:
    """A decorator that declares an operation of one kind: `@read`, or `@read(orm=True)` for
    an operation that loads ORM objects (the boundary hands it a Session)."""

    def __init__(self, kind: Kind, doc: str) -> None:
        """Declare operations of `kind`; `doc` says what that kind is."""
        self.kind = kind
        self.__doc__ = doc

    @overload
    def __call__(self, function: Callable[Concatenate[Any, P], T], /) -> Operation[P, T]: ...
    @overload
    def __call__(
        self, /, *, orm: bool = False
    ) -> Callable[[Callable[Concatenate[Any, P], T]], Operation[P, T]]: ...
    def __call__(self, function: Any = None, /, *, orm: bool = False) -> Any:
        """Declare `function`, or return the decorator that declares it with `orm`."""

        def wrap(function: Callable[Concatenate[Any, P], T]) -> Operation[P, T]:
            return Operation(function, self.kind, orm=orm)

        return wrap if function is None else wrap(function)


statement = Declaration(
    Kind.STATEMENT,
    "One write statement in autocommit on the primary (retried on 40001 as a whole).",
)
read = Declaration(Kind.READ, "One read statement that the region's replica may serve.")
fresh_read = Declaration(
    Kind.FRESH_READ, "One read statement on the primary: for reads that decide what a write does."
)


def transaction(function: Callable[Concatenate[Any, P], T]) -> Operation[P, T]:
    """A multi-statement unit on a Session, BEGIN … COMMIT at SERIALIZABLE with retries."""
    return Operation(function, Kind.TRANSACTION, orm=True)


def fresh(operation: Operation[P, T]) -> Operation[P, T]:
    """The same read, declared as one that must see the present (the primary)."""
    if operation.kind is not Kind.READ:
        raise TypeError(f"{operation!r} is not a read")
    return Operation(operation.function, Kind.FRESH_READ, orm=operation.orm)


def note_write(unit: Executor, xid: int | None) -> None:
    """Record the transaction id of the write a unit made (read-your-writes waits for it)."""
    if xid is not None:
        unit.info[WRITE_XID] = int(xid)


class Runner(Protocol):
    """Runs operations as declared: the web boundary (web/runtime.py), or a test's session."""

    def run(self, operation: Operation[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `operation` with these arguments on the unit its kind calls for."""
        ...
