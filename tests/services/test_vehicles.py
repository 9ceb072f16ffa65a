"""Vehicles: adding in the home city, listing, retiring."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from movr.models import Vehicle, VehicleStatus
from movr.regions import RegionMap
from movr.services import rides, users, vehicles
from movr.services.errors import (
    Forbidden,
    HomeRegionRequired,
    InvalidInput,
    NotFound,
    VehicleInUse,
)
from movr.services.pagination import PageRequest
from movr.services.positions import Position
from tests.factories import make_user, make_vehicle

EAST = ["new york", "boston", "washington dc"]
WEST = ["san francisco", "seattle", "los angeles"]


def new_vehicle(**overrides: object) -> vehicles.NewVehicle:
    values: dict[str, object] = {
        "type": "bike",
        "color": "blue",
        "brand": "Brompton",
        "location": "5th Ave",
    } | overrides
    return vehicles.NewVehicle(**values)  # type: ignore[arg-type]


def test_add_vehicle_goes_to_the_home_city_at_its_centre(
    session: Session, region_map: RegionMap
) -> None:
    owner = make_user(session, city="boston")
    vehicle = vehicles.add_vehicle(session, region_map, owner, EAST, new_vehicle())
    assert (vehicle.city, vehicle.status, vehicle.last_location) == (
        "boston",
        "available",
        "5th Ave",
    )
    boston = region_map.city("boston")
    assert (vehicle.latitude, vehicle.longitude) == (boston.latitude, boston.longitude)


def test_add_vehicle_for_an_account_deleted_since_the_check_adds_nothing(
    session: Session, region_map: RegionMap
) -> None:
    owner = make_user(session)
    users.delete_account(session, owner.id)  # after the request read the account
    with pytest.raises(NotFound, match="account"):
        vehicles.add_vehicle(session, region_map, owner, EAST, new_vehicle())
    count = "SELECT count(*) FROM vehicles WHERE owner_id = :id"
    assert session.scalar(text(count), {"id": owner.id}) == 0


def test_add_vehicle_in_a_city_that_is_not_the_owners_adds_nothing(
    session: Session, region_map: RegionMap
) -> None:
    owner = make_user(session, city="boston")
    claimed = SimpleNamespace(id=owner.id, city="new york")
    with pytest.raises(NotFound):
        vehicles.add_vehicle(session, region_map, claimed, EAST, new_vehicle())


def test_add_vehicle_keeps_a_chosen_position(session: Session, region_map: RegionMap) -> None:
    owner = make_user(session)
    chosen = new_vehicle(position=Position(40.7, -74.01))
    vehicle = vehicles.add_vehicle(session, region_map, owner, EAST, chosen)
    assert (vehicle.latitude, vehicle.longitude) == (40.7, -74.01)


def test_add_vehicle_outside_the_home_region_names_the_region(
    session: Session, region_map: RegionMap
) -> None:
    owner = make_user(session, city="boston")
    with pytest.raises(HomeRegionRequired) as raised:
        vehicles.add_vehicle(session, region_map, owner, WEST, new_vehicle())
    assert raised.value.region == "gcp-us-east1"


@pytest.mark.parametrize(
    "overrides",
    [{"type": "car"}, {"color": ""}, {"brand": "b" * 65}, {"location": " "}],
)
def test_add_vehicle_rejects_bad_input(
    session: Session, region_map: RegionMap, overrides: dict[str, str]
) -> None:
    owner = make_user(session)
    with pytest.raises(InvalidInput):
        vehicles.add_vehicle(session, region_map, owner, EAST, new_vehicle(**overrides))


@pytest.mark.parametrize(("lat", "lng"), [(91.0, 0.0), (0.0, 181.0), (None, 3.0)])
def test_positions_off_the_globe_or_half_given_are_rejected(
    lat: float | None, lng: float | None
) -> None:
    with pytest.raises(InvalidInput):
        Position.optional(lat, lng)


def test_list_city_vehicles_excludes_other_cities_and_retired(session: Session) -> None:
    owner = make_user(session, city="boston")
    kept = make_vehicle(session, owner)
    retired = make_vehicle(session, owner)
    vehicles.retire_vehicle(session, owner.id, retired.id)
    make_vehicle(session, make_user(session, city="new york"))
    page = vehicles.list_city_vehicles(session, "boston", PageRequest())
    assert [v.id for v in page.items] == [kept.id]


def test_list_city_vehicles_is_bounded_per_page(session: Session) -> None:
    owner = make_user(session, city="washington dc")
    for _ in range(5):
        make_vehicle(session, owner)
    first = vehicles.list_city_vehicles(session, "washington dc", PageRequest.parse(None, 2))
    assert len(first.items) == 2
    assert first.next_cursor is not None
    assert PageRequest.parse(None, 10_000).size == 100


def test_retire_vehicle_by_owner(session: Session) -> None:
    owner = make_user(session)
    vehicle = make_vehicle(session, owner)
    vehicles.retire_vehicle(session, owner.id, vehicle.id)
    status = session.get_one(Vehicle, vehicle.id, populate_existing=True).status
    assert status is VehicleStatus.REMOVED  # the enum member, stored as the string "removed"
    stored = session.scalar(text("SELECT status FROM vehicles WHERE id = :id"), {"id": vehicle.id})
    assert stored == "removed"


def test_retire_vehicle_refuses_someone_else(session: Session) -> None:
    vehicle = make_vehicle(session, make_user(session))
    with pytest.raises(Forbidden):
        vehicles.retire_vehicle(session, make_user(session).id, vehicle.id)
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "available"


def test_retire_vehicle_refuses_while_in_use(session: Session) -> None:
    owner = make_user(session)
    vehicle = make_vehicle(session, owner)
    rides.start_ride(session, make_user(session).id, vehicle.id, EAST)
    with pytest.raises(VehicleInUse):
        vehicles.retire_vehicle(session, owner.id, vehicle.id)


def test_retire_unknown_or_retired_vehicle_is_not_found(session: Session) -> None:
    owner = make_user(session)
    with pytest.raises(NotFound):
        vehicles.retire_vehicle(session, owner.id, uuid.uuid4())
    vehicle = make_vehicle(session, owner)
    vehicles.retire_vehicle(session, owner.id, vehicle.id)
    with pytest.raises(NotFound):
        vehicles.retire_vehicle(session, owner.id, vehicle.id)


def test_list_owned_vehicles(session: Session) -> None:
    owner = make_user(session)
    mine = make_vehicle(session, owner)
    make_vehicle(session, make_user(session))
    assert [v.id for v in vehicles.list_owned_vehicles(session, owner.id, PageRequest()).items] == [
        mine.id
    ]


def test_add_vehicle_refuses_a_position_beyond_the_citys_radius(
    session: Session, region_map: RegionMap
) -> None:
    owner = make_user(session, city="new york")
    sydney = new_vehicle(position=Position(-33.87, 151.21))
    with pytest.raises(InvalidInput, match="15,989 km from the centre of New York"):
        vehicles.add_vehicle(session, region_map, owner, EAST, sydney)
