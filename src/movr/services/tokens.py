"""API bearer tokens: issue, resolve to a user (one statement), revoke."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from movr.models import ApiToken, User

TOKEN_PREFIX = "movr_"  # noqa: S105 -- a recognisable prefix, not a secret


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token as shown to its owner, once."""

    token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    """SHA-256 hex of a token: what the database stores and looks up."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, ttl: timedelta) -> IssuedToken:
    """A new random token for `user`, valid for `ttl`."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = session.scalars(
        insert(ApiToken)
        .values(
            user_id=user.id,
            city=user.city,
            token_hash=token_hash(token),
            expires_at=func.now() + ttl,
        )
        .returning(ApiToken.expires_at)
    ).one()
    return IssuedToken(token, expires_at)


def user_for_token(session: Session, token: str) -> User | None:
    """The live account behind a valid (unexpired, unrevoked) token, in one statement."""
    return session.scalars(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == token_hash(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > func.now(),
            User.deleted_at.is_(None),
        )
    ).one_or_none()


def revoke_token(session: Session, user_id: uuid.UUID, token: str) -> None:
    """Revoke one of the user's tokens (no-op if already revoked)."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.token_hash == token_hash(token),
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
    )
