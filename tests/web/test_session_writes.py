"""Retiring a vehicle and deleting the account check the browser session inside their one
statement, as the ride actions do: a revoked or expired session, an API token in the session
cookie or a deleted account changes nothing and is sent to log in, as a visitor without a
session is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from movr.models import User
from movr.services import tokens
from tests.api.test_write_callers import DEAD, assert_unchanged, dead_owner
from tests.factories import make_user, make_vehicle
from tests.web.conftest import log_in, post


def assert_sent_to_log_in(response: object) -> None:
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.headers["Location"].startswith("/login")  # type: ignore[attr-defined]


@pytest.mark.parametrize("death", DEAD)
def test_a_dead_session_retires_nothing_and_deletes_nothing(
    logged_in: FlaskClient, session: Session, user: User, death: str
) -> None:
    vehicle = dead_owner(session, user, death)
    assert_sent_to_log_in(post(logged_in, f"/vehicles/remove/{vehicle.id}"))
    assert_sent_to_log_in(post(logged_in, f"/users/remove/{user.id}"))
    assert_unchanged(session, user, vehicle, death)


def test_an_api_token_in_the_session_cookie_is_no_session(
    client: FlaskClient, session: Session, user: User
) -> None:
    vehicle = make_vehicle(session, user)
    log_in(client, user)
    api_token = tokens.issue_token(session, user.id, user.city, timedelta(hours=1)).token
    with client.session_transaction() as cookie:
        cookie["_user_id"] = api_token
    assert_sent_to_log_in(post(client, f"/vehicles/remove/{vehicle.id}"))
    assert_sent_to_log_in(post(client, f"/users/remove/{user.id}"))
    assert_unchanged(session, user, vehicle)


def test_someone_elses_vehicle_or_account_is_forbidden(
    logged_in: FlaskClient, session: Session
) -> None:
    other = make_user(session)
    vehicle = make_vehicle(session, other)
    assert post(logged_in, f"/vehicles/remove/{vehicle.id}").status_code == 403
    assert post(logged_in, f"/users/remove/{other.id}").status_code == 403
    assert_unchanged(session, other, vehicle)
