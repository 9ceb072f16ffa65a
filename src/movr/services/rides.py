"""Rides: start (one winner per vehicle), end (once, by the rider), history."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Float, Numeric, Row, Select, String, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from movr.db.sql import Executor, with_result_columns
from movr.db.units import note_write, read, statement
from movr.models import ActiveRide, Ride, Vehicle, VehicleStatus
from movr.models.base import LOCATION_MAX
from movr.regions import RegionMap
from movr.services import callers, idempotency
from movr.services.callers import Caller, UnknownCaller
from movr.services.errors import (
    AlreadyRiding,
    CityNotInRegion,
    InvalidInput,
    NotFound,
    RideAlreadyEnded,
    VehicleUnavailable,
)
from movr.services.pagination import Page, PageRequest, newest_first, to_page
from movr.services.positions import Position, outside_city

RIDER_CONSTRAINT = "active_rides_rider_key"
VEHICLE_CONSTRAINT = "active_rides_vehicle_key"
UNLOCK_FEE = Decimal("1.00")
PER_MINUTE = Decimal("0.15")
RIDE_COLUMNS = tuple(column.key for column in Ride.__table__.columns)
VEHICLE_DETAILS = ("type", "brand", "color")


@dataclass(frozen=True, slots=True)
class RideView:
    """A ride with the vehicle details a rider wants to see."""

    id: uuid.UUID
    city: str
    vehicle_id: uuid.UUID
    rider_id: uuid.UUID
    vehicle_type: str
    vehicle_brand: str
    vehicle_color: str
    start_location: str | None
    start_latitude: float | None
    start_longitude: float | None
    end_location: str | None
    end_latitude: float | None
    end_longitude: float | None
    start_time: datetime
    end_time: datetime | None
    length: timedelta | None
    revenue: Decimal | None

    @property
    def active(self) -> bool:
        """True until the ride ends."""
        return self.end_time is None

    def as_started(self) -> RideView:
        """The ride as it was when it started (what its start answered)."""
        return replace(
            self,
            end_location=None,
            end_latitude=None,
            end_longitude=None,
            end_time=None,
            length=None,
            revenue=None,
        )

    @classmethod
    def from_row(cls, row: Row[Any]) -> RideView:
        """From a row of ride columns plus the vehicle's type, brand and color."""
        values = row._mapping
        return cls(
            vehicle_type=values["type"],
            vehicle_brand=values["brand"],
            vehicle_color=values["color"],
            **{key: values[key] for key in RIDE_COLUMNS},
        )


def _select_list(ride: str, vehicle: str, diagnostics: dict[str, str]) -> str:
    """The one row of a ride statement: the ride's columns, its vehicle's details, then why
    nothing happened. Named one by one, never `ride.*`: the positions cannot drift from the
    model's columns, nor take in a column only the database has (CockroachDB's crdb_region)."""
    ride_columns = [f"{ride}.{name}" for name in RIDE_COLUMNS]
    vehicle_columns = [f"{vehicle}.{name}" for name in VEHICLE_DETAILS]
    reasons = [f"{sql} AS {name}" for name, sql in diagnostics.items()]
    return ", ".join([*ride_columns, *vehicle_columns, *reasons])


def _result_names(diagnostics: dict[str, str]) -> tuple[str, ...]:
    """The names of that row's columns, in order."""
    return (*RIDE_COLUMNS, *VEHICLE_DETAILS, *diagnostics)


# The statement's transaction id, for read-your-writes on a replica (db/reads.py).
WRITE_XID = {"write_xid": "txid_current()"}


START_DIAGNOSTICS = {
    "found_city": "found.city",
    "found_status": "found.status",
    "caller_id": callers.CALLER_ID,
    **WRITE_XID,
}
END_DIAGNOSTICS = {
    "found_city": "found.city",
    "found_rider_id": "found.rider_id",
    "found_ended": "found.end_time IS NOT NULL",
    "caller_id": callers.CALLER_ID,
    **WRITE_XID,
}

# The two contended writes are plain SQL: the same statements on PostgreSQL and CockroachDB,
# readable next to docs/invariants.md, and several times cheaper in Python than building the
# equivalent SQLAlchemy constructs on every request (measured: bench/RESULTS.md). Each is ONE
# statement, Idempotency-Key included, so it runs as its own implicit transaction.
START_RIDE = with_result_columns(
    text(
        f"""
    WITH {callers.CALLER}, claimed AS (
        UPDATE vehicles SET status = 'in_use'
        WHERE id = :vehicle_id AND status = 'available' AND city IN :cities
          -- a dead token or a deleted account cannot ride: read in the statement that writes
          AND EXISTS (SELECT 1 FROM caller)
        RETURNING id, city, type, brand, color, last_location, latitude, longitude
    ), opened AS (
        INSERT INTO rides (city, vehicle_id, rider_id, start_location,
                           start_latitude, start_longitude)
        SELECT claimed.city, claimed.id, caller.id, last_location, latitude, longitude
        FROM claimed, caller
        RETURNING *
    ), activated AS (
        -- its unique keys refuse a second active ride per vehicle or per rider
        INSERT INTO active_rides (ride_id, vehicle_id, rider_id, city)
        SELECT id, vehicle_id, rider_id, city FROM opened
        RETURNING ride_id
    ), {idempotency.remembering("opened")}
    -- Always one row: the ride, or (ride columns NULL) why there is none, read from the same
    -- snapshot as the claim, so a refusal costs no second statement and names its real cause.
    SELECT {_select_list("opened", "claimed", START_DIAGNOSTICS)}
    FROM (SELECT 1) AS one
    LEFT JOIN vehicles AS found ON found.id = :vehicle_id
    LEFT JOIN (opened JOIN claimed ON claimed.id = opened.vehicle_id
               JOIN activated ON activated.ride_id = opened.id) ON true
    """  # noqa: S608 -- a constant CTE, no input
    ).bindparams(bindparam("cities", expanding=True), *idempotency.KEY_BINDS),
    _result_names(START_DIAGNOSTICS),
)

END_RIDE = with_result_columns(
    text(
        f"""
    WITH {callers.CALLER}, closed AS (
        DELETE FROM active_rides
        WHERE ride_id = :ride_id AND rider_id = (SELECT id FROM caller)
            -- A position must lie within the radius of the ride's city (cities_reaching).
            AND (:anywhere OR city IN :reaching)
        RETURNING ride_id
    ), ended AS (
        -- greatest(): a node whose clock lags the one that stamped the start must not end the
        -- ride before it began (rides_end_after_start_check); the fare counts to that same end,
        -- and `length` (end_time - start_time) is never negative. The CAST: on CockroachDB
        -- extract() is FLOAT, and DECIMAL * FLOAT is no operator there (PostgreSQL: NUMERIC).
        UPDATE rides SET end_time = greatest(now(), start_time), end_location = :location,
            end_latitude = coalesce(:latitude, start_latitude),
            end_longitude = coalesce(:longitude, start_longitude),
            revenue = round(:unlock_fee + :per_minute * CAST(
                extract(epoch FROM greatest(now(), start_time) - start_time) AS NUMERIC) / 60, 2)
        FROM closed WHERE rides.id = closed.ride_id AND rides.end_time IS NULL
        RETURNING rides.*
    ), freed AS (
        UPDATE vehicles SET status = 'available', last_location = ended.end_location,
            latitude = ended.end_latitude, longitude = ended.end_longitude
        FROM ended WHERE vehicles.id = ended.vehicle_id AND vehicles.status = 'in_use'
        RETURNING vehicles.id, vehicles.type, vehicles.brand, vehicles.color
    ), {idempotency.remembering("ended")}
    -- Always one row, as for a start: the ended ride, or what the ride was before.
    SELECT {_select_list("ended", "freed", END_DIAGNOSTICS)}
    FROM (SELECT 1) AS one
    LEFT JOIN rides AS found ON found.id = :ride_id
    LEFT JOIN (ended JOIN freed ON freed.id = ended.vehicle_id) ON true
    """  # noqa: S608 -- a constant CTE, no input
    ).bindparams(
        bindparam("latitude", type_=Float()),
        bindparam("longitude", type_=Float()),
        bindparam("anywhere", type_=Boolean()),
        bindparam("reaching", expanding=True, type_=String()),
        bindparam("unlock_fee", type_=Numeric()),
        bindparam("per_minute", type_=Numeric()),
        *idempotency.KEY_BINDS,
    ),
    _result_names(END_DIAGNOSTICS),
)


@statement
def start_ride(
    executor: Executor,
    rider: Caller | uuid.UUID,
    vehicle_id: uuid.UUID,
    region_cities: Collection[str],
    claim: idempotency.Claim | None = None,
) -> RideView:
    """Claim an available vehicle of this region and open a ride on it, in one statement.

    The conditional UPDATE makes exactly one of many concurrent starters win; the unique keys
    of active_rides are the database's backstop for both invariants. `rider` is a user id or
    a Caller (an API token: UnknownCaller if it is not valid). With the rider's `claim`, the
    same statement stores the Idempotency-Key (KeyTaken if it is taken: nothing changed).
    """
    parameters = {"vehicle_id": vehicle_id, "cities": list(region_cities)}
    parameters |= Caller.of(rider).parameters() | idempotency.key_parameters(claim)
    try:
        row = executor.execute(START_RIDE, parameters).one()
    except IntegrityError as error:
        idempotency.raise_if_key_taken(error)
        if RIDER_CONSTRAINT in str(error.orig):
            raise AlreadyRiding("You already have an active ride; end it first.") from None
        if VEHICLE_CONSTRAINT in str(error.orig):
            raise VehicleUnavailable("Someone else just started a ride on this vehicle.") from None
        raise
    if row.id is None:
        raise _refused_start(row, region_cities)
    note_write(executor, row.write_xid)
    return RideView.from_row(row)


def _refused_start(found: Row[Any], region_cities: Collection[str]) -> Exception:
    """The error for a start that claimed nothing, from the statement's own row."""
    if found.caller_id is None:
        return UnknownCaller()
    if found.found_status in (None, VehicleStatus.REMOVED):
        return NotFound("No such vehicle.")
    if found.found_city not in region_cities:
        return CityNotInRegion("This vehicle is in a city served by another region.")
    return VehicleUnavailable("This vehicle is already in use.")


@statement
def end_ride(
    executor: Executor,
    rider: Caller | uuid.UUID,
    ride_id: uuid.UUID,
    *,
    location: str,
    position: Position | None = None,
    region_map: RegionMap | None = None,
    claim: idempotency.Claim | None = None,
) -> RideView:
    """End the rider's own active ride at `location`; the vehicle becomes available there.

    Without a position the vehicle keeps the coordinates it had at the start; a position must
    be within the radius of the ride's city in `region_map` (needed with a position). One
    statement; `rider` as for start_ride; with the rider's `claim` it stores the
    Idempotency-Key too (KeyTaken if it is taken).
    """
    location = location.strip()
    if not location or len(location) > LOCATION_MAX:
        raise InvalidInput(
            "location", f"Enter where you left the vehicle (1 to {LOCATION_MAX} characters)."
        )
    parameters = Caller.of(rider).parameters() | {
        "ride_id": ride_id,
        "location": location,
        "latitude": position.latitude if position else None,
        "longitude": position.longitude if position else None,
        "anywhere": position is None,
        "reaching": _reaching(position, region_map),
        "unlock_fee": UNLOCK_FEE,
        "per_minute": PER_MINUTE,
    }
    try:
        row = executor.execute(END_RIDE, parameters | idempotency.key_parameters(claim)).one()
    except IntegrityError as error:
        idempotency.raise_if_key_taken(error)
        raise
    if row.id is None:
        raise _refused_end(row, position, region_map)
    note_write(executor, row.write_xid)
    return RideView.from_row(row)


def _reaching(position: Position | None, region_map: RegionMap | None) -> list[str]:
    """The cities a ride may end in at `position` (any, without one)."""
    if position is None:
        return []
    if region_map is None:
        raise TypeError("end_ride with a position needs the region map")
    return list(region_map.cities_reaching(position.latitude, position.longitude))


def _refused_end(
    found: Row[Any], position: Position | None, region_map: RegionMap | None
) -> Exception:
    """The error for an end that closed nothing, from the statement's own row."""
    if found.caller_id is None:
        return UnknownCaller()
    # Someone else's ride is reported as missing: its existence is none of this user's business.
    if found.found_rider_id != found.caller_id:
        return NotFound("No such ride.")
    if found.found_ended or position is None or region_map is None:
        return RideAlreadyEnded("This ride has already ended.")
    return outside_city(position, region_map.city(found.found_city))


def _ride_views() -> Select[Any]:
    return select(Ride.__table__, Vehicle.type, Vehicle.brand, Vehicle.color).join(
        Vehicle, Vehicle.id == Ride.vehicle_id
    )


@read
def ride_history(executor: Executor, rider_id: uuid.UUID, page: PageRequest) -> Page[RideView]:
    """The rider's rides, newest first (the active one, if any, is the newest)."""
    query = newest_first(
        _ride_views().where(Ride.rider_id == rider_id), Ride.start_time, Ride.id, page
    )
    rides = [RideView.from_row(row) for row in executor.execute(query)]
    return to_page(rides, page, lambda ride: (ride.start_time, ride.id))


@read
def get_ride(executor: Executor, rider_id: uuid.UUID, ride_id: uuid.UUID) -> RideView:
    """One of the rider's own rides; NotFound for anyone else's."""
    row = executor.execute(
        _ride_views().where(Ride.id == ride_id, Ride.rider_id == rider_id)
    ).first()
    if row is None:
        raise NotFound("No such ride.")
    return RideView.from_row(row)


@read
def count_active(executor: Executor, cities: Collection[str]) -> int:
    """Rides in progress in these cities (one indexed count)."""
    query = select(func.count()).where(ActiveRide.city.in_(cities))
    return executor.scalar(query) or 0
