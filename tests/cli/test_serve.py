"""`movr serve` as a real gunicorn process: graceful SIGTERM, and surviving a database restart."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.cli.serving import Served, add_vehicles, rider_token, serve_movr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """An embedded PostgreSQL of its own (so the test may stop it) and `movr serve` on it."""
    with serve_movr(tmp_path) as running:
        yield running


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
