"""Rate-limit counters shared by every worker and instance of a region (web/limit_storage)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from movr.models.base import Base, City


class RateLimitCounter(Base):
    """Hits on one limit key (e.g. failed logins from one address) in its current window."""

    __tablename__ = "rate_limit_counters"

    city: Mapped[City] = mapped_column(primary_key=True)  # the serving region's first city
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[datetime]
