"""SPEC §9: SQL statements per request, counted on a real (committing) database.

BEGIN, COMMIT and loading the logged-in user count; statements must not grow with the rows shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import select

from movr.config import Settings
from movr.db.engine import Database
from movr.db.roundtrips import StatementCounter
from movr.db.transaction import run_in_transaction
from movr.models import User, Vehicle
from movr.services import rides
from movr.web.app import create_app
from tests.api.conftest import API, token_for
from tests.factories import PASSWORD, make_user, make_vehicle
from tests.web.conftest import csrf_token, log_in

pytestmark = pytest.mark.usefixtures("clean_tables")

EAST = ["new york", "boston", "washington dc"]
# Without a replica: a page is the session check plus its read; a ride action is its one
# statement, which checks the session itself (SPEC §9: one round trip to the primary).
# A page while riding reads the ride for its ride bar with the session: no extra statement.
BUDGETS = {"start": 1, "end": 1, "vehicles": 2, "rides": 2, "profile": 2, "riding_near": 2}


@pytest.fixture
def real_client(
    settings: Settings, committed_db: Database, hasher: PasswordHasher
) -> Iterator[FlaskClient]:
    with create_app(settings, database=committed_db, hasher=hasher).test_client() as client:
        yield client


def commit(db: Database, work: Any) -> Any:
    return run_in_transaction(db.sessions, work)


def count(counter: StatementCounter, action: Any) -> list[str]:
    with counter.counting() as statements:
        response = action()
        assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    return list(statements)


@pytest.mark.parametrize("rows", [1, 20])
def test_requests_stay_within_their_statement_budget(
    real_client: FlaskClient, committed_db: Database, rows: int, record_property: Any
) -> None:
    rider = commit(committed_db, make_user)
    owner = commit(committed_db, make_user)
    fleet = commit(committed_db, lambda s: [make_vehicle(s, owner) for _ in range(rows)])
    commit(committed_db, lambda s: [make_vehicle(s, rider) for _ in range(rows)])
    for vehicle in fleet[1:]:  # history rows
        ride = commit(committed_db, lambda s, v=vehicle: rides.start_ride(s, rider.id, v.id, EAST))
        commit(committed_db, lambda s, r=ride: rides.end_ride(s, rider.id, r.id, location="x"))
    log_in(real_client, rider)
    token = csrf_token(real_client)
    counter = StatementCounter(committed_db.pooled)

    measured = {
        "vehicles": count(counter, lambda: real_client.get("/vehicles")),
        "profile": count(counter, lambda: real_client.get(f"/users/{rider.id}")),
        "start": count(
            counter,
            lambda: real_client.post(f"/rides/start/{fleet[0].id}", data={"csrf_token": token}),
        ),
        "rides": count(counter, lambda: real_client.get("/rides")),
        # nearest to the rider's position, with the ride bar
        "riding_near": count(counter, lambda: real_client.get("/vehicles?lat=40.7&lng=-74.0")),
    }
    ride_id = commit(
        committed_db, lambda s: rides.ride_history(s, rider.id, rides.PageRequest()).items[0].id
    )
    measured["end"] = count(
        counter,
        lambda: real_client.post(
            f"/rides/end/{ride_id}", data={"csrf_token": token, "location": "y"}
        ),
    )
    for name, statements in measured.items():
        record_property(f"statements_{name}_{rows}_rows", len(statements))
        print(f"{name} ({rows} rows): {len(statements)} statements: {statements}")
        assert len(statements) <= BUDGETS[name], (name, statements)


def test_keyed_api_ride_actions_are_one_statement_token_included(
    real_client: FlaskClient, committed_db: Database
) -> None:
    rider = commit(committed_db, make_user)
    vehicle = commit(committed_db, lambda s: make_vehicle(s, make_user(s)))
    token = token_for(real_client, rider)
    counter = StatementCounter(committed_db.pooled)

    def post(path: str, body: dict[str, str], key: str) -> Any:
        return real_client.post(
            f"{API}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )

    with counter.counting() as start:
        started = post("/rides", {"vehicle_id": str(vehicle.id)}, "start-key")
    assert started.status_code == 201
    with counter.counting() as end:
        ended = post(f"/rides/{started.json['id']}/end", {"location": "Pier"}, "end-key")  # type: ignore[index]
    assert ended.status_code == 200
    for statements in (start, end):
        # No BEGIN/COMMIT, no token lookup first: the token, the ride, its vehicle, active_rides
        # and the key in one statement.
        assert len(statements) == 1, statements
        assert statements[0].startswith("WITH caller AS")


def test_a_refused_keyed_start_sends_two_statements(
    real_client: FlaskClient, committed_db: Database
) -> None:
    rider, other = commit(committed_db, make_user), commit(committed_db, make_user)
    vehicle = commit(committed_db, lambda s: make_vehicle(s, make_user(s)))
    commit(committed_db, lambda s: rides.start_ride(s, other.id, vehicle.id, EAST))
    headers = {"Authorization": f"Bearer {token_for(real_client, rider)}", "Idempotency-Key": "k"}
    counter = StatementCounter(committed_db.pooled)

    with counter.counting() as statements:
        refused = real_client.post(
            f"{API}/rides", json={"vehicle_id": str(vehicle.id)}, headers=headers
        )

    assert (refused.status_code, refused.json["code"]) == (409, "vehicle_unavailable")  # type: ignore[index]
    # The ride statement (its row says why nothing was claimed), the refusal's key.
    assert len(statements) == 2, statements


def test_a_refused_end_is_one_statement(real_client: FlaskClient, committed_db: Database) -> None:
    rider = commit(committed_db, make_user)
    vehicle = commit(committed_db, lambda s: make_vehicle(s, make_user(s)))
    ride = commit(committed_db, lambda s: rides.start_ride(s, rider.id, vehicle.id, EAST))
    commit(committed_db, lambda s: rides.end_ride(s, rider.id, ride.id, location="Pier"))
    headers = {"Authorization": f"Bearer {token_for(real_client, rider)}"}
    counter = StatementCounter(committed_db.pooled)

    with counter.counting() as statements:
        again = real_client.post(
            f"{API}/rides/{ride.id}/end", json={"location": "Pier"}, headers=headers
        )

    assert (again.status_code, again.json["code"]) == (409, "ride_already_ended")  # type: ignore[index]
    # The end statement's own row says the ride had ended: no diagnostic read.
    assert len(statements) == 1, statements


# Account and vehicle writes: the session or token check (a read), then the write's ONE
# statement: no BEGIN, COMMIT or txid_current(), and no diagnostic read after a refusal.
# Registering has no session to check; the page's registration opens one (a token's issue).
# Retiring a vehicle and deleting the account check the caller in that one statement, as the
# ride actions do: one statement, the API's refusals included. A page's refusal then shows an
# error page, whose navigation reads the session where pages read (the replica when there is
# one: one statement to the primary, tests/replica/test_round_trips.py).
WRITE_BUDGET = 2
ONE = 1
VEHICLE_FORM = {"type": "scooter", "color": "red", "brand": "Acme", "location": "Main St"}
REGISTRATION = {
    "city": "new york",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "password": PASSWORD,
}


def within_budget(
    counter: StatementCounter, action: Any, status: int, budget: int = WRITE_BUDGET
) -> Any:
    """Run `action`, check its status and that it sent at most `budget` statements."""
    with counter.counting() as statements:
        response = action()
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    print(f"{status}: {len(statements)} statements: {statements}")
    assert len(statements) <= budget, statements
    return response


def user_named(db: Database, username: str) -> User:
    return commit(db, lambda s: s.scalars(select(User).where(User.username == username)).one())


def vehicles_of(db: Database, owner: User) -> list[uuid.UUID]:
    return commit(
        db, lambda s: list(s.scalars(select(Vehicle.id).where(Vehicle.owner_id == owner.id)))
    )


def refusals(db: Database, owner: User) -> tuple[Vehicle, Vehicle, Any]:
    """Another owner's vehicle, one of `owner`'s that someone rides, and `owner`'s own ride."""
    other = commit(db, make_user)
    theirs = commit(db, lambda s: make_vehicle(s, other))
    ridden = commit(db, lambda s: make_vehicle(s, owner))
    commit(db, lambda s: rides.start_ride(s, other.id, ridden.id, EAST))
    ride = commit(db, lambda s: rides.start_ride(s, owner.id, theirs.id, EAST))
    return theirs, ridden, lambda: end_rides(db, other, owner, ride)


def end_rides(db: Database, other: Any, owner: User, ride: Any) -> None:
    commit(db, lambda s: rides.end_ride(s, owner.id, ride.id, location="x"))
    open_ride = commit(db, lambda s: rides.ride_history(s, other.id, rides.PageRequest()).items[0])
    commit(db, lambda s: rides.end_ride(s, other.id, open_ride.id, location="x"))


def test_account_and_vehicle_pages_send_one_write_statement(
    real_client: FlaskClient, committed_db: Database
) -> None:
    counter = StatementCounter(committed_db.pooled)
    form = REGISTRATION | {"username": "ada-pages", "confirm": PASSWORD}
    token = csrf_token(real_client, "/register")
    register = lambda: real_client.post("/register", data=form | {"csrf_token": token})  # noqa: E731
    within_budget(counter, register, 303)
    me = user_named(committed_db, "ada-pages")
    token = csrf_token(real_client, "/vehicles")
    add = lambda: real_client.post("/vehicles/add", data=VEHICLE_FORM | {"csrf_token": token})  # noqa: E731
    within_budget(counter, add, 303)
    (added,) = vehicles_of(committed_db, me)
    theirs, ridden, end_them = refusals(committed_db, me)

    def remove(path: str) -> Any:
        return lambda: real_client.post(path, data={"csrf_token": token})

    within_budget(counter, remove(f"/vehicles/remove/{added}"), 303, ONE)
    within_budget(counter, remove(f"/vehicles/remove/{theirs.id}"), 403)
    within_budget(counter, remove(f"/vehicles/remove/{ridden.id}"), 409)
    within_budget(counter, remove(f"/users/remove/{me.id}"), 409)  # while riding
    end_them()
    within_budget(counter, remove(f"/users/remove/{me.id}"), 303, ONE)


def test_account_and_vehicle_api_calls_send_one_write_statement(
    real_client: FlaskClient, committed_db: Database
) -> None:
    counter = StatementCounter(committed_db.pooled)
    body = REGISTRATION | {"username": "ada-api"}
    # No token to check: the insert alone.
    within_budget(counter, lambda: real_client.post(f"{API}/users", json=body), 201, budget=1)
    me = user_named(committed_db, "ada-api")
    auth = {"Authorization": f"Bearer {token_for(real_client, me)}"}
    add = lambda: real_client.post(f"{API}/vehicles", json=VEHICLE_FORM, headers=auth)  # noqa: E731
    added = within_budget(counter, add, 201).json["id"]
    theirs, ridden, end_them = refusals(committed_db, me)

    def delete(path: str) -> Any:
        return lambda: real_client.delete(API + path, headers=auth)

    within_budget(counter, delete(f"/vehicles/{added}"), 204, ONE)
    within_budget(counter, delete(f"/vehicles/{theirs.id}"), 403, ONE)
    within_budget(counter, delete(f"/vehicles/{ridden.id}"), 409, ONE)
    within_budget(counter, delete(f"/vehicles/{uuid.uuid4()}"), 404, ONE)
    within_budget(counter, delete("/me"), 409, ONE)  # while riding
    end_them()
    within_budget(counter, delete("/me"), 204, ONE)
