"""The invariant SQL finds broken data (and nothing in sound data)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from movr.db.engine import Database
from movr.loadgen.invariants import InvariantChecker
from movr.loadgen.ledger import LedgerView
from tests.factories import make_user, make_vehicle


def rider_with_two_vehicles(database: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A committed user owning two available vehicles: their ids."""
    with database.sessions() as session:
        rider = make_user(session)
        first, second = make_vehicle(session, rider), make_vehicle(session, rider)
        session.commit()
        return rider.id, first.id, second.id


def broken(checker: InvariantChecker, ledger: LedgerView) -> dict[str, int]:
    return {r.name: r.violations for r in checker.check(ledger) if not r.ok}


def test_sound_data_passes_and_broken_data_is_reported(
    clean_tables: Database, database_url: str
) -> None:
    rider_id, parked_id, ridden_id = rider_with_two_vehicles(clean_tables)
    checker = InvariantChecker(database_url)
    try:
        assert broken(checker, LedgerView({}, frozenset())) == {}

        with clean_tables.engine.begin() as connection:
            # A vehicle marked in use with no ride, and a ride on a vehicle still available.
            connection.execute(
                text("UPDATE vehicles SET status = 'in_use' WHERE id = :id"), {"id": parked_id}
            )
            ride_id = connection.execute(
                text(
                    "INSERT INTO rides (city, vehicle_id, rider_id) "
                    "VALUES ('new york', :vehicle, :rider) RETURNING id"
                ),
                {"vehicle": ridden_id, "rider": rider_id},
            ).scalar_one()
        lost = uuid.uuid4()
        ledger = LedgerView({ride_id: rider_id, lost: rider_id}, frozenset({ride_id}))

        assert broken(checker, ledger) == {
            "in_use_has_active_ride": 1,
            "active_ride_vehicle_in_use": 1,
            "active_rides_match_rides": 1,  # the hand-made ride is not in active_rides
            "started_rides_stored": 1,  # `lost` was never stored
            "ended_rides_stored": 1,  # the ledger saw ride_id end, the database did not
        }
    finally:
        checker.close()


KEYED_START = """
    WITH opened AS (
        INSERT INTO rides (city, vehicle_id, rider_id) VALUES ('new york', :vehicle, :rider)
        RETURNING id, rider_id
    ), key AS (
        INSERT INTO idempotency_keys (user_id, key, city, request_hash, ride_id, expires_at)
        SELECT rider_id, :key, 'new york', 'h', id, now() + interval '1 day' FROM opened
    )
    SELECT id FROM opened
"""
KEYED_END = """
    WITH ended AS (
        UPDATE rides SET end_time = now(), end_location = 'Here' WHERE id = :ride
        RETURNING id, rider_id
    )
    INSERT INTO idempotency_keys (user_id, key, city, request_hash, ride_id, expires_at)
    SELECT rider_id, :key, 'new york', 'h', id, now() + interval '1 day' FROM ended
    RETURNING ride_id
"""


def test_a_ride_ended_twice_and_a_lost_retirement_are_reported(
    clean_tables: Database, database_url: str
) -> None:
    rider_id, vehicle_id, kept_id = rider_with_two_vehicles(clean_tables)

    def run(sql: str, **values: object) -> uuid.UUID | None:
        # Each in its own transaction, as the API's statements: now() differs between them.
        with clean_tables.engine.begin() as connection:
            return connection.execute(text(sql), values).scalar()

    once = run(KEYED_START, vehicle=vehicle_id, rider=rider_id, key="s1")
    run(KEYED_END, ride=once, key="e1")
    twice = run(KEYED_START, vehicle=vehicle_id, rider=rider_id, key="s2")
    run(KEYED_END, ride=twice, key="e2")
    checker = InvariantChecker(database_url)
    try:
        # Rides started and ended once each, with their keys, hold.
        assert broken(checker, LedgerView({}, frozenset())) == {}

        run(KEYED_END, ride=twice, key="e3")  # the second ride ends a second time
        ledger = LedgerView({}, frozenset(), {kept_id: rider_id})  # retired, says the server
        assert broken(checker, ledger) == {"ride_ended_once": 1, "retired_vehicles_stored": 1}
        assert _examples(checker, ledger, "ride_ended_once") == (str(twice),)
    finally:
        checker.close()


def _examples(checker: InvariantChecker, ledger: LedgerView, name: str) -> tuple[str, ...]:
    return next(r.examples for r in checker.check(ledger) if r.name == name)
