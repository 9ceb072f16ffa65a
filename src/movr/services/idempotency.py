"""Idempotency keys: the first response of a request is stored with the action it caused."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from movr.models import IdempotencyKey
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
    taken = session.execute(
        insert(IdempotencyKey)
        .values(
            user_id=user_id,
            key=key,
            city=city,
            request_hash=fingerprint,
            expires_at=func.now() + ttl,
        )
        .on_conflict_do_update(
            index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
            set_={
                "request_hash": fingerprint,
                "response_status": None,
                "response_body": None,
                "created_at": func.now(),
                "expires_at": func.now() + ttl,
            },
            where=IdempotencyKey.expires_at <= func.now(),
        )
        .returning(IdempotencyKey.key)
    ).first()
    if taken is not None:
        return None
    stored = session.execute(
        select(
            IdempotencyKey.request_hash,
            IdempotencyKey.response_status,
            IdempotencyKey.response_body,
        ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).one()
    if stored.request_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    if stored.response_status is None or stored.response_body is None:
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still running.")
    return StoredResponse(stored.response_status, stored.response_body)


def store(session: Session, user_id: uuid.UUID, key: str, response: StoredResponse) -> None:
    """Remember the response for the key claimed in this transaction."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(response_status=response.status, response_body=response.body)
    )
