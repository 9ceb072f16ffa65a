"""Tokens (API bearer tokens, browser sessions): issue, resolve to a user (one statement),
revoke."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, insert, literal, select, text, update
from sqlalchemy.orm import Session

from movr.db.sql import Executor, with_result_columns
from movr.db.units import fresh, note_write, read, statement, transaction
from movr.models import ApiToken, User
from movr.services.errors import InvalidCredentials
from movr.services.users import ACCOUNT_COLUMNS, ACCOUNT_FIELDS, Account

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
    executor: Executor, user_id: uuid.UUID, city: str, ttl: timedelta, kind: TokenKind
) -> tuple[uuid.UUID, IssuedToken]:
    """Insert a new token of `kind` for the live user `user_id`: its id and the token."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    live_user = select(
        literal(user_id), literal(city), literal(token_hash(token)), literal(kind), func.now() + ttl
    ).where(User.id == user_id, User.deleted_at.is_(None))
    issued = executor.execute(
        insert(ApiToken)
        .from_select(["user_id", "city", "token_hash", "kind", "expires_at"], live_user)
        .returning(ApiToken.id, ApiToken.expires_at, func.txid_current())
    ).first()
    if issued is None:
        raise InvalidCredentials("Invalid username or password.")
    note_write(executor, issued[2])
    return issued[0], IssuedToken(token, issued[1])


@statement
def issue_token(
    executor: Executor, user_id: uuid.UUID, city: str, ttl: timedelta, kind: TokenKind = API
) -> IssuedToken:
    """A new random token for the live user `user_id` (living in `city`), valid for `ttl`;
    InvalidCredentials if the account was deleted meanwhile (its password may have been
    checked on a replica that had not seen the deletion yet).

    Bearer tokens of the API and the pages' sessions alike: either can be revoked on its own.
    """
    return _insert_token(executor, user_id, city, ttl, kind)[1]


# The account's live API tokens beyond the newest `keep` (besides the one just issued).
REVOKE_SURPLUS = text(
    f"""
    UPDATE api_tokens SET revoked_at = now()
    WHERE id IN (
        SELECT api_tokens.id FROM api_tokens
        WHERE api_tokens.user_id = :user_id AND api_tokens.kind = 'api'
          AND api_tokens.id <> :issued AND {LIVE_TOKEN}
        ORDER BY api_tokens.created_at DESC, api_tokens.id DESC
        OFFSET :keep)
    """  # noqa: S608 -- constant SQL
)


@transaction
def issue_api_token(
    session: Session, user_id: uuid.UUID, city: str, ttl: timedelta, cap: int
) -> IssuedToken:
    """A new API token, as `issue_token`; the account keeps at most `cap` live API tokens,
    its oldest revoked (a script that logs in again and again cannot pile them up). One
    SERIALIZABLE transaction, so concurrent logins of one account cannot exceed the cap."""
    issued_id, issued = _insert_token(session, user_id, city, ttl, API)
    session.execute(REVOKE_SURPLUS, {"user_id": user_id, "issued": issued_id, "keep": cap - 1})
    return issued


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
