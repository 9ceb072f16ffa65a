"""The hottest path, measured every way it was built, in one run: start and end a ride with
the statements built by SQLAlchemy's ORM on every call, as prepared SQL text in BEGIN … COMMIT,
and as one autocommit statement each (as shipped); and the same with an Idempotency-Key, as
MovR 0.1 kept it (claim, savepoint, action, stored body in one transaction) and as shipped (the
key written by the ride's own statement)."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, exists, extract, func, insert, literal, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.models import Ride, User, Vehicle
from movr.services import idempotency, rides
from movr.services.callers import Caller


def _orm_start(session: Session, rider: uuid.UUID, vehicle: uuid.UUID, cities: list[str]) -> Any:
    """The original ORM-built statement (as first written in services/rides.py)."""
    claimed = (
        update(Vehicle)
        .where(
            Vehicle.id == vehicle,
            Vehicle.status == "available",
            Vehicle.city.in_(cities),
            exists().where(User.id == rider, User.deleted_at.is_(None)),
        )
        .values(status="in_use")
        .returning(*Vehicle.__table__.columns)
        .cte("claimed")
    )
    columns = ["city", "vehicle_id", "rider_id", "start_location"]
    columns += ["start_latitude", "start_longitude"]
    opened = (
        insert(Ride)
        .from_select(
            columns,
            select(
                claimed.c.city,
                claimed.c.id,
                literal(rider),
                claimed.c.last_location,
                claimed.c.latitude,
                claimed.c.longitude,
            ),
        )
        .returning(*Ride.__table__.columns)
        .cte("opened")
    )
    query = select(opened, claimed.c.type, claimed.c.brand, claimed.c.color).join(
        claimed, claimed.c.id == opened.c.vehicle_id
    )
    return session.execute(query).one()


def _orm_end(session: Session, rider: uuid.UUID, ride: uuid.UUID) -> Any:
    minutes = extract("epoch", func.now() - Ride.start_time) / 60
    ended = (
        update(Ride)
        .where(Ride.id == ride, Ride.rider_id == rider, Ride.end_time.is_(None))
        .values(
            end_time=func.now(),
            end_location="bench",
            end_latitude=Ride.start_latitude,
            end_longitude=Ride.start_longitude,
            revenue=func.round(rides.UNLOCK_FEE + rides.PER_MINUTE * minutes, 2),
        )
        .returning(*Ride.__table__.columns)
        .cte("ended")
    )
    freed = (
        update(Vehicle)
        .where(Vehicle.id == ended.c.vehicle_id, Vehicle.status == "in_use")
        .values(status="available", last_location=ended.c.end_location)
        .returning(*Vehicle.__table__.columns)
        .cte("freed")
    )
    query = select(ended, freed.c.type).join(freed, freed.c.id == ended.c.vehicle_id)
    return session.execute(query).one()


def _time(rounds: int, action: Callable[[], None]) -> tuple[float, float]:
    """Wall and CPU milliseconds per call."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        action()
    return (
        (time.perf_counter() - wall) / rounds * 1000,
        (time.process_time() - cpu) / rounds * 1000,
    )


BLOCKS = 10

# MovR 0.1's idempotency statements (the "before" of the keyed rows).
OLD_CLAIM = text(
    "INSERT INTO idempotency_keys (user_id, key, city, request_hash, expires_at) "
    "VALUES (:user_id, :key, :city, :request_hash, now() + interval '1 day') "
    "ON CONFLICT (user_id, key) DO NOTHING RETURNING key"
)
OLD_STORE = text(
    "UPDATE idempotency_keys SET response_status = :status, response_body = :body "
    "WHERE user_id = :user_id AND key = :key"
)


def _old_keyed(session: Session, rider: uuid.UUID, action: Callable[[Session], Any]) -> Any:
    key = {"user_id": rider, "key": uuid.uuid4().hex}
    session.execute(OLD_CLAIM, key | {"city": "new york", "request_hash": "0" * 64}).one()
    with session.begin_nested():
        result = action(session)
    session.execute(OLD_STORE, key | {"status": 201, "body": repr(result)})
    return result


def _claim(rider: uuid.UUID) -> idempotency.Claim:
    caller = Caller(user_id=rider)
    return idempotency.Claim(caller, uuid.uuid4().hex, "new york", "0" * 64, timedelta(days=1))


def compare(database: Database, cities: list[str], rounds: int = 300) -> dict[str, Any]:
    """Time a start+end cycle every way on one available vehicle and one idle rider."""
    with database.engine.connect() as connection:
        vehicle, rider = connection.execute(
            text(
                "SELECT v.id, u.id FROM vehicles v, users u "
                "WHERE v.status = 'available' AND v.city IN :cities AND u.deleted_at IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM rides r WHERE r.rider_id = u.id "
                "AND r.end_time IS NULL) LIMIT 1"
            ).bindparams(bindparam("cities", value=list(cities), expanding=True))
        ).one()
    transaction = database.sessions
    autocommit = database.autocommit
    autocommit_session = sessionmaker(database.pooled, expire_on_commit=False)

    def start(session: Session, claim: idempotency.Claim | None = None) -> Any:
        return rides.start_ride(session, rider, vehicle, cities, claim)

    def end(ride: Any, claim: idempotency.Claim | None = None) -> Callable[[Session], Any]:
        return lambda s: rides.end_ride(s, rider, ride.id, location="bench", claim=claim)

    def orm_cycle() -> None:
        ride = run_in_transaction(transaction, lambda s: _orm_start(s, rider, vehicle, cities))
        run_in_transaction(transaction, lambda s: _orm_end(s, rider, ride.id))

    def text_cycle(sessions: Any) -> Callable[[], None]:
        def cycle() -> None:
            run_in_transaction(sessions, end(run_in_transaction(sessions, start)))

        return cycle

    def old_keyed_cycle() -> None:
        ride = run_in_transaction(transaction, lambda s: _old_keyed(s, rider, start))
        run_in_transaction(transaction, lambda s: _old_keyed(s, rider, end(ride)))

    def keyed_cycle(units: Any) -> Callable[[], None]:
        def cycle() -> None:
            ride = run_in_transaction(units, lambda s: start(s, _claim(rider)))
            run_in_transaction(units, end(ride, _claim(rider)))

        return cycle

    ways = [
        ("SQLAlchemy ORM statements, BEGIN … COMMIT (first version)", orm_cycle),
        ("prepared SQL text, BEGIN … COMMIT (0.1)", text_cycle(transaction)),
        (
            "prepared SQL text, one autocommit statement, ORM Session (0.2)",
            text_cycle(autocommit_session),
        ),
        (
            "prepared SQL text, one autocommit statement, Connection (shipped)",
            text_cycle(autocommit),
        ),
        ("with Idempotency-Key: claim, savepoint, action, store (0.1)", old_keyed_cycle),
        (
            "with Idempotency-Key: one autocommit statement, ORM Session (0.2)",
            keyed_cycle(autocommit_session),
        ),
        (
            "with Idempotency-Key: one autocommit statement, Connection (shipped)",
            keyed_cycle(autocommit),
        ),
    ]
    for _, cycle in ways:
        _time(20, cycle)  # warm the statement caches
    # Interleaved blocks, medians per way: the machine's speed drifts over a run.
    blocks: list[list[tuple[float, float]]] = [[] for _ in ways]
    for _ in range(BLOCKS):
        for index, (_, cycle) in enumerate(ways):
            blocks[index].append(_time(rounds // BLOCKS, cycle))
    rows = [
        (label, statistics.median(w for w, _ in timed), statistics.median(c for _, c in timed))
        for (label, _), timed in zip(ways, blocks, strict=True)
    ]
    return {"rounds": rounds, "rows": rows}
