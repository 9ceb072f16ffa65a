"""Idempotency keys: the first response of a request is stored with the action it caused."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Interval, bindparam, text
from sqlalchemy.orm import Session

from movr.services.errors import DomainError

KEY_MAX = 255


class IdempotencyKeyReused(DomainError):
    """The key was used before for a different request."""

    code = "idempotency_key_reused"
    status = 422


class IdempotencyKeyInFlight(DomainError):
    """A request with this key has not finished yet."""

    code = "idempotency_key_in_flight"
    status = 409


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What the first request answered."""

    status: int
    body: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over what makes two requests "the same"."""
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


# Plain SQL: the ORM form of this upsert was compiled afresh on every request (it was half the
# CPU time of an idempotent ride action; bench/RESULTS.md).
CLAIM = text(
    """
    INSERT INTO idempotency_keys (user_id, key, city, request_hash, expires_at)
    VALUES (:user_id, :key, :city, :request_hash, now() + :ttl)
    ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = excluded.request_hash, response_status = NULL,
            response_body = NULL, created_at = now(), expires_at = excluded.expires_at
        WHERE idempotency_keys.expires_at <= now()
    RETURNING key
    """
).bindparams(bindparam("ttl", type_=Interval()))

STORED = text(
    "SELECT request_hash, response_status, response_body FROM idempotency_keys "
    "WHERE user_id = :user_id AND key = :key"
)

STORE = text(
    "UPDATE idempotency_keys SET response_status = :status, response_body = :body "
    "WHERE user_id = :user_id AND key = :key"
)


def claim(
    session: Session,
    user_id: uuid.UUID,
    *,
    city: str,
    key: str,
    fingerprint: str,
    ttl: timedelta,
) -> StoredResponse | None:
    """Take the key for this request, or return the response stored for it.

    None means the caller owns the key (new, or the old one expired) and must `store` a response
    in the same transaction. A key reused for a different request raises IdempotencyKeyReused.
    """
    identity = {"user_id": user_id, "key": key}
    taken = session.execute(
        CLAIM, identity | {"city": city, "request_hash": fingerprint, "ttl": ttl}
    ).first()
    if taken is not None:
        return None
    stored = session.execute(STORED, identity).one()
    if stored.request_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    if stored.response_status is None or stored.response_body is None:
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still running.")
    return StoredResponse(stored.response_status, stored.response_body)


def store(session: Session, user_id: uuid.UUID, key: str, response: StoredResponse) -> None:
    """Remember the response for the key claimed in this transaction."""
    session.execute(
        STORE, {"user_id": user_id, "key": key, "status": response.status, "body": response.body}
    )
