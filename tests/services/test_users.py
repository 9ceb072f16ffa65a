"""Accounts: registration, authentication, listing, deletion and erasure."""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movr.models import Ride, User, Vehicle
from movr.regions import RegionMap
from movr.services import rides, users
from movr.services.errors import (
    InvalidCredentials,
    InvalidInput,
    NotFound,
    StillRiding,
    UsernameTaken,
)
from movr.services.pagination import PageRequest
from tests.factories import PASSWORD, OnSession, make_user, make_vehicle

EAST = ["new york", "boston", "washington dc"]


def registration(**overrides: str) -> users.Registration:
    values = {
        "city": "boston",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "username": "Ada",
        "password": "analytical engine",
    } | overrides
    return users.Registration(**values)


def test_register_stores_lowercased_username_and_argon2id_hash(
    session: Session, hasher: PasswordHasher, region_map: RegionMap
) -> None:
    user = users.register_user(session, hasher, region_map, registration())
    assert user.username == "ada"
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert "analytical" not in user.password_hash


def test_register_rejects_username_taken_in_any_case(
    session: Session, hasher: PasswordHasher, region_map: RegionMap
) -> None:
    users.register_user(session, hasher, region_map, registration(username="ada"))
    with pytest.raises(UsernameTaken), session.begin_nested():
        users.register_user(session, hasher, region_map, registration(username="ADA"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("city", "atlantis"),
        ("username", "x"),
        ("username", "has space"),
        ("username", "u" * 40),
        ("password", "short"),
        ("password", "p" * 200),
        ("first_name", "   "),
        ("last_name", "n" * 65),
        ("email", "not-an-email"),
    ],
)
def test_register_rejects_bad_input_naming_the_field(
    session: Session, hasher: PasswordHasher, region_map: RegionMap, field: str, value: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        users.register_user(session, hasher, region_map, registration(**{field: value}))
    assert raised.value.field == field


def test_database_rejects_a_city_outside_the_map(session: Session) -> None:
    with pytest.raises(IntegrityError, match="users_city_check"):
        session.execute(
            text("INSERT INTO users (city, username, password_hash) VALUES ('atlantis', 'a', 'h')")
        )


def test_database_rejects_uppercase_or_duplicate_usernames(session: Session) -> None:
    insert = text("INSERT INTO users (city, username, password_hash) VALUES ('rome', :u, 'h')")
    with pytest.raises(IntegrityError, match="users_username_lower_check"), session.begin_nested():
        session.execute(insert, {"u": "Bob"})
    session.execute(insert, {"u": "bob"})
    with pytest.raises(IntegrityError, match="users_username_key"):
        session.execute(insert, {"u": "bob"})


def test_region_is_generated_from_city_by_the_database(session: Session) -> None:
    user = make_user(session, city="paris")
    region = session.execute(text("SELECT region FROM users WHERE id = :id"), {"id": user.id})
    assert region.scalar_one() == "gcp-europe-west1"


def test_authenticate_accepts_the_right_password_case_insensitively(
    session: Session, hasher: PasswordHasher
) -> None:
    user = make_user(session, username="grace")
    assert users.authenticate(OnSession(session), hasher, "GRACE", PASSWORD).id == user.id


@pytest.mark.parametrize(
    ("username", "password"), [("grace", "wrong password"), ("nobody", PASSWORD)]
)
def test_authenticate_failure_is_the_same_for_unknown_user_and_wrong_password(
    session: Session, hasher: PasswordHasher, username: str, password: str
) -> None:
    make_user(session, username="grace")
    with pytest.raises(InvalidCredentials) as raised:
        users.authenticate(OnSession(session), hasher, username, password)
    assert raised.value.message == "Invalid username or password."


def test_authenticate_rehashes_outdated_parameters(
    session: Session, hasher: PasswordHasher
) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
    user = make_user(session, username="rehash")
    session.execute(update(User).where(User.id == user.id).values(password_hash=old.hash(PASSWORD)))
    users.authenticate(OnSession(session), hasher, "rehash", PASSWORD)
    session.flush()
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert not hasher.check_needs_rehash(stored)


def test_list_city_users_shows_owners_without_private_fields(session: Session) -> None:
    owner = make_user(session, city="seattle")
    make_vehicle(session, owner)
    rider = make_user(session, city="seattle")
    make_user(session, city="rome")
    page = users.list_city_users(session, "seattle", PageRequest())
    assert {u.id: u.is_owner for u in page.items} == {rider.id: False, owner.id: True}
    assert not hasattr(page.items[0], "email")


def test_list_city_users_paginates_without_gaps_or_repeats(session: Session) -> None:
    created = {make_user(session, city="rome").id for _ in range(7)}
    seen: list[object] = []
    cursor = None
    while True:
        page = users.list_city_users(session, "rome", PageRequest.parse(cursor, 3))
        assert len(page.items) <= 3
        seen.extend(user.id for user in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 7
    assert set(seen) == created


def test_delete_account_erases_personal_data_and_keeps_rides_anonymous(session: Session) -> None:
    owner = make_user(session)
    rider = make_user(session, username="leaver")
    vehicle = make_vehicle(session, owner)
    own_vehicle = make_vehicle(session, rider)
    ride = rides.start_ride(session, rider.id, vehicle.id, EAST)
    rides.end_ride(session, rider.id, ride.id, location="Pier 3")

    users.delete_account(session, rider.id)

    erased = session.get_one(User, rider.id, populate_existing=True)
    assert (erased.username, erased.email, erased.first_name, erased.last_name) == (None,) * 4
    assert erased.password_hash is None
    assert erased.deleted_at is not None
    assert session.get_one(Ride, ride.id).rider_id == rider.id
    assert session.get_one(Vehicle, own_vehicle.id, populate_existing=True).status == "removed"
    assert users.get_user(session, rider.id) is None


def test_a_new_account_with_a_deleted_username_inherits_nothing(
    session: Session, hasher: PasswordHasher
) -> None:
    owner = make_user(session)
    first = make_user(session, username="phoenix")
    ride = rides.start_ride(session, first.id, make_vehicle(session, owner).id, EAST)
    rides.end_ride(session, first.id, ride.id, location="Dock")
    users.delete_account(session, first.id)

    second = make_user(session, username="phoenix")
    assert second.id != first.id
    assert rides.ride_history(session, second.id, PageRequest()).items == []
    with pytest.raises(InvalidCredentials):
        users.authenticate(OnSession(session), hasher, "phoenix", "the old password")


def test_delete_account_is_refused_while_riding(session: Session) -> None:
    owner = make_user(session)
    rider = make_user(session)
    rides.start_ride(session, rider.id, make_vehicle(session, owner).id, EAST)
    with pytest.raises(StillRiding):
        users.delete_account(session, rider.id)
    assert users.get_user(session, rider.id) is not None


def test_deleting_an_unknown_or_deleted_account_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        users.delete_account(session, uuid.uuid4())
    user = make_user(session)
    users.delete_account(session, user.id)
    with pytest.raises(NotFound):
        users.delete_account(session, user.id)


def test_delete_account_is_refused_while_own_vehicle_is_ridden(session: Session) -> None:
    owner = make_user(session)
    vehicle = make_vehicle(session, owner)
    rides.start_ride(session, make_user(session).id, vehicle.id, EAST)
    with pytest.raises(StillRiding):
        users.delete_account(session, owner.id)


def test_database_refuses_a_half_erased_account(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(IntegrityError, match="users_erased_check"):
        session.execute(update(User).where(User.id == user.id).values(deleted_at=text("now()")))
