"""A graceful drain of a real `movr serve`: after SIGTERM /readyz answers 503 at once, new
connections are refused (never accepted, then reset), and the request in flight finishes."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import create_engine, text

from tests.cli.serving import add_vehicles, rider_token, serve_movr


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


def test_a_drain_refuses_new_connections_and_finishes_the_request_in_flight(
    tmp_path: Path,
) -> None:
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
