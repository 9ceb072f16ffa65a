"""Rides: the rules of starting and ending, history, and the database's backstops."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movr.models import User, Vehicle
from movr.regions import RegionMap
from movr.services import rides, users, vehicles
from movr.services.callers import UnknownCaller
from movr.services.errors import (
    AlreadyRiding,
    CityNotInRegion,
    InvalidInput,
    NotFound,
    RideAlreadyEnded,
    VehicleUnavailable,
)
from movr.services.pagination import PageRequest
from movr.services.positions import Position
from tests.factories import make_user, make_vehicle

EAST = ["new york", "boston", "washington dc"]
WEST = ["san francisco", "seattle", "los angeles"]


def vehicle_status(session: Session, vehicle: Vehicle) -> str:
    return session.get_one(Vehicle, vehicle.id, populate_existing=True).status


def setup_ride(session: Session) -> tuple[User, Vehicle]:
    return make_user(session), make_vehicle(session, make_user(session))


def test_start_ride_marks_vehicle_in_use_and_records_start(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    assert ride.active
    assert (ride.city, ride.vehicle_id, ride.rider_id) == ("new york", vehicle.id, rider.id)
    assert ride.start_location == vehicle.last_location
    assert (ride.vehicle_type, ride.vehicle_brand) == ("scooter", "Acme")
    assert vehicle_status(session, vehicle) == "in_use"


def test_start_ride_rejects_vehicle_in_use(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    rides.start_ride(session, rider.id, vehicle.id, EAST)
    with pytest.raises(VehicleUnavailable):
        rides.start_ride(session, make_user(session).id, vehicle.id, EAST)


def test_start_ride_rejects_a_second_active_ride(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    rides.start_ride(session, rider.id, vehicle.id, EAST)
    other = make_vehicle(session, make_user(session))
    with pytest.raises(AlreadyRiding), session.begin_nested():
        rides.start_ride(session, rider.id, other.id, EAST)
    assert vehicle_status(session, other) == "available"


def test_start_ride_rejects_a_vehicle_in_another_region(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    with pytest.raises(CityNotInRegion):
        rides.start_ride(session, rider.id, vehicle.id, WEST)
    assert vehicle_status(session, vehicle) == "available"


def test_start_ride_rejects_unknown_and_retired_vehicles(session: Session) -> None:
    owner = make_user(session)
    vehicle = make_vehicle(session, owner)
    vehicles.retire_vehicle(session, owner.id, vehicle.id)
    for vehicle_id in (uuid.uuid4(), vehicle.id):
        with pytest.raises(NotFound):
            rides.start_ride(session, make_user(session).id, vehicle_id, EAST)


def test_a_deleted_account_cannot_start_a_ride(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    users.delete_account(session, rider.id)
    with pytest.raises(UnknownCaller):
        rides.start_ride(session, rider.id, vehicle.id, EAST)
    assert vehicle_status(session, vehicle) == "available"


def test_a_traveller_rides_in_the_serving_region(session: Session) -> None:
    traveller = make_user(session, city="paris")
    vehicle = make_vehicle(session, make_user(session, city="seattle"))
    assert rides.start_ride(session, traveller.id, vehicle.id, WEST).city == "seattle"


def test_end_ride_frees_the_vehicle_where_it_was_left(
    session: Session, region_map: RegionMap
) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    here = Position(40.75, -73.98)
    ended = rides.end_ride(
        session, rider.id, ride.id, location="Grand Central", position=here, region_map=region_map
    )
    assert not ended.active
    assert ended.end_time is not None
    assert ended.length == ended.end_time - ended.start_time
    assert ended.revenue is not None
    assert ended.revenue >= rides.UNLOCK_FEE
    freed = session.get_one(Vehicle, vehicle.id, populate_existing=True)
    assert (freed.status, freed.last_location) == ("available", "Grand Central")
    assert (freed.latitude, freed.longitude) == (40.75, -73.98)


def test_a_ride_stamped_by_a_clock_ahead_of_ours_ends_at_its_start(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    # As if another region's node, its clock ahead of this one's, had started the ride.
    session.execute(
        text("UPDATE rides SET start_time = start_time + interval '3 seconds' WHERE id = :id"),
        {"id": ride.id},
    )
    ended = rides.end_ride(session, rider.id, ride.id, location="A")
    assert ended.end_time == ended.start_time
    assert ended.length == timedelta(0)
    assert ended.revenue == rides.UNLOCK_FEE


def test_end_ride_happens_once(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    rides.end_ride(session, rider.id, ride.id, location="A")
    with pytest.raises(RideAlreadyEnded):
        rides.end_ride(session, rider.id, ride.id, location="B")


def test_only_the_rider_ends_a_ride(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    with pytest.raises(NotFound):
        rides.end_ride(session, make_user(session).id, ride.id, location="A")
    assert vehicle_status(session, vehicle) == "in_use"
    with pytest.raises(NotFound):
        rides.end_ride(session, rider.id, uuid.uuid4(), location="A")


@pytest.mark.parametrize("location", ["", "   ", "x" * 129])
def test_end_ride_requires_a_location(session: Session, location: str) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    with pytest.raises(InvalidInput):
        rides.end_ride(session, rider.id, ride.id, location=location)


def test_ride_history_is_newest_first_and_own_only(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    first = rides.start_ride(session, rider.id, vehicle.id, EAST)
    rides.end_ride(session, rider.id, first.id, location="A")
    session.execute(
        text(
            "UPDATE rides SET start_time = start_time - interval '1 hour', "
            "end_time = end_time - interval '1 hour' WHERE id = :id"
        ),
        {"id": first.id},
    )
    second = rides.start_ride(session, rider.id, vehicle.id, EAST)
    rides.start_ride(session, make_user(session).id, make_vehicle(session, rider).id, EAST)
    history = rides.ride_history(session, rider.id, PageRequest())
    assert [r.id for r in history.items] == [second.id, first.id]
    assert history.items[0].active


def test_get_ride_is_own_only(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    assert rides.get_ride(session, rider.id, ride.id).id == ride.id
    with pytest.raises(NotFound):
        rides.get_ride(session, make_user(session).id, ride.id)


def open_ride_row(session: Session, vehicle: Vehicle, rider: User) -> object:
    """A ride row inserted by hand, bypassing the service."""
    return session.execute(
        text(
            "INSERT INTO rides (city, vehicle_id, rider_id) VALUES ('new york', :v, :r) "
            "RETURNING id"
        ),
        {"v": vehicle.id, "r": rider.id},
    ).scalar_one()


ACTIVATE = text(
    "INSERT INTO active_rides (ride_id, vehicle_id, rider_id, city) "
    "VALUES (:ride, :v, :r, 'new york')"
)


def test_database_allows_one_active_ride_per_vehicle(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    rides.start_ride(session, rider.id, vehicle.id, EAST)
    other = make_user(session)
    ride = open_ride_row(session, vehicle, other)
    with pytest.raises(IntegrityError, match="active_rides_vehicle_key"):
        session.execute(ACTIVATE, {"ride": ride, "v": vehicle.id, "r": other.id})


def test_database_allows_one_active_ride_per_rider(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    rides.start_ride(session, rider.id, vehicle.id, EAST)
    other = make_vehicle(session, make_user(session))
    ride = open_ride_row(session, other, rider)
    with pytest.raises(IntegrityError, match="active_rides_rider_key"):
        session.execute(ACTIVATE, {"ride": ride, "v": other.id, "r": rider.id})


def test_active_rides_follow_starts_and_ends(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    active = text("SELECT ride_id, vehicle_id, rider_id FROM active_rides")
    assert session.execute(active).all() == [(ride.id, vehicle.id, rider.id)]
    assert rides.count_active(session, EAST) == 1
    rides.end_ride(session, rider.id, ride.id, location="A")
    assert session.execute(active).all() == []
    assert rides.count_active(session, EAST) == 0


def test_database_refuses_a_ride_ending_before_it_starts(session: Session) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    with pytest.raises(IntegrityError, match="rides_end_after_start_check"):
        session.execute(
            text(
                "UPDATE rides SET end_time = start_time - interval '1 second', "
                "end_location = 'x' WHERE id = :id"
            ),
            {"id": ride.id},
        )


def test_a_ride_cannot_end_beyond_its_citys_radius(session: Session, region_map: RegionMap) -> None:
    rider, vehicle = setup_ride(session)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    boston = Position(42.3601, -71.0589)  # another city of the region: still not New York's
    with pytest.raises(InvalidInput, match="306 km from the centre of New York"):
        rides.end_ride(
            session, rider.id, ride.id, location="Fenway", position=boston, region_map=region_map
        )
    assert rides.get_ride(session, rider.id, ride.id).active
