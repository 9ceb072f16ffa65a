"""The invariants of SPEC §4, checked with SQL straight against the database after a run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, create_engine, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from movr.config import ConfigError, Settings
from movr.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from movr.loadgen.ledger import LedgerView

EMBEDDED_DATABASE = "movr"  # the database `movr demo` serves from (movr.db.runtime)
EXAMPLES = 5
# The checks that compare the database with what the server acknowledged (the ledger).
ACKNOWLEDGED_WRITES = frozenset(
    {"started_rides_stored", "ended_rides_stored", "retired_vehicles_stored"}
)


class DatabaseUnavailable(RuntimeError):
    """The database to check cannot be found or reached; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Check:
    """One invariant as a query returning the offending ids (no rows: it holds)."""

    name: str
    description: str
    sql: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """How many rows break an invariant, with a few of them as examples."""

    name: str
    description: str
    violations: int
    examples: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the invariant holds."""
        return self.violations == 0


CHECKS: tuple[Check, ...] = (
    Check(
        "one_active_ride_per_vehicle",
        "a vehicle has at most one active ride",
        "SELECT vehicle_id FROM rides WHERE end_time IS NULL "
        "GROUP BY vehicle_id HAVING count(*) > 1",
    ),
    Check(
        "one_active_ride_per_rider",
        "a rider has at most one active ride",
        "SELECT rider_id FROM rides WHERE end_time IS NULL GROUP BY rider_id HAVING count(*) > 1",
    ),
    Check(
        "in_use_has_active_ride",
        "a vehicle in_use has an active ride",
        "SELECT v.id FROM vehicles v WHERE v.status = 'in_use' AND NOT EXISTS "
        "(SELECT 1 FROM rides r WHERE r.vehicle_id = v.id AND r.end_time IS NULL)",
    ),
    Check(
        "active_ride_vehicle_in_use",
        "a vehicle with an active ride is in_use",
        "SELECT r.id FROM rides r JOIN vehicles v ON v.id = r.vehicle_id "
        "WHERE r.end_time IS NULL AND v.status <> 'in_use'",
    ),
    Check(
        "active_rides_match_rides",
        "a ride is listed in active_rides exactly while it has not ended",
        "SELECT coalesce(r.id, a.ride_id) FROM rides r FULL JOIN active_rides a "
        "ON a.ride_id = r.id WHERE (r.end_time IS NULL) IS DISTINCT FROM (a.ride_id IS NOT NULL)",
    ),
    Check(
        "ride_ends_after_start",
        "end_time >= start_time",
        "SELECT id FROM rides WHERE end_time < start_time",
    ),
    Check(
        "ride_length",
        "length = end_time - start_time (NULL while active)",
        "SELECT id FROM rides WHERE length IS DISTINCT FROM end_time - start_time",
    ),
    Check(
        # The end statement stores its Idempotency-Key in the same statement, so the key's
        # created_at is the end's now(), that is end_time (a start's key has start_time). A
        # second end would leave a second key, or an end_time that is not its key's.
        "ride_ended_once",
        "a ride is ended at most once (by the Idempotency-Keys that ended it)",
        "SELECT r.id FROM rides r JOIN idempotency_keys k ON k.ride_id = r.id "
        "WHERE k.created_at <> r.start_time GROUP BY r.id, r.end_time "
        "HAVING count(*) > 1 OR bool_or(k.created_at IS DISTINCT FROM r.end_time)",
    ),
    Check(
        "deleted_user_not_riding",
        "no deleted user has an active ride",
        "SELECT r.id FROM rides r JOIN users u ON u.id = r.rider_id "
        "WHERE u.deleted_at IS NOT NULL AND r.end_time IS NULL",
    ),
    Check(
        "deleted_user_erased",
        "a deleted account keeps no personal data",
        "SELECT id FROM users WHERE deleted_at IS NOT NULL AND (first_name IS NOT NULL "
        "OR last_name IS NOT NULL OR email IS NOT NULL OR username IS NOT NULL "
        "OR password_hash IS NOT NULL)",
    ),
    Check(
        "usernames_unique",
        "usernames are unique, case-insensitively",
        "SELECT lower(username) FROM users WHERE username IS NOT NULL "
        "GROUP BY lower(username) HAVING count(*) > 1",
    ),
)

_RETIRED = text(
    "SELECT CAST(id AS text), CAST(owner_id AS text) FROM vehicles "
    "WHERE status = 'removed' AND id = ANY(:ids)"
).bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))

_STARTED = text(
    "SELECT CAST(id AS text), CAST(rider_id AS text), end_time IS NOT NULL FROM rides "
    "WHERE id = ANY(:ids)"
).bindparams(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))


def resolve_database_url(database_url: str | None) -> str:
    """The URL to check: the option, else DATABASE_URL, else the running embedded server."""
    if database_url is not None:
        return database_url
    try:
        settings = Settings.from_env(development=True)
    except ConfigError as error:
        raise DatabaseUnavailable(f"configuration error: {error}") from None
    if settings.database_url is not None:
        return settings.database_url
    # Only a server someone else started: starting or stopping it is the demo's business.
    server = EmbeddedPostgres(settings.data_dir)
    try:
        running = server.is_running()
        url = server.url(EMBEDDED_DATABASE) if running else None
    except EmbeddedPostgresError as error:
        raise DatabaseUnavailable(str(error)) from None
    if url is None:
        raise DatabaseUnavailable(
            f"no embedded PostgreSQL is running in {settings.data_dir} (MOVR_DATA_DIR): "
            "run this against the data folder of the `movr demo` under test, "
            "or pass --database-url"
        )
    return url


class InvariantChecker:
    """A connection to the application's database, opened before the run to fail early."""

    def __init__(self, url: str) -> None:
        """Connect once now, so a wrong URL is reported before any load is sent."""
        self._engine: Engine = create_engine(url, poolclass=NullPool)
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1 FROM rides LIMIT 1"))
        except SQLAlchemyError as error:
            self._engine.dispose()
            raise DatabaseUnavailable(f"cannot query the MovR database: {error}") from None

    def check(self, ledger: LedgerView) -> list[CheckResult]:
        """Every invariant in one snapshot, then the rides the generator saw succeed."""
        try:
            with self._engine.connect() as plain:
                # One consistent snapshot, read-only: the checks must not disturb the data.
                connection = plain.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
                results = [_run(connection, check) for check in CHECKS]
                results += _ledger_checks(connection, ledger)
                connection.rollback()
        except SQLAlchemyError as error:
            raise DatabaseUnavailable(f"the invariant check failed to query: {error}") from None
        return results

    def close(self) -> None:
        """Release the connection."""
        self._engine.dispose()


def _run(connection: Connection, check: Check) -> CheckResult:
    rows = connection.execute(text(check.sql)).all()
    return _result(check.name, check.description, [str(row[0]) for row in rows])


def _ledger_checks(connection: Connection, ledger: LedgerView) -> list[CheckResult]:
    ids = sorted(set(ledger.started) | ledger.ended)
    found: dict[str, tuple[str, bool]] = {}
    if ids:
        for ride_id, rider_id, ended in connection.execute(_STARTED, {"ids": ids}):
            found[ride_id] = (rider_id, bool(ended))
    lost = [
        str(ride)
        for ride, rider in ledger.started.items()
        if found.get(str(ride), ("", False))[0] != str(rider)
    ]
    unended = [str(ride) for ride in ledger.ended if not found.get(str(ride), ("", False))[1]]
    removed: dict[str, str] = {}
    if ledger.retired:
        ids = sorted(ledger.retired)
        rows = connection.execute(_RETIRED, {"ids": ids})
        removed = {str(vehicle): str(owner) for vehicle, owner in rows}
    kept = [str(v) for v, owner in ledger.retired.items() if removed.get(str(v)) != str(owner)]
    return [
        _result(
            "started_rides_stored",
            f"every ride started with 201 is stored for its rider ({len(ledger.started)} seen)",
            lost,
        ),
        _result(
            "ended_rides_stored",
            f"every ride ended with 200 has end_time set ({len(ledger.ended)} seen)",
            unended,
        ),
        _result(
            "retired_vehicles_stored",
            f"every vehicle retired with 204 is removed, by its owner ({len(ledger.retired)} seen)",
            kept,
        ),
    ]


def _result(name: str, description: str, offenders: Sequence[str]) -> CheckResult:
    return CheckResult(name, description, len(offenders), tuple(sorted(offenders)[:EXAMPLES]))
