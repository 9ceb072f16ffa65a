"""What a running app needs per request: settings, database access, the password hasher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from movr.config import Settings
from movr.db.engine import Database
from movr.db.transaction import TransactionListener, run_in_transaction
from movr.services.passwords import PasswordHasher

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

    def read(self, work: Callable[[Session], T], operation: str) -> T:
        """Run a read of ONE statement in autocommit: a single round trip, no BEGIN/COMMIT."""
        return self._run(self.database.read_sessions, work, operation)

    def _run(
        self, sessions: sessionmaker[Session], work: Callable[[Session], T], operation: str
    ) -> T:
        return run_in_transaction(
            sessions, work, operation=operation, policy=self.settings.retry, listener=self.listener
        )


def runtime() -> Runtime:
    """The Runtime of the current app."""
    value: Runtime = current_app.extensions[EXTENSION_KEY]
    return value
