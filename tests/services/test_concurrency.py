"""Races with real threads and separately committed transactions against PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from movr.config import RetryPolicy
from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.models import User, Vehicle
from movr.services import rides, tokens, users, vehicles
from movr.services.callers import Caller, UnknownCaller
from movr.services.errors import DomainError
from tests.factories import make_user, make_vehicle

pytestmark = [pytest.mark.concurrency, pytest.mark.usefixtures("clean_tables")]

EAST = ["new york", "boston", "washington dc"]
POLICY = RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.2)


def race(db: Database, actions: list[Callable[[Any], object]]) -> list[object]:
    """Run each action in its own thread and transaction, released together by a barrier.

    Returns each outcome: the result, a DomainError, or any other exception (a failure)."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes[index] = run_in_transaction(
                db.sessions, actions[index], operation="race", policy=POLICY
            )
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def committed(db: Database, work: Callable[[Any], Any]) -> Any:
    return run_in_transaction(db.sessions, work)


def kinds(outcomes: list[object]) -> Counter[str]:
    return Counter(type(o).__name__ if isinstance(o, Exception) else "ok" for o in outcomes)


def active_rides(db: Database) -> list[tuple[uuid.UUID, uuid.UUID]]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT vehicle_id, rider_id FROM rides WHERE end_time IS NULL")
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def status_consistent(db: Database) -> bool:
    """Invariant 1: a vehicle is in_use exactly when it has an active ride."""
    with db.engine.connect() as connection:
        broken = connection.scalar(
            text(
                "SELECT count(*) FROM vehicles v WHERE (v.status = 'in_use') <> EXISTS "
                "(SELECT 1 FROM rides r WHERE r.vehicle_id = v.id AND r.end_time IS NULL)"
            )
        )
        # ... and a ride is in active_rides exactly while it has not ended.
        mismatched = connection.scalar(
            text(
                "SELECT count(*) FROM rides r FULL JOIN active_rides a ON a.ride_id = r.id "
                "WHERE (r.end_time IS NULL) IS DISTINCT FROM (a.ride_id IS NOT NULL)"
            )
        )
    return broken == 0 and mismatched == 0


def test_twenty_riders_racing_for_one_vehicle_yield_one_ride(clean_tables: Database) -> None:
    db = clean_tables
    vehicle: Vehicle = committed(db, lambda s: make_vehicle(s, make_user(s)))
    riders: list[User] = committed(db, lambda s: [make_user(s) for _ in range(20)])

    outcomes = race(
        db,
        [lambda s, r=rider: rides.start_ride(s, r.id, vehicle.id, EAST).id for rider in riders],
    )

    assert kinds(outcomes) == {"ok": 1, "VehicleUnavailable": 19}
    assert len(active_rides(db)) == 1
    assert status_consistent(db)


def test_one_rider_starting_two_vehicles_at_once_gets_one_ride(clean_tables: Database) -> None:
    db = clean_tables
    rider: User = committed(db, make_user)
    fleet: list[Vehicle] = committed(
        db, lambda s: [make_vehicle(s, make_user(s)) for _ in range(2)]
    )

    outcomes = race(
        db, [lambda s, v=v: rides.start_ride(s, rider.id, v.id, EAST).id for v in fleet]
    )

    assert kinds(outcomes) == {"ok": 1, "AlreadyRiding": 1}
    assert len(active_rides(db)) == 1
    assert status_consistent(db)


def test_ending_a_ride_twice_at_once_ends_it_once(clean_tables: Database) -> None:
    db = clean_tables
    rider: User = committed(db, make_user)
    vehicle: Vehicle = committed(db, lambda s: make_vehicle(s, make_user(s)))
    ride = committed(db, lambda s: rides.start_ride(s, rider.id, vehicle.id, EAST))

    outcomes = race(
        db,
        [
            lambda s, n=n: rides.end_ride(s, rider.id, ride.id, location=f"spot {n}").id
            for n in range(5)
        ],
    )

    assert kinds(outcomes) == {"ok": 1, "RideAlreadyEnded": 4}
    assert active_rides(db) == []
    assert status_consistent(db)


def test_retiring_while_someone_starts_a_ride_leaves_a_consistent_vehicle(
    clean_tables: Database,
) -> None:
    db = clean_tables
    owner: User = committed(db, make_user)
    rider: User = committed(db, make_user)
    for _ in range(5):
        vehicle: Vehicle = committed(db, lambda s: make_vehicle(s, owner))
        outcomes = race(
            db,
            [
                lambda s, v=vehicle: rides.start_ride(s, rider.id, v.id, EAST).id,
                lambda s, v=vehicle: vehicles.retire_vehicle(s, owner.id, v.id),
            ],
        )
        assert sum(not isinstance(o, Exception) for o in outcomes) == 1
        assert all(not isinstance(o, Exception) or isinstance(o, DomainError) for o in outcomes)
        assert status_consistent(db)
        for ride_id in [o for o in outcomes if isinstance(o, uuid.UUID)]:
            committed(db, lambda s, r=ride_id: rides.end_ride(s, rider.id, r, location="x"))


def caller_for(db: Database, rider: User, by: str) -> Caller:
    """The rider as a page knows them (their id) or as the API does (a token)."""
    if by == "account":
        return Caller(user_id=rider.id)
    account = committed(db, lambda s: users.get_user(s, rider.id))
    issued = committed(
        db, lambda s: tokens.issue_token(s, account.id, account.city, timedelta(hours=1))
    )
    return Caller.bearer(issued.token)


@pytest.mark.parametrize("by", ["account", "token"])
def test_deleting_an_account_while_it_starts_a_ride_never_leaves_a_deleted_rider_riding(
    clean_tables: Database, by: str
) -> None:
    db = clean_tables
    for _ in range(5):
        rider: User = committed(db, make_user)
        vehicle: Vehicle = committed(db, lambda s: make_vehicle(s, make_user(s)))
        caller = caller_for(db, rider, by)
        outcomes = race(
            db,
            [
                lambda s, c=caller, v=vehicle: rides.start_ride(s, c, v.id, EAST).id,
                lambda s, r=rider: users.delete_account(s, r.id),
            ],
        )
        refusals = (DomainError, UnknownCaller)  # the start lost: refused, or its rider was gone
        assert all(not isinstance(o, Exception) or isinstance(o, refusals) for o in outcomes)
        with db.engine.connect() as connection:
            riding_deleted = connection.scalar(
                text(
                    "SELECT count(*) FROM rides r JOIN users u ON u.id = r.rider_id "
                    "WHERE r.end_time IS NULL AND u.deleted_at IS NOT NULL"
                )
            )
        assert riding_deleted == 0
        assert status_consistent(db)
