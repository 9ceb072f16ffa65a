"""What MovR forgets once it has served its purpose: expired Idempotency-Keys, expired or
revoked tokens (API and browser sessions), ended rate-limit windows.

Each kind is deleted in batches, a batch being one statement (its own short transaction), so
a purge never holds locks on many rows and can run while MovR serves. None of these rows is
read once it has expired: forgetting them changes no answer.
"""

from __future__ import annotations

from sqlalchemy import TextClause, text

from movr.db.sql import Executor

DEFAULT_BATCH = 1000


def _batch(table: str, key: str, dead: str) -> TextClause:
    """Delete at most :batch rows of `table` (primary key `key`) that are `dead`; count them."""
    return text(
        f"WITH gone AS (DELETE FROM {table} WHERE ({key}) IN "  # noqa: S608 -- constant SQL
        f"(SELECT {key} FROM {table} WHERE {dead} LIMIT :batch) RETURNING 1) "
        "SELECT count(*) FROM gone"
    )


PURGES = {
    "idempotency keys": _batch("idempotency_keys", "user_id, key", "expires_at <= now()"),
    "tokens": _batch("api_tokens", "id", "expires_at <= now() OR revoked_at IS NOT NULL"),
    "rate-limit counters": _batch("rate_limit_counters", "city, key", "expires_at <= now()"),
}


def purge_batch(executor: Executor, kind: str, batch: int = DEFAULT_BATCH) -> int:
    """Delete up to `batch` dead rows of `kind` (a key of PURGES); how many went."""
    return int(executor.execute(PURGES[kind], {"batch": batch}).scalar_one())
