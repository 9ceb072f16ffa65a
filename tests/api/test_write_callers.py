"""Retiring a vehicle and deleting the account check their bearer token inside their one
statement, as the ride actions do: a dead token, a token of the wrong kind or a deleted account
changes nothing and gets the 401 a request without a valid token gets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from movr.models import User, Vehicle
from movr.services import tokens
from tests.api.conftest import ApiClient, token_for
from tests.api.test_ride_callers import assert_challenged, vehicle_status
from tests.factories import make_user, make_vehicle

DEAD = {
    "revoked": "UPDATE api_tokens SET revoked_at = now()",
    "expired": "UPDATE api_tokens SET expires_at = now() - interval '1 second'",
    # erased as delete_account erases, its tokens left live
    "account deleted": "UPDATE users SET deleted_at = now(), first_name = NULL, last_name = NULL, "
    "email = NULL, username = NULL, password_hash = NULL",
}


def deleted(session: Session, user: User) -> bool:
    return session.get_one(User, user.id, populate_existing=True).deleted_at is not None


def dead_owner(session: Session, user: User, death: str) -> Vehicle:
    """A vehicle of `user`'s; then their tokens or account die (DEAD)."""
    vehicle = make_vehicle(session, user)
    session.execute(text(DEAD[death]))
    return vehicle


def assert_unchanged(session: Session, user: User, vehicle: Vehicle, death: str = "") -> None:
    """The vehicle is not retired and (unless it was erased by the test) the account lives."""
    assert vehicle_status(session, vehicle) == "available"
    assert deleted(session, user) == (death == "account deleted")


@pytest.mark.parametrize("death", DEAD)
def test_a_dead_token_retires_nothing_and_deletes_nothing(
    api: ApiClient, session: Session, user: User, death: str
) -> None:
    vehicle = dead_owner(session, user, death)
    assert_challenged(api.delete(f"/vehicles/{vehicle.id}"))
    assert_challenged(api.delete("/me"))
    assert_unchanged(session, user, vehicle, death)


def test_a_session_token_is_no_bearer_token(
    client: FlaskClient, session: Session, user: User
) -> None:
    vehicle: Vehicle = make_vehicle(session, user)
    issued = tokens.issue_token(session, user.id, user.city, timedelta(hours=1), tokens.SESSION)
    with_session_token = ApiClient(client, issued.token)
    assert_challenged(with_session_token.delete(f"/vehicles/{vehicle.id}"))
    assert_challenged(with_session_token.delete("/me"))
    assert_unchanged(session, user, vehicle)


def test_another_users_token_cannot_retire_the_vehicle(
    client: FlaskClient, session: Session, user: User
) -> None:
    vehicle = make_vehicle(session, user)
    other = ApiClient(client, token_for(client, make_user(session)))
    response = other.delete(f"/vehicles/{vehicle.id}")
    assert (response.status_code, response.json["code"]) == (403, "forbidden")  # type: ignore[index]
    assert vehicle_status(session, vehicle) == "available"
