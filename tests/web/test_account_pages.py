"""Users of a city, the profile, deleting the account."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from movr.models import User
from movr.services import rides
from tests.factories import make_user, make_vehicle
from tests.web.conftest import post


def test_users_page_shows_names_and_owners_but_no_private_data(
    logged_in: FlaskClient, session: Session
) -> None:
    owner = make_user(session, first_name="Olga", last_name="Owner")
    make_vehicle(session, owner)
    make_user(session, city="boston", first_name="Bea", last_name="Boston")
    html = logged_in.get("/users").get_data(as_text=True)
    assert "Olga Owner" in html
    assert "vehicle owner" in html
    assert "Bea Boston" not in html
    assert owner.email not in html
    assert str(owner.id) not in html
    assert (owner.username or "") not in html


def test_profile_shows_own_vehicles_and_delete_button(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    make_vehicle(session, user, brand="MyOwnBrand")
    html = logged_in.get(f"/users/{user.id}").get_data(as_text=True)
    assert "MyOwnBrand" in html
    assert "Delete my account" in html
    assert user.email in html


def test_someone_elses_profile_is_forbidden(logged_in: FlaskClient, session: Session) -> None:
    other = make_user(session)
    response = logged_in.get(f"/users/{other.id}")
    assert response.status_code == 403
    assert other.email not in response.get_data(as_text=True)


def test_deleting_someone_elses_account_is_forbidden(
    logged_in: FlaskClient, session: Session
) -> None:
    other = make_user(session)
    assert post(logged_in, f"/users/remove/{other.id}").status_code == 403
    assert session.get_one(User, other.id, populate_existing=True).deleted_at is None


def test_deleting_the_account_while_riding_is_refused(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    rides.start_ride(session, user.id, make_vehicle(session, make_user(session)).id, ["new york"])
    response = post(logged_in, f"/users/remove/{user.id}")
    assert response.status_code == 409
    assert session.get_one(User, user.id, populate_existing=True).deleted_at is None


def test_deleting_the_account_erases_it_and_logs_out(
    logged_in: FlaskClient, session: Session, user: User
) -> None:
    response = post(logged_in, f"/users/remove/{user.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    erased = session.get_one(User, user.id, populate_existing=True)
    assert erased.username is None
    assert erased.deleted_at is not None
    page = logged_in.get("/login").get_data(as_text=True)
    assert "Your account was deleted" in page
