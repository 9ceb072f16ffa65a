"""The hottest path, measured both ways in one run: start and end a ride with the statements
built by SQLAlchemy's ORM on every call (before) and as prepared SQL text (after, as shipped)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, exists, extract, func, insert, literal, select, text, update
from sqlalchemy.orm import Session

from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.models import Ride, User, Vehicle
from movr.services import rides


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


def compare(database: Database, cities: list[str], rounds: int = 300) -> dict[str, Any]:
    """Time a start+end cycle both ways on one available vehicle and one idle rider."""
    with database.engine.connect() as connection:
        vehicle, rider = connection.execute(
            text(
                "SELECT v.id, u.id FROM vehicles v, users u "
                "WHERE v.status = 'available' AND v.city IN :cities AND u.deleted_at IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM rides r WHERE r.rider_id = u.id "
                "AND r.end_time IS NULL) LIMIT 1"
            ).bindparams(bindparam("cities", value=list(cities), expanding=True))
        ).one()

    def orm_cycle() -> None:
        ride = run_in_transaction(
            database.sessions, lambda s: _orm_start(s, rider, vehicle, cities)
        )
        run_in_transaction(database.sessions, lambda s: _orm_end(s, rider, ride.id))

    def text_cycle() -> None:
        ride = run_in_transaction(
            database.sessions, lambda s: rides.start_ride(s, rider, vehicle, cities)
        )
        run_in_transaction(
            database.sessions, lambda s: rides.end_ride(s, rider, ride.id, location="bench")
        )

    _time(20, orm_cycle)  # warm the statement caches of both
    _time(20, text_cycle)
    before = _time(rounds, orm_cycle)
    after = _time(rounds, text_cycle)
    return {
        "rounds": rounds,
        "orm_ms_per_cycle": before[0],
        "orm_cpu_ms_per_cycle": before[1],
        "sql_ms_per_cycle": after[0],
        "sql_cpu_ms_per_cycle": after[1],
    }
