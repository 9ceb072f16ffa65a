"""Concurrent repeats of one Idempotency-Key, with real threads and committed transactions."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.test import TestResponse

from movr.config import Settings
from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.models import User, Vehicle
from movr.services.passwords import PasswordHasher
from movr.web.app import create_app
from tests.api.conftest import API, token_for
from tests.factories import make_user, make_vehicle

pytestmark = [pytest.mark.concurrency, pytest.mark.usefixtures("clean_tables")]

THREADS = 8


@pytest.fixture
def live_app(settings: Settings, clean_tables: Database, hasher: PasswordHasher) -> Flask:
    """The app on a database whose transactions really commit."""
    return create_app(settings, database=clean_tables, hasher=hasher)


def post_together(
    app: Flask, token: str, requests: list[tuple[str, dict[str, str]]], key: str
) -> list[TestResponse]:
    """POST each (path, body) from its own thread and client, all released at once."""
    barrier = threading.Barrier(len(requests))
    responses: list[TestResponse | None] = [None] * len(requests)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}

    def send(index: int) -> None:
        path, body = requests[index]
        with app.test_client() as client:
            barrier.wait(timeout=10)
            responses[index] = client.post(API + path, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(response is not None for response in responses)
    return [response for response in responses if response is not None]


def committed_rider_token(db: Database, app: Flask) -> str:
    """A bearer token of a newly registered (committed) rider."""
    rider: User = run_in_transaction(db.sessions, make_user)
    with app.test_client() as client:
        return token_for(client, rider)


def committed_vehicles(db: Database, count: int) -> list[Vehicle]:
    return run_in_transaction(
        db.sessions, lambda s: [make_vehicle(s, make_user(s)) for _ in range(count)]
    )


def counts(db: Database) -> tuple[int, int]:
    with db.engine.connect() as connection:
        row = connection.execute(
            text("SELECT (SELECT count(*) FROM rides), (SELECT count(*) FROM active_rides)")
        ).one()
    return row[0], row[1]


def test_concurrent_repeats_of_a_start_make_one_ride_and_one_answer(
    live_app: Flask, clean_tables: Database
) -> None:
    token = committed_rider_token(clean_tables, live_app)
    (vehicle,) = committed_vehicles(clean_tables, 1)

    responses = post_together(
        live_app, token, [("/rides", {"vehicle_id": str(vehicle.id)})] * THREADS, str(uuid.uuid4())
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.get_data() for r in responses}) == 1
    assert Counter(r.headers["Idempotent-Replayed"] for r in responses) == {
        "false": 1,
        "true": THREADS - 1,
    }
    assert counts(clean_tables) == (1, 1)


def test_one_key_sent_concurrently_for_different_vehicles_starts_one_ride(
    live_app: Flask, clean_tables: Database
) -> None:
    token = committed_rider_token(clean_tables, live_app)
    fleet = committed_vehicles(clean_tables, THREADS)

    responses = post_together(
        live_app, token, [("/rides", {"vehicle_id": str(v.id)}) for v in fleet], "one-key"
    )

    outcomes = Counter(
        "started" if r.status_code == 201 else r.json["code"]  # type: ignore[index]
        for r in responses
    )
    assert outcomes == {"started": 1, "idempotency_key_reused": THREADS - 1}
    assert counts(clean_tables) == (1, 1)
    with clean_tables.engine.connect() as connection:
        in_use = connection.scalar(text("SELECT count(*) FROM vehicles WHERE status = 'in_use'"))
    assert in_use == 1


def test_concurrent_repeats_of_an_end_end_the_ride_once(
    live_app: Flask, clean_tables: Database
) -> None:
    token = committed_rider_token(clean_tables, live_app)
    (vehicle,) = committed_vehicles(clean_tables, 1)
    with live_app.test_client() as client:
        started = client.post(
            f"{API}/rides",
            json={"vehicle_id": str(vehicle.id)},
            headers={"Authorization": f"Bearer {token}"},
        )
    path = f"/rides/{started.json['id']}/end"  # type: ignore[index]

    responses = post_together(
        live_app, token, [(path, {"location": "Pier 17"})] * THREADS, "end-key"
    )

    assert {r.status_code for r in responses} == {200}
    assert len({r.get_data() for r in responses}) == 1
    assert counts(clean_tables) == (1, 0)
