"""Typed ORM mappings, one module per aggregate."""

from movr.models.active_ride import ActiveRide
from movr.models.base import Base
from movr.models.idempotency import IdempotencyKey
from movr.models.rate_limit import RateLimitCounter
from movr.models.ride import Ride
from movr.models.token import ApiToken
from movr.models.user import User
from movr.models.vehicle import Vehicle, VehicleStatus, VehicleType

__all__ = [
    "ActiveRide",
    "ApiToken",
    "Base",
    "IdempotencyKey",
    "RateLimitCounter",
    "Ride",
    "User",
    "Vehicle",
    "VehicleStatus",
    "VehicleType",
]
