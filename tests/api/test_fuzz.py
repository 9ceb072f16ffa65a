"""Schemathesis against a live MovR: every check, over 1000 generated cases, authenticated."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import free_port, start_demo, wait_for

ROOT = Path(__file__).resolve().parents[2]
MIN_CASES = 1000


@pytest.mark.fuzz
def test_schemathesis_finds_no_failures(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fuzz_env = {
        "MOVR_FUZZ_URL": base,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    server = start_demo(port, tmp_path / "data", MOVR_RATE_LIMITS="off", **fuzz_env)
    try:
        wait_for(f"{base}/healthz", server)
        fuzz = subprocess.run(  # noqa: S603
            [
                str(Path(sys.executable).parent / "st"),
                "--config-file",
                str(ROOT / "tests" / "schemathesis.toml"),
                "run",
                f"{base}/api/v1/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "60",
                "--seed",
                "2026",
                "--no-color",
            ],
            env=dict(os.environ, **fuzz_env),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    report = fuzz.stdout + fuzz.stderr
    generated = re.search(r"(\d+) generated", report)
    print(report[-3000:])  # the summary, kept in the test log
    assert fuzz.returncode == 0, report[-8000:]
    assert generated is not None
    assert int(generated.group(1)) >= MIN_CASES
