"""Vehicles: add in the owner's home city, list by city, retire."""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Float, String, func, insert, literal, select, text, tuple_
from sqlalchemy.orm import Session

from movr.db.sql import Executor, with_result_columns
from movr.db.units import note_write, read, statement
from movr.models import User, Vehicle, VehicleStatus, VehicleType
from movr.models.base import BRAND_MAX, COLOR_MAX, LOCATION_MAX
from movr.regions import RegionMap
from movr.services import callers
from movr.services.callers import Caller, UnknownCaller
from movr.services.errors import (
    Forbidden,
    HomeRegionRequired,
    InvalidInput,
    NotFound,
    VehicleInUse,
)
from movr.services.pagination import (
    DistanceCursor,
    NearbyPageRequest,
    Page,
    PageRequest,
    newest_first,
    to_page,
)
from movr.services.positions import Position, outside_city


@dataclass(frozen=True, slots=True)
class NewVehicle:
    """What an owner enters to add a vehicle."""

    type: str
    color: str
    brand: str
    location: str
    position: Position | None = None


class Owner(Protocol):
    """Who adds a vehicle: their account as the request read it (a User, an Account, the
    web's CurrentUser)."""

    @property
    def id(self) -> uuid.UUID:
        """The account's id."""
        ...

    @property
    def city(self) -> str:
        """The account's home city."""
        ...


def _validate(vehicle: NewVehicle) -> None:
    if vehicle.type not in {t.value for t in VehicleType}:
        raise InvalidInput("type", "Choose bike, scooter or skateboard.")
    for field, value, limit in (
        ("color", vehicle.color, COLOR_MAX),
        ("brand", vehicle.brand, BRAND_MAX),
        ("location", vehicle.location, LOCATION_MAX),
    ):
        if not value.strip() or len(value.strip()) > limit:
            raise InvalidInput(field, f"Enter 1 to {limit} characters.")


# What add_vehicle inserts, in the order of its SELECT from the owner's row.
ADDED_COLUMNS = (
    "city",
    "owner_id",
    "type",
    "color",
    "brand",
    "last_location",
    "latitude",
    "longitude",
)


@statement(orm=True)
def add_vehicle(
    session: Session,
    region_map: RegionMap,
    owner: Owner,
    region_cities: Collection[str],
    vehicle: NewVehicle,
) -> Vehicle:
    """Add a vehicle in the owner's home city (as the request's check of the account read
    it), which must be served by this region.

    Without coordinates the vehicle is placed at the home city's centre. One statement: the
    vehicle is inserted only if the owner's account is still live in that city (NotFound if
    it is not: deleted since the request's check).
    """
    _validate(vehicle)
    city = region_map.city(owner.city)
    if city.id not in region_cities:
        raise HomeRegionRequired(
            f"Vehicles are added in your home city, {city.name}, served by region {city.region}.",
            region=city.region,
        )
    position = vehicle.position or Position(city.latitude, city.longitude)
    if not city.reaches(position.latitude, position.longitude):
        raise outside_city(position, city)
    live_owner = select(
        User.city,
        User.id,
        literal(vehicle.type, String()),
        literal(vehicle.color.strip(), String()),
        literal(vehicle.brand.strip(), String()),
        literal(vehicle.location.strip(), String()),
        literal(position.latitude, Float()),
        literal(position.longitude, Float()),
    ).where(User.id == owner.id, User.city == city.id, User.deleted_at.is_(None))
    added = session.execute(
        insert(Vehicle)
        .from_select(ADDED_COLUMNS, live_owner)
        .returning(Vehicle, func.txid_current())
    ).first()
    if added is None:
        raise NotFound("This account does not exist.")
    note_write(session, added.txid_current)
    new: Vehicle = added[0]
    return new


@read(orm=True)
def list_city_vehicles(session: Session, city: str, page: PageRequest) -> Page[Vehicle]:
    """Vehicles of a city that are not retired, newest first (one indexed query)."""
    query = select(Vehicle).where(Vehicle.city == city, Vehicle.status != VehicleStatus.REMOVED)
    vehicles = session.scalars(newest_first(query, Vehicle.date_added, Vehicle.id, page)).all()
    return to_page(vehicles, page, lambda v: (v.date_added, v.id))


@dataclass(frozen=True, slots=True)
class NearbyVehicle:
    """A vehicle and its distance in metres from the point the list was ordered by."""

    vehicle: Vehicle
    distance_m: float


# Metres per degree of latitude (a sphere of the Earth's mean radius).
METRES_PER_DEGREE = 111_195.0
# Vehicles without a position sort after every real distance.
NO_POSITION_M = 1e9


@read(orm=True)
def nearest_vehicles(
    session: Session, city: str, origin: Position, page: NearbyPageRequest
) -> Page[NearbyVehicle]:
    """Vehicles of a city that are not retired, nearest to `origin` first (one query).

    An equirectangular distance: exact enough within a city, plain arithmetic on both
    PostgreSQL and CockroachDB. Unlike newest-first, no index gives this order: the city's
    vehicles are scanned and the top rows kept (a bounded sort), still one statement.
    """
    shrink = math.cos(math.radians(origin.latitude))  # a degree of longitude is shorter
    east = (Vehicle.longitude - origin.longitude) * shrink
    north = Vehicle.latitude - origin.latitude
    distance = func.coalesce(
        func.sqrt(east * east + north * north) * METRES_PER_DEGREE, NO_POSITION_M
    ).label("distance_m")
    query = select(Vehicle, distance).where(
        Vehicle.city == city, Vehicle.status != VehicleStatus.REMOVED
    )
    if page.cursor is not None:
        after = tuple_(literal(page.cursor.distance), literal(page.cursor.id))
        query = query.where(tuple_(distance, Vehicle.id) > after)
    rows = session.execute(query.order_by(distance, Vehicle.id).limit(page.size + 1)).all()
    found = [NearbyVehicle(row[0], float(row[1])) for row in rows]
    if len(found) <= page.size:
        return Page(found, None)
    last = found[page.size - 1]
    return Page(found[: page.size], DistanceCursor(last.distance_m, last.vehicle.id).encode())


@read(orm=True)
def list_owned_vehicles(session: Session, owner_id: uuid.UUID, page: PageRequest) -> Page[Vehicle]:
    """The owner's vehicles that are not retired, newest first."""
    query = select(Vehicle).where(
        Vehicle.owner_id == owner_id, Vehicle.status != VehicleStatus.REMOVED
    )
    vehicles = session.scalars(newest_first(query, Vehicle.date_added, Vehicle.id, page)).all()
    return to_page(vehicles, page, lambda v: (v.date_added, v.id))


# One statement: the caller's check (services.callers), the conditional retirement and, in the
# same snapshot, what the vehicle was, read only when nothing was retired (then `vehicles` was
# not changed by this statement, and the outer read is the same on PostgreSQL and CockroachDB).
RETIRE_VEHICLE = with_result_columns(
    text(
        f"""
    WITH {callers.CALLER}, retired AS (
        UPDATE vehicles SET status = 'removed', removed_at = now()
        WHERE id = :vehicle_id AND owner_id = {callers.CALLER_ID} AND status = 'available'
        RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM retired) AS retired,
           found.owner_id AS found_owner_id, found.status AS found_status,
           {callers.CALLER_ID} AS caller_id, txid_current() AS write_xid
    FROM (SELECT 1) AS one
    LEFT JOIN vehicles AS found ON found.id = :vehicle_id
    """  # noqa: S608 -- constant CTEs, no input
    ),
    ("retired", "found_owner_id", "found_status", "caller_id", "write_xid"),
)


@dataclass(frozen=True, slots=True)
class Retired:
    """A vehicle just retired, and its owner (the caller the statement resolved)."""

    vehicle_id: uuid.UUID
    owner_id: uuid.UUID


@statement
def retire_vehicle(executor: Executor, owner: Caller | uuid.UUID, vehicle_id: uuid.UUID) -> Retired:
    """Retire the owner's own available vehicle (a conditional update: racing rides lose).

    `owner` is a user id or a Caller (a token: UnknownCaller if it is not valid, and nothing
    changed), checked by the retirement's own statement.
    """
    parameters = Caller.of(owner).parameters() | {"vehicle_id": vehicle_id}
    row = executor.execute(RETIRE_VEHICLE, parameters).one()
    if row.retired:
        note_write(executor, row.write_xid)
        return Retired(vehicle_id, row.caller_id)
    if row.caller_id is None:
        raise UnknownCaller()
    if row.found_status in (None, VehicleStatus.REMOVED):
        raise NotFound("No such vehicle.")
    if row.found_owner_id != row.caller_id:
        raise Forbidden("Only the owner can retire this vehicle.")
    raise VehicleInUse("This vehicle is being ridden; retire it after the ride ends.")
