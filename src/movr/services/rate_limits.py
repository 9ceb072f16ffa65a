"""Rate-limit counters (fixed windows), one statement each, kept per serving region.

The web layer's Flask-Limiter storage (web/limit_storage.py) counts here, so every gunicorn
worker and every instance of a region share one counter per key. Counters live with the
serving region (its first city, `city` below), like idempotency keys: local writes.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import text

from movr.db.sql import Executor
from movr.db.units import fresh_read, statement

# The first hit opens a window of `expiry` seconds; hits after it ends start a new one. One
# statement, so concurrent hits on one key serialize in the database. A negative amount gives
# hits back (a successful login's attempt) and never takes a count below zero.
INCREMENT = text(
    """
    INSERT INTO rate_limit_counters AS c (city, key, hits, expires_at)
    VALUES (:city, :key, greatest(:amount, 0), now() + :expiry * interval '1 second')
    ON CONFLICT (city, key) DO UPDATE SET
        hits = CASE WHEN c.expires_at <= now() THEN excluded.hits
                    ELSE greatest(c.hits + :amount, 0) END,
        expires_at = CASE WHEN c.expires_at <= now() THEN excluded.expires_at
                          ELSE c.expires_at END
    RETURNING hits, extract(epoch FROM expires_at) AS ends_at
    """
)
LIVE = "FROM rate_limit_counters WHERE city = :city AND key = :key AND expires_at > now()"
HITS = text(f"SELECT hits {LIVE}")
EXPIRY = text(f"SELECT extract(epoch FROM expires_at) {LIVE}")  # noqa: S608 -- constant SQL
CLEAR = text("DELETE FROM rate_limit_counters WHERE city = :city AND key = :key")
RESET = text("DELETE FROM rate_limit_counters WHERE city = :city")
ALIVE = text("SELECT 1")


class Window(NamedTuple):
    """A key's count in its current window, and when that window ends (epoch seconds)."""

    hits: int
    ends_at: float


@statement
def hit(executor: Executor, city: str, key: str, expiry: int, amount: int = 1) -> Window:
    """Count `amount` hits on `key`; its window as counted."""
    row = executor.execute(
        INCREMENT, {"city": city, "key": key, "expiry": expiry, "amount": amount}
    ).one()
    return Window(int(row.hits), float(row.ends_at))


@fresh_read
def hits(executor: Executor, city: str, key: str) -> int:
    """Hits on `key` in the current window."""
    return int(executor.execute(HITS, {"city": city, "key": key}).scalar() or 0)


@fresh_read
def window_end(executor: Executor, city: str, key: str) -> float | None:
    """When the current window of `key` ends (epoch seconds), None if there is none."""
    ends = executor.execute(EXPIRY, {"city": city, "key": key}).scalar()
    return float(ends) if ends is not None else None


@statement
def clear(executor: Executor, city: str, key: str) -> None:
    """Forget the counter of `key`."""
    executor.execute(CLEAR, {"city": city, "key": key})


@statement
def reset(executor: Executor, city: str) -> None:
    """Forget every counter of the region whose first city is `city`."""
    executor.execute(RESET, {"city": city})


@fresh_read
def alive(executor: Executor) -> bool:
    """True when the database answers."""
    return bool(executor.execute(ALIVE).scalar())
