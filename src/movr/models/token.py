"""API bearer tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from movr.models.base import Base, City, CreatedAt, UUIDPrimaryKey


class ApiToken(Base):
    """A bearer token of one user; valid until it expires or is revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[UUIDPrimaryKey]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    city: Mapped[City]
    token_hash: Mapped[str] = mapped_column(String(64))
    # 'api' (a bearer token, from Authorization) or 'session' (a browser session's, from its
    # cookie): each kind is accepted only from its own place.
    kind: Mapped[str] = mapped_column(String(16), server_default=text("'api'"))
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
