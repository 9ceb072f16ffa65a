"""Ride statements that resolve their caller (an API token) themselves."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from movr.models import User, Vehicle
from movr.services import rides, tokens, users
from movr.services.callers import Caller, UnknownCaller
from movr.services.errors import NotFound
from tests.factories import make_user, make_vehicle

EAST = ["new york", "boston", "washington dc"]
DAY = timedelta(days=1)


def bearer(session: Session, user: User, ttl: timedelta = DAY) -> Caller:
    account = users.get_user(session, user.id)
    assert account is not None
    return Caller.bearer(tokens.issue_token(session, account.id, account.city, ttl).token)


def status_of(session: Session, vehicle: Vehicle) -> str:
    return session.get_one(Vehicle, vehicle.id, populate_existing=True).status


def test_a_token_starts_and_ends_its_users_ride(session: Session) -> None:
    rider = make_user(session)
    vehicle = make_vehicle(session, make_user(session))
    caller = bearer(session, rider)
    ride = rides.start_ride(session, caller, vehicle.id, EAST)
    assert ride.rider_id == rider.id
    ended = rides.end_ride(session, caller, ride.id, location="Pier 1")
    assert (ended.end_location, status_of(session, vehicle)) == ("Pier 1", "available")


def dead_callers(session: Session, rider: User) -> dict[str, Caller]:
    account = users.get_user(session, rider.id)
    assert account is not None
    revoked_token = tokens.issue_token(session, account.id, account.city, DAY).token
    tokens.revoke_token(session, rider.id, revoked_token)
    return {
        "unknown": Caller.bearer("movr_no-such-token"),
        "expired": bearer(session, rider, ttl=-timedelta(seconds=1)),
        "revoked": Caller.bearer(revoked_token),
    }


def test_a_dead_token_starts_nothing(session: Session) -> None:
    rider = make_user(session)
    vehicle = make_vehicle(session, make_user(session))
    for name, caller in dead_callers(session, rider).items():
        with pytest.raises(UnknownCaller):
            rides.start_ride(session, caller, vehicle.id, EAST)
        assert status_of(session, vehicle) == "available", name


def test_a_deleted_accounts_token_starts_nothing(session: Session) -> None:
    rider = make_user(session)
    vehicle = make_vehicle(session, make_user(session))
    caller = bearer(session, rider)
    users.delete_account(session, rider.id)
    with pytest.raises(UnknownCaller):
        rides.start_ride(session, caller, vehicle.id, EAST)
    assert status_of(session, vehicle) == "available"


def test_a_dead_token_ends_nothing(session: Session) -> None:
    rider = make_user(session)
    vehicle = make_vehicle(session, make_user(session))
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    for caller in dead_callers(session, rider).values():
        with pytest.raises(UnknownCaller):
            rides.end_ride(session, caller, ride.id, location="Pier 1")
    assert rides.get_ride(session, rider.id, ride.id).active


def test_a_token_cannot_end_someone_elses_ride(session: Session) -> None:
    rider = make_user(session)
    vehicle = make_vehicle(session, make_user(session))
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    stranger = bearer(session, make_user(session))
    for ride_id in (ride.id, uuid.uuid4()):
        with pytest.raises(NotFound):
            rides.end_ride(session, stranger, ride_id, location="Pier 1")
    assert rides.get_ride(session, rider.id, ride.id).active
