"""`movr serve` as a real gunicorn process: graceful SIGTERM, and surviving a database restart."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from movr.config import Settings
from movr.db import migrate
from movr.db.embedded import EmbeddedPostgres
from movr.db.engine import create_database
from movr.db.transaction import run_in_transaction
from movr.regions import RegionMap
from tests.factories import make_user, make_vehicle
from tests.processes import free_port, start_serve, wait_for

SECRET = "a-test-secret-key-of-some-length"


@dataclass
class Served:
    """A running `movr serve` and the database behind it."""

    url: str
    database_url: str
    server: EmbeddedPostgres
    process: subprocess.Popen[str]
    settings: Settings
    tokens: list[str] = field(default_factory=list)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """An embedded PostgreSQL of its own (so the test may stop it) and `movr serve` on it."""
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    server.ensure_database("movr")
    url = server.url("movr")
    settings = Settings.from_env({"SECRET_KEY": SECRET, "MOVR_DATA_DIR": str(tmp_path)})
    engine = create_engine(url)
    migrate.upgrade(engine, RegionMap.default())
    engine.dispose()
    port = free_port()
    process = start_serve(
        port, tmp_path, url, SECRET_KEY=SECRET, MOVR_RATE_LIMITS="off", WEB_CONCURRENCY="2"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", process)  # type: ignore[arg-type]
        yield Served(base, url, server, process, settings)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        server.stop()


def rider_token(base: str) -> str:
    username = f"rider-{uuid.uuid4().hex[:10]}"
    password = "long enough password"
    registration = {
        "city": "new york",
        "first_name": "R",
        "last_name": "T",
        "email": f"{username}@example.com",
        "username": username,
        "password": password,
    }
    httpx.post(f"{base}/api/v1/users", json=registration, timeout=30).raise_for_status()
    token = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": password}, timeout=30
    )
    token.raise_for_status()
    return str(token.json()["token"])


def add_vehicles(served: Served, count: int) -> list[str]:
    database = create_database(served.settings, served.database_url)
    try:
        fleet = run_in_transaction(
            database.sessions,
            lambda s: [make_vehicle(s, make_user(s)).id for _ in range(count)],
        )
    finally:
        database.dispose()
    return [str(v) for v in fleet]


def test_sigterm_lets_an_in_flight_request_finish(served: Served) -> None:
    (vehicle,) = add_vehicles(served, 1)
    token = rider_token(served.url)
    locker = create_engine(served.database_url)
    outcome: dict[str, object] = {}
    with locker.connect() as connection:
        # Hold the vehicle's row lock so that starting a ride waits: a slow request, for real.
        connection.execute(text("SELECT 1 FROM vehicles WHERE id = :v FOR UPDATE"), {"v": vehicle})

        def start() -> None:
            outcome["response"] = httpx.post(
                f"{served.url}/api/v1/rides",
                json={"vehicle_id": vehicle},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )

        request = threading.Thread(target=start)
        request.start()
        time.sleep(1.0)
        served.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        connection.rollback()  # release the lock: the request can complete now
    request.join(timeout=30)
    locker.dispose()
    assert served.process.wait(timeout=30) == 0
    response = outcome["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 201


def test_requests_fail_fast_while_the_database_is_down_and_recover(served: Served) -> None:
    fleet = add_vehicles(served, 4)
    clients = [
        httpx.Client(
            base_url=f"{served.url}/api/v1",
            headers={"Authorization": f"Bearer {rider_token(served.url)}"},
            timeout=20,
        )
        for _ in fleet
    ]
    started: list[str] = []
    outages: list[tuple[int, float]] = []
    stop = threading.Event()

    def ride_loop(client: httpx.Client, vehicle: str) -> None:
        while not stop.is_set():
            begin = time.monotonic()
            response = client.post("/rides", json={"vehicle_id": vehicle})
            if response.status_code == 201:
                ride = response.json()["id"]
                started.append(ride)
                while not stop.is_set():
                    end = client.post(f"/rides/{ride}/end", json={"location": "Dock"})
                    if end.status_code == 200:
                        break
                    outages.append((end.status_code, time.monotonic() - begin))
                    time.sleep(0.1)
            elif response.status_code >= 500:
                outages.append((response.status_code, time.monotonic() - begin))
                time.sleep(0.1)

    workers = [
        threading.Thread(target=ride_loop, args=pair) for pair in zip(clients, fleet, strict=True)
    ]
    for worker in workers:
        worker.start()
    time.sleep(2)
    before_outage = len(started)
    served.server.stop()
    time.sleep(3)
    served.server.start()
    time.sleep(4)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    for client in clients:
        client.close()

    assert before_outage > 0
    assert outages, "the outage should have been visible"
    assert {status for status, _ in outages} == {503}
    assert max(seconds for _, seconds in outages) < 5, "requests must fail fast, not hang"
    assert len(started) > before_outage, "MovR should recover by itself"
    engine = create_engine(served.database_url)
    with engine.connect() as connection:
        stored = {str(r) for r in connection.scalars(text("SELECT id FROM rides"))}
    engine.dispose()
    assert set(started) <= stored, "a ride acknowledged with 201 was lost"
    # Two gunicorn workers served these rides; /metrics must add up both (multiprocess mode).
    scraped = httpx.get(f"{served.url}/metrics", timeout=10).text
    counted = next(
        float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line.startswith("movr_rides_started_total{")
    )
    assert counted >= len(started)  # one worker alone would show about half
    assert 'movr_active_rides{region="gcp-us-east1"}' in scraped  # counted by each worker's thread
