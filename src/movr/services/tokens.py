"""Tokens (API bearer tokens, browser sessions): issue, resolve to a user (one statement),
revoke."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, insert, literal, null, select, text, update

from movr.db.sql import Executor, with_result_columns
from movr.db.units import fresh, note_write, read, statement
from movr.models import ApiToken, User
from movr.services.accounts import ACCOUNT_COLUMNS, ACCOUNT_FIELDS, Account
from movr.services.errors import InvalidCredentials

# A token that still works (the same test wherever a token is resolved).
LIVE_TOKEN = "api_tokens.revoked_at IS NULL AND api_tokens.expires_at > now()"  # noqa: S105 -- SQL, not a secret
TOKEN_PREFIX = "movr_"  # noqa: S105 -- a recognisable prefix, not a secret


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as shown to its owner, once."""

    token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    """SHA-256 hex of a token: what the database stores and looks up."""
    return hashlib.sha256(token.encode()).hexdigest()


# Where a token is accepted: an API token only from `Authorization: Bearer`, a session's
# token only from its browser's session cookie (with CSRF for writes).
TokenKind = Literal["api", "session"]
API: TokenKind = "api"
SESSION: TokenKind = "session"


def _insert_token(
    executor: Executor,
    user_id: uuid.UUID,
    city: str,
    ttl: timedelta,
    kind: TokenKind,
    *,
    also: ColumnElement[Any] | None = None,
) -> tuple[IssuedToken, Any]:
    """Insert a new token of `kind` for the live user `user_id`: the token, and the value of
    `also` (a scalar computed in the same statement, on the rows as they were before it)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    live_user = select(
        literal(user_id), literal(city), literal(token_hash(token)), literal(kind), func.now() + ttl
    ).where(User.id == user_id, User.deleted_at.is_(None))
    issued = executor.execute(
        insert(ApiToken)
        .from_select(["user_id", "city", "token_hash", "kind", "expires_at"], live_user)
        .returning(ApiToken.expires_at, func.txid_current(), also if also is not None else null())
    ).first()
    if issued is None:
        raise InvalidCredentials("Invalid username or password.")
    note_write(executor, issued[1])
    return IssuedToken(token, issued[0]), issued[2]


@statement
def issue_token(
    executor: Executor, user_id: uuid.UUID, city: str, ttl: timedelta, kind: TokenKind = API
) -> IssuedToken:
    """A new random token for the live user `user_id` (living in `city`), valid for `ttl`;
    InvalidCredentials if the account was deleted meanwhile (its password may have been
    checked on a replica that had not seen the deletion yet).

    Bearer tokens of the API and the pages' sessions alike: either can be revoked on its own.
    """
    return _insert_token(executor, user_id, city, ttl, kind)[0]


def _live_api_tokens(user_id: uuid.UUID) -> ColumnElement[Any]:
    return (
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.kind == API, text(LIVE_TOKEN))
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class ApiTokenIssued:
    """A new API token, and whether the account now holds more live ones than its cap."""

    issued: IssuedToken
    over_cap: bool


@statement
def issue_api_token(
    executor: Executor, user_id: uuid.UUID, city: str, ttl: timedelta, cap: int
) -> ApiTokenIssued:
    """A new API token, as `issue_token`, in the same one statement counting the account's
    other live API tokens: over `cap`, `revoke_surplus` revokes the oldest (a script that logs
    in again and again cannot pile them up)."""
    issued, others = _insert_token(
        executor, user_id, city, ttl, API, also=_live_api_tokens(user_id)
    )
    return ApiTokenIssued(issued, over_cap=int(others) >= cap)


# The account's live API tokens beyond its newest `keep`.
REVOKE_SURPLUS = text(
    f"""
    UPDATE api_tokens SET revoked_at = now()
    WHERE id IN (
        SELECT api_tokens.id FROM api_tokens
        WHERE api_tokens.user_id = :user_id AND api_tokens.kind = 'api' AND {LIVE_TOKEN}
        ORDER BY api_tokens.created_at DESC, api_tokens.id DESC
        OFFSET :keep)
    """  # noqa: S608 -- constant SQL
)


@statement
def revoke_surplus(executor: Executor, user_id: uuid.UUID, keep: int) -> None:
    """Revoke the account's live API tokens beyond its newest `keep`.

    A second statement only when a login went over the cap, not a transaction around every
    login: two logins at the same moment may both see room and leave one token too many, which
    the next login over the cap takes back. (One statement cannot both insert the token and
    revoke others: CockroachDB refuses two changes of one table in a statement.)
    """
    executor.execute(REVOKE_SURPLUS, {"user_id": user_id, "keep": keep})


ACCOUNT_FOR_TOKEN = with_result_columns(
    text(
        f"SELECT {ACCOUNT_COLUMNS} FROM api_tokens JOIN users ON users.id = api_tokens.user_id "  # noqa: S608 -- constant SQL
        f"WHERE api_tokens.token_hash = :token_hash AND api_tokens.kind = :kind AND {LIVE_TOKEN} "
        "AND users.deleted_at IS NULL"
    ),
    ACCOUNT_FIELDS,
)


@read
def user_for_token(executor: Executor, token: str, kind: TokenKind = API) -> Account | None:
    """The live account behind a valid (unexpired, unrevoked) token of `kind`, in one
    statement."""
    parameters = {"token_hash": token_hash(token), "kind": kind}
    row = executor.execute(ACCOUNT_FOR_TOKEN, parameters).first()
    return Account(*row) if row is not None else None


# For requests that write: the token is checked on the primary, so a revoked session or token
# is refused at once there, whatever a lagging replica still says.
fresh_user_for_token = fresh(user_for_token)


@statement
def revoke_token(executor: Executor, user_id: uuid.UUID, token: str) -> None:
    """Revoke one of the user's tokens (no-op if already revoked)."""
    revoked = executor.execute(
        update(ApiToken)
        .where(
            ApiToken.token_hash == token_hash(token),
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
        .returning(func.txid_current())
    ).first()
    if revoked is not None:
        note_write(executor, revoked[0])
