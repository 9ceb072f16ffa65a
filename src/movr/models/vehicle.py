"""Vehicles offered for rides."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from movr.models.base import (
    BRAND_MAX,
    COLOR_MAX,
    LOCATION_MAX,
    Base,
    City,
    CreatedAt,
    UUIDPrimaryKey,
)


class VehicleType(enum.StrEnum):
    """Kinds of vehicle."""

    BIKE = "bike"
    SCOOTER = "scooter"
    SKATEBOARD = "skateboard"


class VehicleStatus(enum.StrEnum):
    """Lifecycle of a vehicle; `in_use` exactly while it has an active ride."""

    AVAILABLE = "available"
    IN_USE = "in_use"
    REMOVED = "removed"


class Vehicle(Base):
    """A bike, scooter or skateboard in one city."""

    __tablename__ = "vehicles"

    id: Mapped[UUIDPrimaryKey]
    city: Mapped[City]
    type: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    date_added: Mapped[CreatedAt]
    # Stored as the same short strings (VARCHAR with vehicles_status_check, no database enum
    # type): the enum lives in Python only, so the schema and raw SQL need no change.
    status: Mapped[VehicleStatus] = mapped_column(
        Enum(
            VehicleStatus,
            native_enum=False,
            create_constraint=False,  # the migration's vehicles_status_check already exists
            length=16,
            values_callable=lambda statuses: [s.value for s in statuses],  # not the names
            validate_strings=True,
        ),
        server_default=VehicleStatus.AVAILABLE.value,
    )
    last_location: Mapped[str | None] = mapped_column(String(LOCATION_MAX))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    color: Mapped[str] = mapped_column(String(COLOR_MAX))
    brand: Mapped[str] = mapped_column(String(BRAND_MAX))
    removed_at: Mapped[datetime | None]
