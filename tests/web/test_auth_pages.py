"""Login, logout and registration pages."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from movr.models import User
from movr.models.user import User as UserModel
from tests.factories import PASSWORD, make_user
from tests.web.conftest import log_in, post

REGISTRATION = {
    "city": "boston",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "username": "Ada_L",
    "password": "analytical engine",
    "confirm": "analytical engine",
}


def test_root_sends_visitors_to_login_and_users_to_vehicles(
    client: FlaskClient, user: User
) -> None:
    assert client.get("/").headers["Location"] == "/login"
    log_in(client, user)
    assert client.get("/").headers["Location"] == "/vehicles"


def test_register_creates_the_account_and_logs_in(client: FlaskClient, session: Session) -> None:
    response = post(client, "/register", REGISTRATION)
    assert response.status_code == 303
    assert response.headers["Location"] == "/vehicles"
    stored = session.scalars(select(UserModel).where(UserModel.username == "ada_l")).one()
    assert (stored.city, stored.email) == ("boston", "ada@example.com")
    page = client.get("/vehicles", follow_redirects=True).get_data(as_text=True)
    assert "Welcome to MovR, Ada!" in page


def test_register_offers_every_city_of_the_map(client: FlaskClient) -> None:
    page = client.get("/register").get_data(as_text=True)
    for city in ("new york", "seattle", "rome"):
        assert f'value="{city}"' in page
    assert 'label="gcp-europe-west1"' in page


def test_register_reports_a_taken_username(client: FlaskClient, session: Session) -> None:
    make_user(session, username="ada_l")
    response = post(client, "/register", REGISTRATION)
    assert response.status_code == 409
    assert "username is taken" in response.get_data(as_text=True)


def test_register_shows_field_errors_and_keeps_input(client: FlaskClient) -> None:
    bad = REGISTRATION | {"email": "nope", "confirm": "different", "city": "atlantis"}
    response = post(client, "/register", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in html
    assert "Passwords must match." in html
    assert 'id="city-error"' in html
    assert 'value="Lovelace"' in html
    assert 'aria-invalid="true"' in html


def test_login_redirects_to_a_safe_next_page(client: FlaskClient, user: User) -> None:
    response = post(
        client,
        "/login?next=/rides",
        {"username": user.username or "", "password": PASSWORD, "next": "/rides"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/rides"


def test_protected_page_sends_to_login_with_next(client: FlaskClient) -> None:
    response = client.get("/rides")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_page_carries_next_into_the_form(client: FlaskClient) -> None:
    html = client.get("/login?next=/rides").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/rides"' in html


def test_logout_needs_a_post_and_ends_the_session(logged_in: FlaskClient) -> None:
    confirm = logged_in.get("/logout")
    assert confirm.status_code == 200
    assert "Log out now" in confirm.get_data(as_text=True)
    assert logged_in.get("/vehicles").status_code == 200
    response = post(logged_in, "/logout")
    assert response.status_code == 303
    assert logged_in.get("/vehicles").status_code == 302


def test_deleted_account_session_is_logged_out(logged_in: FlaskClient, user: User) -> None:
    response = post(logged_in, f"/users/remove/{user.id}")
    assert response.status_code == 303
    assert logged_in.get("/vehicles").status_code == 302
