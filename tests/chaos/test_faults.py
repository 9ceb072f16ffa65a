"""`movr chaos FAULT` for real, briefly: a MovR of its own on 127.0.0.1, the fault applied and
removed, and a verdict that says what happened.

Every fault's verdict must PASS: no request past the deadline (the MovR started answers 503
within it), no 5xx but an orderly 503, no orphan, no acknowledged write lost, no invariant
broken, and for a drain no accepted connection reset.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from movr.chaos import processes
from tests.processes import free_port, start_demo, wait_for

FAULTS = ("refuse", "restart", "kill-worker", "freeze", "lock", "drain")
# The fault held longer than the deadline, so that waiting it out is seen as a failure; the
# recovery window longer than a rider's longest back-off (2 s), so that a success is seen.
SCALED = ("--warmup", "2s", "--fault-for", "4s", "--recover", "4s", "--deadline", "3s")


def chaos(fault: str, *options: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(  # noqa: S603 -- our own interpreter and module
        [sys.executable, "-m", "movr.cli", "chaos", fault, *SCALED,
         "--concurrency", "4", "--json", "-", *options],
        env=environment, capture_output=True, text=True, timeout=150, check=False,
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr[-3000:]
    return done, json.loads(done.stdout)


@pytest.mark.parametrize("fault", FAULTS)
def test_chaos_reports_a_verdict_with_every_figure(fault: str) -> None:
    done, report = chaos(fault)

    assert done.returncode == (0 if report["passed"] else 1), done.stderr[-3000:]
    assert report["fault"] == fault
    assert 0 < report["fault_applied_s"] <= report["fault_removed_s"]
    assert report["timeline"], "one row per second"
    assert {"errors_by_kind", "longest_request_s", "recovery_s", "disorderly_5xx"} <= set(report)
    assert report["load"]["requests"] > 0
    assert report["acknowledged_writes"]["rides_started"] > 0
    # What must hold under every fault, today already.
    assert report["orphan_pids"] == []
    assert report["writes_lost"] == 0, report["writes_lost_by_check"]
    assert report["invariant_violations"] == 0, report["invariant_violations_by_check"]
    assert report["recovery_s"] is not None
    assert report["failures"] == [], done.stderr[-3000:]
    assert report["passed"] is True
    assert "verdict: PASS" in done.stderr


def test_sigterm_during_a_freeze_thaws_and_stops_everything() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    lines = []
    with subprocess.Popen(
        [sys.executable, "-m", "movr.cli", "chaos", "freeze", "--warmup", "1s",
         "--fault-for", "60s", "--concurrency", "2"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as drill:  # fmt: skip
        assert drill.stdout is not None
        for line in drill.stdout:
            lines.append(line)
            if "PostgreSQL frozen" in line:
                break
        drill.send_signal(signal.SIGTERM)
        try:
            drill.wait(timeout=60)
        finally:
            drill.kill()
    folder = next(line.rsplit(" in ", 1)[1].strip() for line in lines if "database in" in line)
    assert drill.returncode == 128 + signal.SIGTERM, "".join(lines)
    assert processes.mentioning(folder) == []  # the database was thawed and stopped
    assert not Path(folder).exists()


def test_a_running_demo_is_drilled_through_url_and_data_dir(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "data"
    with (tmp_path / "demo.log").open("w", encoding="utf-8") as log:
        demo = start_demo(port, data, stdout=log, MOVR_RATE_LIMITS="off")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", demo)
        on_demo = ("--url", f"http://127.0.0.1:{port}", "--data-dir", str(data))
        refused, refuse = chaos("refuse", *on_demo)
        # A server that is not ours cannot be signalled: the verdict says so and fails.
        _, kill = chaos("kill-worker", *on_demo)
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)

    assert refuse["passed"] is True, refused.stderr[-3000:]
    assert refuse["orphan_pids"] is None  # not ours to judge
    assert refuse["orphans"] == "not checked"
    assert kill["passed"] is False
    assert any("kill-worker needs the server's pid" in f for f in kill["failures"])
    assert "the fault was not applied" in kill["failures"]
    assert demo.returncode == 0
