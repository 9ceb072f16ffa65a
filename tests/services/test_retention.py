"""Purging dead rows: expired keys, expired or revoked tokens, ended rate-limit windows go;
everything still in use stays."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from movr.cli import main
from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.services import retention, tokens
from tests.factories import make_user

HOUR = timedelta(hours=1)
KEY = (
    "INSERT INTO idempotency_keys (user_id, key, city, request_hash, expires_at) "
    "VALUES (:user, :key, 'new york', 'x', now() + :ttl)"
)
COUNTER = (
    "INSERT INTO rate_limit_counters (city, key, hits, expires_at) "
    "VALUES ('new york', :key, 1, now() + :ttl)"
)


def _plant(session: Session) -> None:
    """Two dead and one live row of each kind."""
    user = make_user(session)
    live = tokens.issue_token(session, user.id, user.city, HOUR)
    tokens.issue_token(session, user.id, user.city, -HOUR)  # expired
    revoked = tokens.issue_token(session, user.id, user.city, HOUR)
    tokens.revoke_token(session, user.id, revoked.token)
    for key, ttl in (("live", HOUR), ("old", -HOUR), ("older", -2 * HOUR)):
        session.execute(text(KEY), {"user": user.id, "key": key, "ttl": ttl})
        session.execute(text(COUNTER), {"key": key, "ttl": ttl})
    assert tokens.user_for_token(session, live.token) is not None


def _left(session: Session) -> dict[str, int]:
    tables = {
        "tokens": "api_tokens",
        "idempotency keys": "idempotency_keys",
        "rate-limit counters": "rate_limit_counters",
    }
    return {
        kind: int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608
        for kind, table in tables.items()
    }


def test_purge_deletes_dead_rows_in_batches_and_keeps_live_ones(session: Session) -> None:
    _plant(session)
    for kind in retention.PURGES:
        assert retention.purge_batch(session, kind, batch=1) == 1
        assert retention.purge_batch(session, kind, batch=5) == 1
        assert retention.purge_batch(session, kind, batch=5) == 0
    assert _left(session) == {"tokens": 1, "idempotency keys": 1, "rate-limit counters": 1}


def test_movr_db_purge_reports_what_it_deleted(clean_tables: Database, database_url: str) -> None:
    run_in_transaction(clean_tables.sessions, _plant)
    result = CliRunner().invoke(
        main, ["db", "purge", "--batch-size", "1"], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    for kind in retention.PURGES:
        assert f"{kind}: 2 deleted" in result.output
    left = run_in_transaction(clean_tables.sessions, _left)
    assert left == {"tokens": 1, "idempotency keys": 1, "rate-limit counters": 1}
