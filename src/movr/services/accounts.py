"""A live account as a request reads it, and the columns that read it (sessions, tokens, users)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Account:
    """A live account as the request needs it: who is calling (no password hash)."""

    id: uuid.UUID
    city: str
    first_name: str
    last_name: str
    email: str
    username: str
    created_at: datetime


# Read on every request (session or token): plain SQL is a third of the ORM's Python cost.
ACCOUNT_FIELDS = tuple(field.name for field in fields(Account))
ACCOUNT_COLUMNS = ", ".join(f"users.{name}" for name in ACCOUNT_FIELDS)
