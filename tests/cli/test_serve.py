"""`movr serve` as a real gunicorn process: a graceful drain on SIGTERM, and surviving a database
restart."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.cli.serving import Served, add_vehicles, rider_token, serve_movr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """An embedded PostgreSQL of its own (so the test may stop it) and `movr serve` on it."""
    with serve_movr(tmp_path) as running:
        yield running


def connect_outcome(host: str, port: int) -> str:
    """What a new connection meets: "refused", "answered", or "reset" (accepted, then cut)."""
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except ConnectionRefusedError:
        return "refused"
    with sock:
        try:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: movr\r\nConnection: close\r\n\r\n")
            answer = sock.recv(64)
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            return "reset"
    return "answered" if answer.startswith(b"HTTP/1.1 ") else "reset"


def test_sigterm_drains_refusing_new_connections_and_finishing_the_request_in_flight(
    tmp_path: Path,
) -> None:
    # After SIGTERM /readyz answers 503 at once, new connections are refused (never accepted,
    # then reset), and the request in flight finishes.
    with serve_movr(tmp_path) as served:
        (vehicle,) = add_vehicles(served, 1)
        token = rider_token(served.url)
        address = urlsplit(served.url)
        host, port = str(address.hostname), int(address.port or 0)
        kept = httpx.Client(base_url=served.url, timeout=10)
        assert kept.get("/readyz").status_code == 200  # this connection stays open
        outcome: dict[str, httpx.Response] = {}
        locker = create_engine(served.database_url)
        with locker.connect() as connection:
            # The vehicle's row lock makes starting a ride wait: a request in flight, for real.
            connection.execute(
                text("SELECT 1 FROM vehicles WHERE id = :v FOR UPDATE"), {"v": vehicle}
            )

            def start() -> None:
                outcome["ride"] = httpx.post(
                    f"{served.url}/api/v1/rides",
                    json={"vehicle_id": vehicle},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )

            in_flight = threading.Thread(target=start)
            in_flight.start()
            time.sleep(0.5)
            served.process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            readiness = kept.get("/readyz")
            outcomes = []
            for _ in range(20):
                outcomes.append(connect_outcome(host, port))
                time.sleep(0.02)
            connection.rollback()  # the ride can start now
        in_flight.join(timeout=30)
        locker.dispose()
        kept.close()
        assert served.process.wait(timeout=30) == 0
    assert set(outcomes) == {"refused"}, outcomes
    assert readiness.status_code == 503
    assert readiness.json()["reason"] == "draining"
    assert outcome["ride"].status_code == 201


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
