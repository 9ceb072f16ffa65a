"""What a running app needs per request: settings, database access, the password hasher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.engine import Database
from movr.db.transaction import TransactionListener, Unit, Units, run_in_transaction
from movr.services import users
from movr.services.passwords import PasswordHasher
from movr.services.users import Account

T = TypeVar("T")

EXTENSION_KEY = "movr"


@dataclass(frozen=True, slots=True)
class Runtime:
    """Attached to the Flask app; the boundary that owns transactions for web requests."""

    settings: Settings
    database: Database
    hasher: PasswordHasher
    listener: TransactionListener

    def transact(self, work: Callable[[Session], T], operation: str) -> T:
        """Run a unit of work that writes: BEGIN … COMMIT at SERIALIZABLE, with retries."""
        return self._run(self.database.sessions, work, operation)

    def one_statement(self, work: Callable[[Connection], T], operation: str) -> T:
        """Run a unit of work that is ONE statement (a read, or a write written as one CTE) in
        autocommit: the statement is its own serializable transaction, a single round trip
        with no BEGIN/COMMIT (and CockroachDB retries such implicit transactions itself).

        It runs on a Connection: an ORM Session's bookkeeping was ~8% of an API ride
        request's instructions (bench/instructions.py). For ORM objects, `one_query`.
        """
        return self._run(self.database.autocommit, work, operation)

    def one_query(self, work: Callable[[Session], T], operation: str) -> T:
        """As `one_statement`, on an autocommit Session: for a query that loads ORM objects."""
        return self._run(self.database.autocommit_sessions, work, operation)

    def check_credentials(self, username: str, password: str) -> Account:
        """Log in: one read, the argon2 check outside any transaction, a rehash if due.

        Hashing inside a SERIALIZABLE transaction would hold it open for the hash's duration
        and repeat the hash on every retry; under load that turned logins into give-ups.
        """
        candidate = self.one_statement(lambda s: users.find_login(s, username), "find_login")
        account = users.check_login(self.hasher, candidate, password)
        if candidate is not None and users.needs_rehash(self.hasher, candidate):
            new_hash = self.hasher.hash(password)
            self.transact(
                lambda s: users.store_password_hash(s, account.id, new_hash), "rehash_password"
            )
        return account

    def _run(self, units: Units[Unit], work: Callable[[Unit], T], operation: str) -> T:
        return run_in_transaction(
            units,
            work,
            operation=operation,
            policy=self.settings.retry,
            listener=self.listener,
        )


def runtime() -> Runtime:
    """The Runtime of the current app."""
    value: Runtime = current_app.extensions[EXTENSION_KEY]
    return value
