"""`movr load` against a real `movr demo`: riders, report, invariant check, exit status 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.processes import free_port, start_demo, wait_for


def test_load_against_demo_passes_and_checks_invariants(tmp_path: Path) -> None:
    port = free_port()
    # A file, not a pipe: request logs under load would fill a pipe nobody reads and stall it.
    demo_log = tmp_path / "demo.log"
    with demo_log.open("w", encoding="utf-8") as log:
        demo = start_demo(port, tmp_path / "data", stdout=log, MOVR_RATE_LIMITS="off")
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/cities", demo)
        report_path = tmp_path / "report.json"
        load = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "movr.cli",
                "load",
                "--url",
                f"http://127.0.0.1:{port}",
                "--duration",
                "10s",
                "--concurrency",
                "4",
                "--max-requests",
                "600",
                "--seed",
                "7",
                "--mix",  # the default's, with more retiring, so that some vehicles go
                "browse=50,ride=30,register=5,history=5,retire=10",
                "--json",
                str(report_path),
            ],
            env=dict(os.environ, MOVR_DATA_DIR=str(tmp_path / "data")),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)

    assert load.returncode == 0, load.stdout + load.stderr
    assert "PASS" in load.stdout
    assert "start_ride" in load.stdout
    assert "end_ride" in load.stdout
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"] is True
    assert report["requests"] <= 600 + 4  # new actions stop at the budget; open rides still end
    assert report["actions"]["start_ride"]["ok"] > 0
    assert report["actions"]["end_ride"]["ok"] == report["actions"]["start_ride"]["ok"]
    assert report["actions"]["retire_vehicle"]["ok"] == report["acknowledged"]["vehicles_retired"]
    assert report["acknowledged"]["vehicles_retired"] > 0
    invariants = {check["name"]: check for check in report["invariants"]}
    expected = {"one_active_ride_per_vehicle", "ride_ended_once", "retired_vehicles_stored"}
    assert expected | {"started_rides_stored"} <= invariants.keys()
    assert all(check["ok"] for check in invariants.values())
    assert demo.returncode == 0, demo_log.read_text(encoding="utf-8")[-3000:]
