"""Domain objects to API response bodies."""

from __future__ import annotations

import uuid

from movr.models import User, Vehicle
from movr.services.accounts import Account
from movr.services.rides import RideView
from movr.web.api.schemas import Me, RideOut, VehicleOut
from movr.web.auth import CurrentUser


def me_out(user: User | Account | CurrentUser) -> Me:
    """Your own account (any object with the account's attributes)."""
    return Me.model_validate(user, from_attributes=True)


def vehicle_out(vehicle: Vehicle, viewer: uuid.UUID) -> VehicleOut:
    """A vehicle as `viewer` sees it."""
    return VehicleOut(
        id=vehicle.id,
        city=vehicle.city,
        type=vehicle.type,
        color=vehicle.color,
        brand=vehicle.brand,
        location=vehicle.last_location,
        latitude=vehicle.latitude,
        longitude=vehicle.longitude,
        status=vehicle.status,
        date_added=vehicle.date_added,
        is_mine=vehicle.owner_id == viewer,
    )


def ride_out(ride: RideView) -> RideOut:
    """A ride."""
    return RideOut(
        id=ride.id,
        city=ride.city,
        vehicle_id=ride.vehicle_id,
        vehicle_type=ride.vehicle_type,
        vehicle_brand=ride.vehicle_brand,
        vehicle_color=ride.vehicle_color,
        start_location=ride.start_location,
        end_location=ride.end_location,
        start_time=ride.start_time,
        end_time=ride.end_time,
        length_seconds=ride.length.total_seconds() if ride.length is not None else None,
        revenue=ride.revenue,
        active=ride.active,
    )
