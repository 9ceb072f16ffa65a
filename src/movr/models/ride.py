"""Rides: one vehicle, one rider, a start and (once) an end."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Computed, Float, ForeignKey, Interval, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from movr.models.base import LOCATION_MAX, Base, City, CreatedAt, UUIDPrimaryKey


class Ride(Base):
    """A ride; active while `end_time` is NULL."""

    __tablename__ = "rides"

    id: Mapped[UUIDPrimaryKey]
    city: Mapped[City]
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vehicles.id"))
    rider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    start_location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    start_latitude: Mapped[float | None] = mapped_column(Float)
    start_longitude: Mapped[float | None] = mapped_column(Float)
    end_location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    end_latitude: Mapped[float | None] = mapped_column(Float)
    end_longitude: Mapped[float | None] = mapped_column(Float)
    start_time: Mapped[CreatedAt]
    end_time: Mapped[datetime | None]
    # Derived by the database, so it can never disagree with the two timestamps.
    length: Mapped[timedelta | None] = mapped_column(
        Interval, Computed("end_time - start_time", persisted=True)
    )
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
