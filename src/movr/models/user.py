"""Riders and vehicle owners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from movr.models.base import (
    EMAIL_MAX,
    NAME_MAX,
    PASSWORD_HASH_MAX,
    USERNAME_MAX,
    Base,
    City,
    CreatedAt,
    UUIDPrimaryKey,
)


class User(Base):
    """A MovR account; deleting it erases the personal fields and keeps the row for ride history."""

    __tablename__ = "users"

    id: Mapped[UUIDPrimaryKey]
    city: Mapped[City]
    first_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    last_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    username: Mapped[str | None] = mapped_column(String(USERNAME_MAX))
    password_hash: Mapped[str | None] = mapped_column(String(PASSWORD_HASH_MAX))
    created_at: Mapped[CreatedAt]
    deleted_at: Mapped[datetime | None]

    @property
    def display_name(self) -> str:
        """Full name, or a neutral label once erased."""
        if self.deleted_at is not None:
            return "Deleted user"
        return f"{self.first_name or ''} {self.last_name or ''}".strip() or (self.username or "")
