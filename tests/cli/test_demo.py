"""`movr demo` end to end: a real process, a real embedded database, a clean stop."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from movr.db.embedded import EmbeddedPostgres
from movr.web.consistency import HEADER
from tests.processes import free_port, start_demo, wait_for


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_demo_serves_seeded_data_and_stops_cleanly(tmp_path: Path, stop_signal: int) -> None:
    port = free_port()
    process = start_demo(port, tmp_path / "data", stdout=subprocess.PIPE)
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert health.status_code == 200
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            login = client.get("/login")
            assert "Served from gcp-us-east1" in login.text
        if stop_signal == signal.SIGTERM:
            assert_failed_logins_are_limited_across_workers(port)
    finally:
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"http://localhost:{port}/" in output
    assert "demo-new-york" in output
    assert "movr-demo-2026" in output
    assert not EmbeddedPostgres(tmp_path / "data").is_running()
    assert_nothing_left_running(tmp_path)


def assert_nothing_left_running(folder: Path) -> None:
    """No process of the demo's (server, workers, databases) runs from `folder` anymore."""
    leftover = subprocess.run(  # noqa: S603
        ["/usr/bin/pgrep", "-f", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leftover.stdout == ""


def test_demo_with_a_replica_reads_there_and_stops_both_databases(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "data"
    process = start_demo(port, data, stdout=subprocess.PIPE, options=("--replica",))
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            ready = client.get("/readyz").json()
            assert ready["replica"]["kind"] == "replica"
            assert ready["replica"]["state"] in ("ok", "lagging")
            login = {"username": "demo-new-york", "password": "movr-demo-2026"}
            issued = client.post("/api/v1/auth/token", json=login)
            auth = {"Authorization": f"Bearer {issued.json()['token']}"}
            auth[HEADER] = issued.headers[HEADER]
            vehicles = client.get("/api/v1/vehicles", headers=auth).json()["items"]
            vehicle = next(v for v in vehicles if v["status"] == "available")
            started = client.post("/api/v1/rides", json={"vehicle_id": vehicle["id"]}, headers=auth)
            assert started.status_code == 201
            auth[HEADER] = started.headers[HEADER]
            assert (
                client.get(f"/api/v1/rides/{started.json()['id']}", headers=auth).status_code == 200
            )
            metrics = client.get("/metrics").text
            assert 'movr_reads_total{region="gcp-us-east1",served_by="replica"}' in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "streaming hot standby" in output
    assert "(and its standby)" in output
    assert not EmbeddedPostgres(data).is_running()
    assert not EmbeddedPostgres(data / "replica").is_running()
    assert_nothing_left_running(tmp_path)


def assert_failed_logins_are_limited_across_workers(port: int) -> None:
    """The demo's default limit (10 failed logins a minute per address) holds whichever of its
    gunicorn workers answers: each attempt comes on a new connection."""
    url = f"http://127.0.0.1:{port}/api/v1/auth/token"
    wrong = {"username": "demo-boston", "password": "not the password"}
    statuses = [httpx.post(url, json=wrong, timeout=10).status_code for _ in range(12)]
    assert statuses == [401] * 10 + [429] * 2
