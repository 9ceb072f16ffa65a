"""Bounded in time, against a real `movr serve` and a PostgreSQL of its own: a frozen database
gives 503 within the request deadline, the wait for a thread counts toward it, liveness answers
while every thread is busy."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from movr.db.embedded import EmbeddedPostgres
from tests.cli.serving import Served, add_vehicles, rider_token, serve_movr

# A short request deadline keeps the tests short; the server-side timeouts stay below it.
BOUNDED = {
    "WEB_CONCURRENCY": "1",
    "MOVR_REQUEST_TIMEOUT_MS": "3000",
    "MOVR_STATEMENT_TIMEOUT_MS": "2500",
    "MOVR_LOCK_TIMEOUT_MS": "2500",
}
DEADLINE = 3.0
SLACK = 0.5  # the test's own threads and process scheduling on a shared machine


def postgres_processes(server: EmbeddedPostgres) -> list[int]:
    """The postmaster and every process it started."""
    postmaster = int((server.pgdata / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


@contextmanager
def frozen(server: EmbeddedPostgres) -> Iterator[None]:
    """The whole server stopped by SIGSTOP (it still holds its sockets), then SIGCONT."""
    pids = postgres_processes(server)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def timed_all(calls: list[Callable[[], httpx.Response]]) -> list[tuple[float, httpx.Response]]:
    """Run the calls at once, each on its own thread; (seconds, response) of each."""
    results: list[tuple[float, httpx.Response]] = []

    def run(call: Callable[[], httpx.Response]) -> None:
        begin = time.monotonic()
        response = call()
        results.append((time.monotonic() - begin, response))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == len(calls), "a request never came back"
    return results


def api(served: Served, token: str) -> httpx.Client:
    """A client of the JSON API with a rider's bearer token; a fresh connection per request."""
    return httpx.Client(
        base_url=f"{served.url}/api/v1",
        headers={"Authorization": f"Bearer {token}", "Connection": "close"},
        timeout=20,
    )


def assert_unavailable(results: list[tuple[float, httpx.Response]]) -> None:
    """Every answer a 503 problem+json with Retry-After, within the deadline."""
    for seconds, response in results:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["retry-after"] == "1"
        assert seconds < DEADLINE + SLACK, f"answered after {seconds:.2f}s"


def healthz_seconds(served: Served) -> float:
    """How long a fresh connection's /healthz takes to answer 200."""
    begin = time.monotonic()
    response = httpx.get(f"{served.url}/healthz", headers={"Connection": "close"}, timeout=20)
    assert response.status_code == 200
    return time.monotonic() - begin


def test_a_frozen_database_gives_503_within_the_deadline_and_recovers(tmp_path: Path) -> None:
    with serve_movr(tmp_path, **BOUNDED) as served:
        (vehicle,) = add_vehicles(served, 1)
        token = rider_token(served.url)
        with api(served, token) as client:
            assert client.get("/vehicles", params={"city": "new york"}).status_code == 200
            with frozen(served.server):
                results = timed_all(
                    [
                        lambda: client.get("/vehicles", params={"city": "new york"}),
                        lambda: client.get("/rides"),
                        lambda: client.post("/rides", json={"vehicle_id": vehicle}),
                    ]
                )
                # Liveness needs no thread and no database.
                assert healthz_seconds(served) < 0.5
            assert_unavailable(results)
            recovered = None
            begin = time.monotonic()
            while time.monotonic() - begin < 10:
                if client.get("/vehicles", params={"city": "new york"}).status_code == 200:
                    recovered = time.monotonic() - begin
                    break
                time.sleep(0.1)
            assert recovered is not None, "no recovery within 10 s of SIGCONT"
            assert client.post("/rides", json={"vehicle_id": vehicle}).status_code == 201


def test_the_wait_for_a_thread_counts_and_liveness_answers_when_all_are_busy(
    tmp_path: Path,
) -> None:
    with serve_movr(tmp_path, MOVR_THREADS="2", **BOUNDED) as served:
        token = rider_token(served.url)
        locker = create_engine(served.database_url)
        with api(served, token) as client, locker.connect() as connection:
            client.get("/vehicles", params={"city": "new york"}).raise_for_status()
            connection.execute(text("LOCK TABLE vehicles IN ACCESS EXCLUSIVE MODE"))
            results: list[tuple[float, httpx.Response]] = []

            def listing() -> httpx.Response:
                return client.get("/vehicles", params={"city": "new york"})

            listings = threading.Thread(
                target=lambda: results.extend(timed_all([listing] * 4)), daemon=True
            )
            listings.start()
            time.sleep(0.5)  # both threads are waiting on the lock by now, two requests queue
            busy = healthz_seconds(served)
            listings.join(timeout=30)
            connection.rollback()
        locker.dispose()
        assert busy < 0.2, f"/healthz took {busy:.2f}s with every thread busy"
        assert_unavailable(results)
        lines = [json.loads(line) for line in served.log.read_text().splitlines() if "{" in line]
        listed = [line for line in lines if line.get("route") == "/api/v1/vehicles"]
        # Two requests waited for a thread while the first two waited on the lock.
        queued = sorted(line["queue_ms"] for line in listed if line["status"] == 503)
        assert len(queued) == 4
        assert queued[-1] > 1000
        assert all(line["total_ms"] <= DEADLINE * 1000 for line in listed)
