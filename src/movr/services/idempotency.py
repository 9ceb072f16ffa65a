"""Idempotency keys: a request's first response is stored by the transaction that produced it."""

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
    """The key is held by a request that has not answered yet."""

    code = "idempotency_key_in_flight"
    status = 409


class KeyTaken(Exception):
    """The key already holds an answer: the transaction that met it must roll back."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What the first request answered."""

    status: int
    body: str


@dataclass(frozen=True, slots=True)
class Claim:
    """One user's key for one request (its fingerprint) and how long it is remembered."""

    user_id: uuid.UUID
    key: str
    city: str
    fingerprint: str
    ttl: timedelta


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over what makes two requests "the same"."""
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


# Plain SQL: the ORM form of this upsert was compiled afresh on every request (it was half the
# CPU time of an idempotent ride action; bench/RESULTS.md). An expired key is taken over.
REMEMBER = text(
    """
    INSERT INTO idempotency_keys (user_id, key, city, request_hash, response_status,
                                  response_body, expires_at)
    VALUES (:user_id, :key, :city, :request_hash, :status, :body, now() + :ttl)
    ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = excluded.request_hash, response_status = excluded.response_status,
            response_body = excluded.response_body, created_at = now(),
            expires_at = excluded.expires_at
        WHERE idempotency_keys.expires_at <= now()
    RETURNING key
    """
).bindparams(bindparam("ttl", type_=Interval()))

STORED = text(
    "SELECT request_hash, response_status, response_body FROM idempotency_keys "
    "WHERE user_id = :user_id AND key = :key"
)


def remember(session: Session, claim: Claim, response: StoredResponse) -> None:
    """Store `response` as the key's answer, in the transaction that did the work.

    One statement after the work, instead of claiming the key before it: a repeat finds the
    key taken and rolls its own work back (KeyTaken), and no reader ever sees a key without
    its answer. Concurrent first uses of a key meet at its unique index; one commits.
    """
    taken = session.execute(
        REMEMBER,
        {
            "user_id": claim.user_id,
            "key": claim.key,
            "city": claim.city,
            "request_hash": claim.fingerprint,
            "status": response.status,
            "body": response.body,
            "ttl": claim.ttl,
        },
    ).first()
    if taken is None:
        raise KeyTaken(claim.key)


def first_response(session: Session, claim: Claim) -> StoredResponse:
    """The answer stored for a taken key; IdempotencyKeyReused if it answered another request.

    Keys are never deleted (an expired one is taken over), so the row that refused `remember`
    is there.
    """
    stored = session.execute(STORED, {"user_id": claim.user_id, "key": claim.key}).one()
    if stored.request_hash != claim.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    if stored.response_status is None or stored.response_body is None:
        # Only MovR before 0.2 claimed keys ahead of the work; seen during a rolling upgrade.
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still running.")
    return StoredResponse(stored.response_status, stored.response_body)
