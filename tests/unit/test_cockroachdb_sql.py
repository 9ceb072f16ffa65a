"""The SQL MovR sends to CockroachDB, checked as text: CockroachDB cannot run here.

docs/cockroachdb.md records each statement's verdict. These tests pin the fixes it names and
keep the constructs it marks unsafe out of every statement MovR can send: the module-level
statements of every MovR module, and the migrations' CockroachDB DDL.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import is_dataclass

import pytest
from sqlalchemy import make_url
from sqlalchemy.sql import Executable

import movr
from movr.db import migrate
from movr.regions import RegionMap
from movr.services import rides

COCKROACHDB = make_url("cockroachdb+psycopg://").get_dialect()()
# Their env.py runs Alembic at import; their statements are checked as rendered DDL instead.
NOT_IMPORTED = "movr.db.migrations"


def flat(sql: str) -> str:
    """`sql` without its comments, on one line: each run of whitespace one space, none inside
    parentheses' edges (so that a check sees `CAST(extract(` however the SQL was wrapped)."""
    one_line = " ".join(re.sub(r"--[^\n]*", "", sql).split())
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", one_line))


def _statements_in(value: object) -> Iterator[str]:
    """SQL texts held by a module attribute: a statement, a container of them, or a dataclass
    whose `sql` is a text (an invariant check of the load generator). Nothing else is touched:
    a module may hold proxies (Flask's) that fail on any attribute outside a request."""
    if isinstance(value, Executable):
        yield str(value.compile(dialect=COCKROACHDB))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _statements_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _statements_in(item)
    elif is_dataclass(value) and isinstance(sql := getattr(value, "sql", None), str):
        yield sql


def module_statements() -> dict[str, str]:
    """Every module-level statement of MovR, compiled for CockroachDB, by SQL text: where it
    was first found (module.attribute)."""
    found: dict[str, str] = {}
    for module_info in pkgutil.walk_packages(movr.__path__, "movr."):
        if module_info.name.startswith(NOT_IMPORTED):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            for sql in _statements_in(value):
                found.setdefault(flat(sql), f"{module_info.name}.{name}")
    return found


def migration_statements() -> dict[str, str]:
    """Each statement of the migrations' CockroachDB DDL, by text: where it comes from."""
    rendered = migrate.render_sql("cockroachdb", RegionMap.default())
    return {flat(sql): "migrations (cockroachdb)" for sql in rendered.split(";\n") if sql.strip()}


def _extract_calls(sql: str) -> Iterator[tuple[str, str]]:
    """For each `extract(...)` in `sql`: the text before it and the text after its `)`."""
    for match in re.finditer(r"\bextract\s*\(", sql, re.IGNORECASE):
        depth, end = 1, match.end()
        while depth and end < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        yield sql[: match.start()].rstrip(), sql[end:].lstrip()


def uncast_extract_arithmetic(sql: str) -> bool:
    """True if an `extract(...)` is an operand of arithmetic without a CAST around it.

    CockroachDB's extract() returns FLOAT, and it has no DECIMAL-FLOAT operators ("unsupported
    binary operator"); PostgreSQL 14+ returns NUMERIC, so only CockroachDB would refuse.
    """
    operators = ("+", "-", "*", "/")
    for before, after in _extract_calls(sql):
        if before.upper().endswith("CAST("):
            continue
        if before[-1:] in operators or after[:1] in operators:
            return True
    return False


def _matches(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern, re.IGNORECASE)
    return lambda sql: compiled.search(sql) is not None


# What docs/cockroachdb.md marks unsafe on CockroachDB ("Constructs kept out"), and a sample of
# each that the check must catch.
UNSAFE: dict[str, tuple[Callable[[str], bool], str]] = {
    "extract() in arithmetic without a CAST": (
        uncast_extract_arithmetic,
        "SELECT round(:fee + :rate * extract(epoch FROM now() - start_time) / 60, 2)",
    ),
    "FOR UPDATE/SHARE SKIP LOCKED": (
        _matches(r"\bSKIP\s+LOCKED\b"),
        "SELECT id FROM rides FOR UPDATE SKIP LOCKED",
    ),
    "advisory locks": (_matches(r"\bpg_(try_)?advisory"), "SELECT pg_advisory_xact_lock(1)"),
    "LISTEN/NOTIFY": (_matches(r"\b(LISTEN|NOTIFY|pg_notify)\b"), "NOTIFY rides"),
    "sequences": (
        _matches(r"\b(nextval|currval|setval)\s*\(|\bCREATE\s+SEQUENCE\b|\b(BIG|SMALL)?SERIAL\b"),
        "CREATE TABLE t (id SERIAL PRIMARY KEY)",
    ),
}


@pytest.fixture(scope="module")
def statements() -> dict[str, str]:
    """Every SQL text MovR can send to CockroachDB (see the module docstring)."""
    return module_statements() | migration_statements()


def test_every_statement_is_collected(statements: dict[str, str]) -> None:
    origins = set(statements.values())
    for expected in (
        "movr.services.rides.START_RIDE",
        "movr.services.rides.END_RIDE",
        "movr.services.idempotency.REMEMBER_REFUSAL",
        "movr.services.retention.PURGES",
        "movr.services.rate_limits.INCREMENT",
        "movr.loadgen.invariants.CHECKS",
        "migrations (cockroachdb)",
    ):
        assert expected in origins


@pytest.mark.parametrize("construct", UNSAFE)
def test_no_statement_uses_a_construct_unsafe_on_cockroachdb(
    statements: dict[str, str], construct: str
) -> None:
    unsafe, sample = UNSAFE[construct]
    assert unsafe(sample), "the check must catch its own sample"
    offenders = sorted(origin for sql, origin in statements.items() if unsafe(sql))
    assert offenders == []


def test_extract_alone_or_cast_is_safe() -> None:
    assert not uncast_extract_arithmetic("SELECT extract(epoch FROM expires_at) FROM t")
    assert not uncast_extract_arithmetic("SELECT 2 * CAST(extract(epoch FROM x - y) AS NUMERIC)")
    assert uncast_extract_arithmetic("SELECT extract(epoch FROM x) / 60 FROM t")


def test_end_ride_counts_minutes_as_numeric_from_an_end_no_earlier_than_the_start() -> None:
    sql = flat(str(rides.END_RIDE.compile(dialect=COCKROACHDB)))
    assert "SET end_time = greatest(now(), start_time)," in sql
    assert (
        "CAST(extract(epoch FROM greatest(now(), start_time) - start_time) AS NUMERIC) / 60" in sql
    )
