"""Vehicles: list, map data, add, retire, city switch."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from movr.models import User, Vehicle
from movr.services import rides
from tests.factories import make_user, make_vehicle
from tests.web.conftest import post

NEW = {"type": "bike", "color": "teal", "brand": "Cannondale", "location": "Union Square"}


def test_vehicles_lists_the_current_city_with_map_data(
    logged_in: FlaskClient, session: Session
) -> None:
    here = make_vehicle(session, make_user(session, city="new york"), brand="LocalBrand")
    make_vehicle(session, make_user(session, city="boston"), brand="ElsewhereBrand")
    html = logged_in.get("/vehicles").get_data(as_text=True)
    assert "Vehicles in New York" in html
    assert "LocalBrand" in html
    assert "ElsewhereBrand" not in html
    assert f'data-lat="{here.latitude}"' in html
    assert f"/rides/start/{here.id}" in html
    assert 'id="map"' in html


def test_vehicle_statuses_read_as_words_and_only_available_ones_can_be_started(
    logged_in: FlaskClient, session: Session
) -> None:
    idle, ridden = (make_vehicle(session, make_user(session)) for _ in range(2))
    rides.start_ride(session, make_user(session).id, ridden.id, ["new york"])
    html = logged_in.get("/vehicles").get_data(as_text=True)
    assert '<span class="badge text-bg-secondary">in use</span>' in html
    assert '<span class="badge text-bg-success">available</span>' in html
    assert f"/rides/start/{idle.id}" in html
    assert f"/rides/start/{ridden.id}" not in html


def test_city_switch_is_limited_to_the_serving_region(
    logged_in: FlaskClient, session: Session
) -> None:
    make_vehicle(session, make_user(session, city="boston"), brand="BostonBrand")
    response = post(logged_in, "/city/boston")
    assert response.status_code == 303
    assert "BostonBrand" in logged_in.get("/vehicles").get_data(as_text=True)
    paris = post(logged_in, "/city/paris")
    assert paris.status_code == 422
    assert "Paris is served by the gcp-europe-west1 region" in paris.get_data(as_text=True)
    assert post(logged_in, "/city/atlantis").status_code == 404


def test_add_vehicle_lists_it_in_the_home_city(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    response = post(logged_in, "/vehicles/add", NEW | {"latitude": "40.71", "longitude": "-74.0"})
    assert response.status_code == 303
    vehicle = session.scalars(select(Vehicle).where(Vehicle.owner_id == user.id)).one()
    assert (vehicle.city, vehicle.brand, vehicle.latitude) == ("new york", "Cannondale", 40.71)
    assert "Cannondale" in logged_in.get("/vehicles").get_data(as_text=True)


def test_add_vehicle_refuses_a_position_far_from_the_home_city(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    response = post(logged_in, "/vehicles/add", NEW | {"latitude": "-33.87", "longitude": "151.21"})
    assert response.status_code == 422
    assert "from the centre of New York; choose one within 50 km" in response.get_data(as_text=True)
    assert session.scalars(select(Vehicle).where(Vehicle.owner_id == user.id)).all() == []


def test_add_vehicle_rejects_bad_input_with_field_errors(logged_in: FlaskClient) -> None:
    response = post(logged_in, "/vehicles/add", NEW | {"type": "car", "brand": "b" * 65})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="type-error"' in html
    assert 'id="brand-error"' in html


def test_owner_retires_a_vehicle(logged_in: FlaskClient, session: Session, user: User) -> None:
    vehicle = make_vehicle(session, user)
    response = post(logged_in, f"/vehicles/remove/{vehicle.id}")
    assert response.status_code == 303
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "removed"


def test_retiring_someone_elses_vehicle_is_forbidden_and_changes_nothing(
    logged_in: FlaskClient, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    response = post(logged_in, f"/vehicles/remove/{vehicle.id}")
    assert response.status_code == 403
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "available"


def test_retiring_a_vehicle_in_use_is_refused(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    vehicle = make_vehicle(session, user)
    other = make_user(session)
    rides.start_ride(session, other.id, vehicle.id, ["new york"])
    response = post(logged_in, f"/vehicles/remove/{vehicle.id}")
    assert response.status_code == 409
    assert "being ridden" in response.get_data(as_text=True)


def test_unknown_vehicle_ids_are_not_found(logged_in: FlaskClient) -> None:
    assert post(logged_in, f"/vehicles/remove/{uuid.uuid4()}").status_code == 404
    assert post(logged_in, "/vehicles/remove/not-a-uuid").status_code == 404


def test_vehicle_list_is_paginated(logged_in: FlaskClient, session: Session) -> None:
    owner = make_user(session)
    for _ in range(30):
        make_vehicle(session, owner)
    html = logged_in.get("/vehicles").get_data(as_text=True)
    assert html.count('class="card mb-2 movr-vehicle"') == 25  # one card per vehicle
    assert "Next page" in html
    assert logged_in.get("/vehicles?cursor=garbage").status_code == 404
