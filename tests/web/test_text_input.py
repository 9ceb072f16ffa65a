"""Free text: control characters (NUL above all, which PostgreSQL's text cannot hold) and
invisible-only values get a clear 422 on the pages and the API alike, never a 5xx."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from movr.db.units import read
from movr.models import User, Vehicle
from movr.services import rides, vehicles
from movr.web.text_rules import FREE_TEXT_MESSAGE
from tests.factories import PASSWORD, make_user, make_vehicle
from tests.web.conftest import post

BAD_TEXT = ["a\x00b", "tab\there", "bell\x07", "\x9b", "\u200b", " \ufeff ", "\u3164", "x\u202ey"]
VEHICLE = {"type": "bike", "color": "red", "brand": "Acme", "location": "Dock 4"}
PERSON = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


def _vehicle_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Vehicle)) or 0


@pytest.mark.parametrize("field", ["color", "brand", "location"])
@pytest.mark.parametrize("value", BAD_TEXT)
def test_add_vehicle_page_refuses_control_and_invisible_text(
    logged_in: FlaskClient, session: Session, field: str, value: str
) -> None:
    before = _vehicle_count(session)
    response = post(logged_in, "/vehicles/add", {**VEHICLE, field: value})
    assert response.status_code == 422
    assert FREE_TEXT_MESSAGE.replace("'", "&#39;") in response.get_data(as_text=True)
    assert _vehicle_count(session) == before


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_register_page_refuses_a_nul_in_a_name(client: FlaskClient, field: str) -> None:
    form = {**PERSON, "city": "new york", "username": "nul-test", "password": PASSWORD}
    response = post(client, "/register", {**form, "confirm": PASSWORD, field: "Ab\x00cd"})
    assert response.status_code == 422
    assert FREE_TEXT_MESSAGE.replace("'", "&#39;") in response.get_data(as_text=True)


def test_login_page_refuses_a_nul_in_the_username(client: FlaskClient, user: User) -> None:
    name = user.username or ""
    response = post(client, "/login", {"username": name[:2] + "\x00" + name[2:], "password": "x"})
    assert response.status_code == 422


def test_end_ride_page_refuses_a_nul_in_the_location(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    ride = rides.start_ride(session, user.id, vehicle.id, ["new york", "boston", "washington dc"])
    response = post(logged_in, f"/rides/end/{ride.id}", {"location": "a\x00b"})
    assert response.status_code == 422
    assert 'id="location-error"' in response.get_data(as_text=True)
    assert rides.get_ride(session, user.id, ride.id).active


def test_other_data_errors_are_movrs_fault_not_the_requests(
    logged_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def divide(session: Session, *_: object, **__: object) -> None:
        session.execute(text("SELECT 1 / 0"))  # 22012: no input could cause it

    monkeypatch.setattr(vehicles, "nearest_vehicles", read(divide))
    assert logged_in.get("/vehicles").status_code == 503


def test_a_value_the_database_refuses_is_a_422_not_a_503(
    logged_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence, should a text slip past the forms and schemas."""

    def refuse(session: Session, *_: object, **__: object) -> None:
        session.execute(text("SELECT :value"), {"value": "a\x00b"})

    monkeypatch.setattr(vehicles, "nearest_vehicles", read(refuse))
    response = logged_in.get("/vehicles")
    assert response.status_code == 422
    assert "Some of what you sent is not valid." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ({"latitude": "41"}, "Give both latitude and longitude, or neither."),
        ({"latitude": "1000", "longitude": "1"}, "Number must be between -90 and 90."),
        ({"latitude": "nan", "longitude": "1"}, "The map position is not valid"),
    ],
)
def test_a_bad_map_position_is_explained_and_not_sent_back(
    logged_in: FlaskClient, session: Session, position: dict[str, str], message: str
) -> None:
    before = _vehicle_count(session)
    response = post(logged_in, "/vehicles/add", {**VEHICLE, **position})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert '<input id="latitude" name="latitude" type="hidden" value="">' in html
    assert _vehicle_count(session) == before


def test_ending_a_ride_at_a_bad_map_position_is_explained(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    ride = rides.start_ride(session, user.id, vehicle.id, ["new york", "boston", "washington dc"])
    response = post(
        logged_in,
        f"/rides/end/{ride.id}",
        {"location": "Pier", "latitude": "1000", "longitude": "1"},
    )
    assert response.status_code == 422
    assert "The map position is not valid" in response.get_data(as_text=True)
    assert rides.get_ride(session, user.id, ride.id).active
