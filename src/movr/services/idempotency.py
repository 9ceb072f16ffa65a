"""Idempotency keys: a request's first answer is stored by the statement that did its work.

A keyed ride action writes its key in the ride's own statement (see `remembering`), so the key
exists exactly when the work was done; a repeat's statement meets the key's unique index, fails
as a whole (changing nothing) and answers what the key remembers. Refusals are remembered by a
statement of their own, since nothing was written.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Interval, bindparam, text
from sqlalchemy.exc import IntegrityError

from movr.db.sql import Executor
from movr.db.units import fresh_read, statement
from movr.services.callers import CALLER, Caller
from movr.services.errors import DomainError

KEY_CONSTRAINT = "idempotency_keys_pkey"


class IdempotencyKeyReused(DomainError):
    """The key was used before for a different request."""

    code = "idempotency_key_reused"
    status = 422


class IdempotencyKeyInFlight(DomainError):
    """The key is held by a request that has not answered yet."""

    code = "idempotency_key_in_flight"
    status = 409


class KeyTaken(Exception):
    """The key already holds an answer; the statement that met it changed nothing."""


@dataclass(frozen=True, slots=True)
class Claim:
    """One caller's key for one request (its fingerprint), and how long it is remembered."""

    caller: Caller
    key: str
    city: str
    fingerprint: str
    ttl: timedelta


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A refusal as first answered: its HTTP status and body."""

    status: int
    body: str


@dataclass(frozen=True, slots=True)
class RideMade:
    """What a taken key holds when its request started or ended a ride: that ride."""

    rider_id: uuid.UUID
    ride_id: uuid.UUID


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 over what makes two requests "the same" (`body` in a canonical form, so that
    key order, spacing or how a number or UUID is spelled do not make it another request)."""
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def remembering(ride: str) -> str:
    """A CTE that stores the key (if any) naming the ride returned by the CTE `ride`.

    For the statement of a ride action, whose parameters come from `key_parameters`; the key's
    user is the ride's rider (the claim's caller, resolved by that statement). A plain
    INSERT: a key already there fails the whole statement (KeyTaken), so a repeat changes nothing.
    """
    return f"""remembered AS (
        INSERT INTO idempotency_keys (user_id, key, city, request_hash, ride_id, expires_at)
        SELECT rider_id, CAST(:key AS text), :key_city, :key_request_hash, id, now() + :key_ttl
        FROM {ride} WHERE CAST(:key AS text) IS NOT NULL
        RETURNING key
    )"""  # noqa: S608 -- `ride` is a CTE name of ours, never input


KEY_BINDS = (bindparam("key_ttl", type_=Interval()),)


def key_parameters(claim: Claim | None) -> dict[str, Any]:
    """The parameters of `remembering` (all NULL without a key)."""
    if claim is None:
        return {"key": None, "key_city": None, "key_request_hash": None, "key_ttl": None}
    return {
        "key": claim.key,
        "key_city": claim.city,
        "key_request_hash": claim.fingerprint,
        "key_ttl": claim.ttl,
    }


def raise_if_key_taken(error: IntegrityError) -> None:
    """KeyTaken when a ride statement failed on the key's unique index."""
    if KEY_CONSTRAINT in str(error.orig):
        raise KeyTaken from None


# Plain SQL: the ORM form of an upsert was compiled afresh on every request (bench/RESULTS.md).
# Each statement resolves the claim's caller itself (callers.CALLER): no token lookup first.
# An expired key is taken over.
REMEMBER_REFUSAL = text(
    f"""
    WITH {CALLER}
    INSERT INTO idempotency_keys (user_id, key, city, request_hash, response_status,
                                  response_body, expires_at)
    SELECT caller.id, :key, :city, :request_hash, :status, :body, now() + :ttl FROM caller
    ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = excluded.request_hash, response_status = excluded.response_status,
            response_body = excluded.response_body, ride_id = NULL, created_at = now(),
            expires_at = excluded.expires_at
        WHERE idempotency_keys.expires_at <= now()
    RETURNING key
    """  # noqa: S608 -- a constant CTE, no input
).bindparams(bindparam("ttl", type_=Interval()))

STORED = text(
    f"""
    WITH {CALLER}
    SELECT user_id, request_hash, response_status, response_body, ride_id,
           expires_at <= now() AS expired
    FROM idempotency_keys WHERE user_id = (SELECT id FROM caller) AND key = :key
    """  # noqa: S608 -- a constant CTE, no input
)

FORGET_EXPIRED = text(
    f"""
    WITH {CALLER}
    DELETE FROM idempotency_keys
    WHERE user_id = (SELECT id FROM caller) AND key = :key AND expires_at <= now()
    """  # noqa: S608 -- a constant CTE, no input
)


@statement
def remember_refusal(executor: Executor, claim: Claim, refusal: StoredResponse) -> None:
    """Store a refusal as the key's answer (one statement); KeyTaken if the key is taken (or
    the caller is no longer valid: its replay then finds nothing and the action runs again)."""
    taken = executor.execute(
        REMEMBER_REFUSAL,
        claim.caller.parameters()
        | {
            "key": claim.key,
            "city": claim.city,
            "request_hash": claim.fingerprint,
            "status": refusal.status,
            "body": refusal.body,
            "ttl": claim.ttl,
        },
    ).first()
    if taken is None:
        raise KeyTaken(claim.key)


@fresh_read
def remembered(executor: Executor, claim: Claim) -> RideMade | StoredResponse | None:
    """What a taken key holds: the ride its request made, or the refusal it got; None if it
    has expired (or is gone). IdempotencyKeyReused if it answered a different request.

    Keys are only deleted once expired (`forget_expired`), so the row that refused the key is
    there unless it expired meanwhile.
    """
    stored = executor.execute(STORED, claim.caller.parameters() | {"key": claim.key}).first()
    if stored is None or stored.expired:
        return None
    if stored.request_hash != claim.fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    if stored.ride_id is not None:
        return RideMade(rider_id=stored.user_id, ride_id=stored.ride_id)
    if stored.response_status is None or stored.response_body is None:
        # Only MovR before 0.2 claimed keys ahead of the work; seen during a rolling upgrade.
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still running.")
    return StoredResponse(stored.response_status, stored.response_body)


@statement
def forget_expired(executor: Executor, claim: Claim) -> None:
    """Delete the key if it has expired, so that its next use starts afresh."""
    executor.execute(FORGET_EXPIRED, claim.caller.parameters() | {"key": claim.key})
