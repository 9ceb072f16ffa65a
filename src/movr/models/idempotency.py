"""Stored first answers of idempotent API requests."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from movr.models.base import Base, City, CreatedAt


class IdempotencyKey(Base):
    """One user's key and the answer of its first request, written with that request's work.

    A success names the ride it started or ended (`ride_id`); a refusal keeps its status and
    body. A row with neither was left by MovR before 0.2, which claimed keys ahead of the work.
    """

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    city: Mapped[City]
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    ride_id: Mapped[uuid.UUID | None]
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime]
