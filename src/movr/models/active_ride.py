"""Rides in progress: one row each, whose unique keys are invariants 1 and 2."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from movr.models.base import Base, City


class ActiveRide(Base):
    """A ride that has started and not ended; deleted when it ends."""

    __tablename__ = "active_rides"

    ride_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rides.id"), primary_key=True)
    vehicle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vehicles.id"))
    rider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    city: Mapped[City]
