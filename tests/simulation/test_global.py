"""`movr global` end to end: real databases, latency proxies, three apps and HAProxy.

One deployment for the module, at a tenth of the real round trips: routing per client region,
read-your-writes across regions, three regions writing at once, each drill's verdict, and a
clean stop. Needs HAProxy (Debian's package; `.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from movr.web.consistency import HEADER
from movr.web.security import REGION_HEADER
from tests.conftest import TEST_DATA_DIR
from tests.processes import free_port

pytestmark = pytest.mark.simulation

EAST, WEST, EUROPE = "gcp-us-east1", "gcp-us-west1", "gcp-europe-west1"
SCALE = 0.1
API = "/api/v1"


@pytest.fixture(scope="module")
def folder() -> Path:
    """The data folder (not pytest's temporary one: the servers run as another user)."""
    path = TEST_DATA_DIR / "global-e2e"
    shutil.rmtree(path, ignore_errors=True)
    return path


@pytest.fixture(scope="module")
def running(folder: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """`movr global` running; its endpoints.json."""
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.fail("HAProxy is missing: apt-get install haproxy (as .ci/run does)")
    base = _free_base_port()
    # A file, not a pipe nobody reads: a full pipe would stall the processes that write to it.
    log = folder.parent / "global-e2e.log"
    output = log.open("w")
    env = dict(os.environ, MOVR_DATA_DIR=str(folder), MOVR_RATE_LIMITS="off")
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [
            sys.executable, "-m", "movr.cli", "global", "--base-port", str(base),
            "--latency-scale", str(SCALE),
        ],
        env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    written = folder / "global" / "endpoints.json"
    deadline = time.monotonic() + 240
    while not written.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"movr global did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)
    time.sleep(0.5)  # the file is written before the banner
    yield process, json.loads(written.read_text())
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    output.close()


def _free_base_port() -> int:
    """A base port whose block of 62 ports is free now."""
    for _ in range(50):
        base = free_port()
        if base + 62 < 65000 and all(_free(base + offset) for offset in range(62)):
            return base
    raise AssertionError("no free block of ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_each_client_region_is_served_by_its_own_region(running: Any) -> None:
    _, endpoints = running
    for region, entry in endpoints["entries"].items():
        answer = httpx.get(f"{entry}{API}/cities", timeout=10)
        assert answer.status_code == 200
        assert answer.headers[REGION_HEADER] == region
    matrix = endpoints["round_trips_ms"]
    assert abs(matrix[WEST][EUROPE] - 146 * SCALE) < 5
    assert matrix[EAST][EAST] == 0


def test_a_rider_reads_their_own_ride_at_once_in_a_region_far_from_the_primary(
    running: Any,
) -> None:
    _, endpoints = running
    entry = endpoints["entries"][EUROPE]
    with httpx.Client(base_url=entry, timeout=10) as client:
        issued = client.post(
            f"{API}/auth/token", json={"username": "demo-paris", "password": "movr-demo-2026"}
        )
        assert issued.status_code == 201
        auth = {"Authorization": f"Bearer {issued.json()['token']}", HEADER: issued.headers[HEADER]}
        vehicles = client.get(f"{API}/vehicles", params={"city": "paris"}, headers=auth).json()
        vehicle = next(v for v in vehicles["items"] if v["status"] == "available")
        started = client.post(f"{API}/rides", json={"vehicle_id": vehicle["id"]}, headers=auth)
        assert started.status_code == 201, started.text
        auth[HEADER] = started.headers[HEADER]
        assert client.get(f"{API}/rides/{started.json()['id']}", headers=auth).status_code == 200
        listed = client.get(f"{API}/vehicles", params={"city": "paris"}, headers=auth).json()
        assert {v["id"]: v["status"] for v in listed["items"]}[vehicle["id"]] == "in_use"
        ended = client.post(
            f"{API}/rides/{started.json()['id']}/end", json={"location": "Louvre"}, headers=auth
        )
        assert ended.status_code == 200


def test_three_regions_riding_at_once_keep_every_invariant(
    running: Any, folder: Path, tmp_path: Path
) -> None:
    report = tmp_path / "load.json"
    load = subprocess.run(  # noqa: S603 -- our own interpreter and module
        [
            sys.executable, "-m", "movr.cli", "load", "--client-regions", "all",
            "--endpoints", str(folder / "global" / "endpoints.json"), "--duration", "6",
            "--concurrency", "6", "--json", str(report),
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert load.returncode == 0, load.stdout[-4000:] + load.stderr[-2000:]
    assert "Per client region" in load.stdout
    regions = json.loads(report.read_text())["regions"]
    assert set(regions) == {EAST, WEST, EUROPE}
    assert all(region["requests"] > 0 for region in regions.values())
    # The primary's region never crosses; the others cross for their writes, not their reads
    # (their own standby serves those).
    assert regions[EAST]["round_trips_to_primary_per_request"] == 0
    for far in (WEST, EUROPE):
        assert 0 < regions[far]["round_trips_to_primary_per_request"] < 2


@pytest.mark.parametrize("drill", ["region-down", "replica-down", "partition", "primary-down"])
def test_drills_pass(running: Any, folder: Path, drill: str) -> None:
    env = dict(os.environ, MOVR_DATA_DIR=str(folder))
    result = subprocess.run(  # noqa: S603 -- our own interpreter and module
        [sys.executable, "-m", "movr.cli", "global", "drill", drill],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: PASS" in result.stdout


def test_sigterm_stops_everything(running: Any, folder: Path) -> None:
    process, endpoints = running
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    output = (folder.parent / "global-e2e.log").read_text()
    assert process.returncode == 0, output[-3000:]
    assert "MovR global stopped" in output
    leftover = subprocess.run(  # noqa: S603
        ["/usr/bin/pgrep", "-f", str(folder)], capture_output=True, text=True, check=False
    )
    assert leftover.stdout == ""
    for url in [*endpoints["entries"].values(), *endpoints["apps"].values()]:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/healthz", timeout=2)
