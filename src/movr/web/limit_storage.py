"""Flask-Limiter's counters in MovR's own database (`MOVR_RATE_LIMIT_STORAGE=database`).

`memory://` counts in each gunicorn worker's own memory, so four workers let a client through
four times its limit; Redis shares counts but is one more service to run. Here every worker and
every instance of a region share one counter per key, each operation one statement through the
retry helper (a login attempt costs a few of them, next to ~56 ms of password hashing).
Counters live with the serving region (its first city), like idempotency keys.
"""

from __future__ import annotations

import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import TextClause, text
from sqlalchemy.exc import SQLAlchemyError

from movr.web.runtime import runtime

SCHEME = "movr+database"

# Fixed windows: the first hit opens a window of `expiry` seconds; hits after it ends start a
# new one. One statement, so concurrent hits on one key serialize in the database.
INCREMENT = text(
    """
    INSERT INTO rate_limit_counters AS c (city, key, hits, expires_at)
    VALUES (:city, :key, :amount, now() + :expiry * interval '1 second')
    ON CONFLICT (city, key) DO UPDATE SET
        hits = CASE WHEN c.expires_at <= now() THEN excluded.hits
                    ELSE c.hits + excluded.hits END,
        expires_at = CASE WHEN c.expires_at <= now() THEN excluded.expires_at
                          ELSE c.expires_at END
    RETURNING hits
    """
)
LIVE = "FROM rate_limit_counters WHERE city = :city AND key = :key AND expires_at > now()"
HITS = text(f"SELECT hits {LIVE}")
EXPIRY = text(f"SELECT extract(epoch FROM expires_at) {LIVE}")  # noqa: S608 -- constant SQL
CLEAR = text("DELETE FROM rate_limit_counters WHERE city = :city AND key = :key")
RESET = text("DELETE FROM rate_limit_counters WHERE city = :city")
ALIVE = text("SELECT 1")


class DatabaseStorage(Storage):
    """A `limits` storage (fixed windows) on the rate_limit_counters table of the current app's
    database. It is only used while a request is handled (that is when limits are checked)."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 -- the attribute `limits` registers storages by

    @property
    def base_exceptions(self) -> type[Exception]:
        """Errors `limits` may wrap in its StorageError."""
        return SQLAlchemyError

    def _run(self, statement: TextClause, **parameters: object) -> Any:
        """The first column of the statement's first row (None without rows)."""
        app = runtime()
        parameters["city"] = app.settings.cities[0]
        return app.one_statement(lambda c: c.execute(statement, parameters).scalar(), "rate_limit")

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count `amount` hits on `key`; its total in the current window."""
        return int(self._run(INCREMENT, key=key, expiry=expiry, amount=amount))

    def get(self, key: str) -> int:
        """Hits on `key` in the current window."""
        return int(self._run(HITS, key=key) or 0)

    def get_expiry(self, key: str) -> float:
        """When the current window of `key` ends (epoch seconds; now if there is none)."""
        ends = self._run(EXPIRY, key=key)
        return float(ends) if ends is not None else time.time()

    def check(self) -> bool:
        """True when the database answers."""
        try:
            return bool(self._run(ALIVE))
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        """Forget every counter of this region."""
        self._run(RESET)
        return None

    def clear(self, key: str) -> None:
        """Forget the counter of `key`."""
        self._run(CLEAR, key=key)
