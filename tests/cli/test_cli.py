"""The movr command: help everywhere, DDL printing, configuration errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from movr.cli import main


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["demo"],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["db", "seed"],
        ["db", "purge"],
        ["db", "sql"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_db_sql_prints_cockroachdb_ddl() -> None:
    result = CliRunner().invoke(main, ["db", "sql", "--dialect", "cockroachdb"])
    assert result.exit_code == 0, result.output
    assert "LOCALITY REGIONAL BY ROW AS region" in result.output


def test_bad_configuration_fails_with_one_clear_message() -> None:
    result = CliRunner().invoke(main, ["db", "sql"], env={"MOVR_REGION": "mars-north1"})
    assert result.exit_code != 0
    assert "MOVR_REGION" in result.output
    assert "Traceback" not in result.output
