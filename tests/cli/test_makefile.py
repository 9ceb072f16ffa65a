"""The Makefile as a newcomer meets it: missing system packages, `make help`, HOST for the demo."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import ROOT


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 -- make, on our own Makefile
        ["make", "--no-print-directory", "-C", str(ROOT), *arguments],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_system_packages_print_the_one_command_that_installs_them(tmp_path: Path) -> None:
    # A Python whose venv cannot bootstrap pip (Debian without python3-venv).
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\ncase "$*" in *ensurepip*) exit 1;; esac\nexec python3 "$@"\n')
    python.chmod(0o755)
    absent = str(tmp_path / "absent")
    checked = make("check-test", f"PYTHON={python}", f"CHROMIUM={absent}", f"HAPROXY={absent}")
    assert checked.returncode != 0
    assert "sudo apt-get install python3-venv chromium haproxy" in checked.stderr
    installing = make("install", f"PYTHON={python}")
    assert installing.returncode != 0
    assert "sudo apt-get install python3-venv\n" in installing.stderr


def test_a_complete_system_passes_the_checks() -> None:
    assert make("check-test").returncode == 0


def test_the_demo_listens_on_host_and_help_says_what_clean_deletes() -> None:
    assert "movr demo --host 0.0.0.0" in make("-n", "demo", "HOST=0.0.0.0").stdout
    assert "movr demo --host 127.0.0.1" in make("-n", "demo").stdout
    helped = make("help").stdout
    assert "HOST=0.0.0.0" in helped
    assert "the demo database and its secret key" in helped
