"""Rides: start, end, history."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from movr.models import Ride, User, Vehicle
from movr.services import rides
from tests.factories import make_user, make_vehicle
from tests.web.conftest import post

EAST = ["new york", "boston", "washington dc"]


def test_start_and_end_a_ride(logged_in: FlaskClient, session: Session, user: User) -> None:
    vehicle = make_vehicle(session, make_user(session))
    response = post(logged_in, f"/rides/start/{vehicle.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/rides"
    html = logged_in.get("/rides").get_data(as_text=True)
    assert "Riding now" in html
    assert "data-since=" in html
    ride = session.scalars(select(Ride).where(Ride.rider_id == user.id)).one()

    response = post(logged_in, f"/rides/end/{ride.id}", {"location": "Pier 17"})
    assert response.status_code == 303
    html = logged_in.get("/rides").get_data(as_text=True)
    assert "Pier 17" in html
    assert "End ride" not in html
    freed = session.get_one(Vehicle, vehicle.id, populate_existing=True)
    assert (freed.status, freed.last_location) == ("available", "Pier 17")


def test_starting_an_unavailable_vehicle_is_refused_clearly(
    logged_in: FlaskClient, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    rides.start_ride(session, make_user(session).id, vehicle.id, EAST)
    response = post(logged_in, f"/rides/start/{vehicle.id}")
    assert response.status_code == 409
    assert "already in use" in response.get_data(as_text=True)


def test_starting_a_second_ride_is_refused(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    first, second = (make_vehicle(session, make_user(session)) for _ in range(2))
    rides.start_ride(session, user.id, first.id, EAST)
    response = post(logged_in, f"/rides/start/{second.id}")
    assert response.status_code == 409
    assert "already have an active ride" in response.get_data(as_text=True)
    assert session.get_one(Vehicle, second.id, populate_existing=True).status == "available"


def test_starting_a_vehicle_of_another_region_is_refused(
    logged_in: FlaskClient, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session, city="seattle"))
    response = post(logged_in, f"/rides/start/{vehicle.id}")
    assert response.status_code == 422
    assert "another region" in response.get_data(as_text=True)


def test_ending_needs_a_location(logged_in: FlaskClient, session: Session, user: User) -> None:
    ride = rides.start_ride(session, user.id, make_vehicle(session, make_user(session)).id, EAST)
    response = post(logged_in, f"/rides/end/{ride.id}", {"location": ""})
    assert response.status_code == 422
    assert 'id="location-error"' in response.get_data(as_text=True)


def test_ending_someone_elses_ride_is_not_found_and_changes_nothing(
    logged_in: FlaskClient, session: Session
) -> None:
    other = make_user(session)
    ride = rides.start_ride(session, other.id, make_vehicle(session, make_user(session)).id, EAST)
    response = post(logged_in, f"/rides/end/{ride.id}", {"location": "Nowhere"})
    assert response.status_code == 404
    assert session.get_one(Ride, ride.id, populate_existing=True).end_time is None


def test_ending_twice_is_refused(logged_in: FlaskClient, session: Session, user: User) -> None:
    ride = rides.start_ride(session, user.id, make_vehicle(session, make_user(session)).id, EAST)
    assert post(logged_in, f"/rides/end/{ride.id}", {"location": "A"}).status_code == 303
    response = post(logged_in, f"/rides/end/{ride.id}", {"location": "B"})
    assert response.status_code == 409


def test_unknown_ride_and_vehicle_ids_are_not_found(logged_in: FlaskClient) -> None:
    assert post(logged_in, f"/rides/start/{uuid.uuid4()}").status_code == 404
    assert post(logged_in, "/rides/start/123").status_code == 404
    assert post(logged_in, f"/rides/end/{uuid.uuid4()}", {"location": "A"}).status_code == 404


def test_ending_far_from_the_city_is_refused(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    post(logged_in, f"/rides/start/{vehicle.id}")
    ride = session.scalars(select(Ride).where(Ride.rider_id == user.id)).one()
    sydney = {"location": "Opera House", "latitude": "-33.87", "longitude": "151.21"}
    response = post(logged_in, f"/rides/end/{ride.id}", sydney)
    assert response.status_code == 422
    assert "from the centre of New York" in response.get_data(as_text=True)
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "in_use"
