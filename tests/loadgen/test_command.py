"""`movr load` refuses bad options and unreachable databases before sending any load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from movr.cli import main


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(main, ["load", "--help"])
    assert result.exit_code == 0
    for option in ("--url", "--duration", "--concurrency", "--mix", "--max-requests", "--json"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://example.com"], "--allow-remote"),
        (["--url", "http://127.0.0.1:1", "--mix", "fly=1"], "action=weight"),
        (["--url", "http://127.0.0.1:1", "--duration", "soon"], "not a duration"),
        (["--url", "http://127.0.0.1:1", "--concurrency", "0"], "0"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["load", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_no_running_embedded_database_fails_before_any_load(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["load", "--url", "http://127.0.0.1:1", "--duration", "1s"],
        env={"MOVR_DATA_DIR": str(tmp_path), "DATABASE_URL": ""},
    )
    assert result.exit_code == 1
    assert "no embedded PostgreSQL is running" in result.output
    assert "--database-url" in result.output


def test_unreachable_database_url_fails_before_any_load(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody@/movr?host={tmp_path}&connect_timeout=2"
    result = CliRunner().invoke(
        main, ["load", "--url", "http://127.0.0.1:1", "--database-url", url]
    )
    assert result.exit_code == 1
    assert "cannot query the MovR database" in result.output


def test_the_generator_sees_the_server_only_over_http() -> None:
    # A fresh interpreter: this test process has imported the web app through conftest.
    code = (
        "import sys, movr.loadgen.command\n"
        "print(sorted(m for m in sys.modules if m.startswith(('movr.web', 'movr.services'))))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
