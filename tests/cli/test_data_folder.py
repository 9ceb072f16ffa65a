"""An unusable MOVR_DATA_DIR stops a command with one line naming the variable, no traceback."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port

# Root ignores permission bits: drop to nobody so a read-only folder is read-only for us too.
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def run_movr(data_dir: Path, *args: str, as_nobody: bool = False, **env: str) -> str:
    """Run `movr args…` on `data_dir`, expect the configuration error's exit code, return output."""
    if as_nobody and os.geteuid() == 0:
        assert shutil.which("setpriv"), "setpriv (util-linux) is needed to drop root's privileges"
    prefix = AS_NOBODY if as_nobody and os.geteuid() == 0 else []
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    environment.update(MOVR_DATA_DIR=str(data_dir), PORT=str(free_port()), **env)
    result = subprocess.run(  # noqa: S603 -- our own interpreter and module
        [*prefix, sys.executable, "-m", "movr.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    return output


def assert_one_line_naming_the_variable(output: str, variable: str = "MOVR_DATA_DIR") -> None:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(f"Error: configuration error: {variable}: "), output


@pytest.mark.parametrize("command", [("demo",), ("db", "upgrade"), ("serve",)])
def test_a_file_where_the_data_folder_should_be_is_a_configuration_error(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    in_the_way = tmp_path / "data"
    in_the_way.write_text("not a folder")
    env = (
        {"MOVR_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(32)}
        if command == ("serve",)
        else {}
    )
    output = run_movr(in_the_way, *command, **env)
    assert_one_line_naming_the_variable(output)
    assert str(in_the_way) in output


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A folder that nobody may enter (pytest's tmp_path is private to root)."""
    with tempfile.TemporaryDirectory(prefix="movr-data-folder-") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)
        for path in Path(folder).rglob("*"):
            path.chmod(0o755)  # so the clean-up can empty it


def test_a_read_only_data_folder_is_a_configuration_error(reachable: Path) -> None:
    read_only = reachable / "data"
    read_only.mkdir(mode=0o555)
    read_only.chmod(0o555)
    assert_one_line_naming_the_variable(run_movr(read_only, "demo", as_nobody=True))


def test_a_data_folder_made_read_only_after_a_first_run_is_a_configuration_error(
    reachable: Path,
) -> None:
    """The secret key of a first run is there to read, but nothing can be written anymore."""
    data = reachable / "data"
    data.mkdir()
    (data / "secret_key").write_text("k" * 43)
    (data / "secret_key").chmod(0o644)
    data.chmod(0o555)
    assert_one_line_naming_the_variable(run_movr(data, "demo", as_nobody=True))
