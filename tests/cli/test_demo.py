"""`movr demo` end to end: a real process, a real embedded database, a clean stop."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from movr.db.embedded import EmbeddedPostgres
from tests.processes import free_port, start_demo, wait_for


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
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
    leftover = subprocess.run(  # noqa: S603
        ["/usr/bin/pgrep", "-f", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leftover.stdout == ""


def assert_failed_logins_are_limited_across_workers(port: int) -> None:
    """The demo's default limit (10 failed logins a minute per address) holds whichever of its
    gunicorn workers answers: each attempt comes on a new connection."""
    url = f"http://127.0.0.1:{port}/api/v1/auth/token"
    wrong = {"username": "demo-boston", "password": "not the password"}
    statuses = [httpx.post(url, json=wrong, timeout=10).status_code for _ in range(12)]
    assert statuses == [401] * 10 + [429] * 2
