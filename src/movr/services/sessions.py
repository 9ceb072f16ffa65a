"""A browser session's account and its ride in progress, read together: the ride bar every
page shows costs no round trip of its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from movr.db.sql import Executor, with_result_columns
from movr.db.units import fresh, read
from movr.services.accounts import ACCOUNT_COLUMNS, ACCOUNT_FIELDS, Account
from movr.services.tokens import LIVE_TOKEN, SESSION, token_hash


@dataclass(frozen=True, slots=True)
class RideInProgress:
    """What the ride bar shows of the active ride."""

    id: uuid.UUID
    city: str
    vehicle_type: str
    vehicle_brand: str
    vehicle_color: str
    start_time: datetime


@dataclass(frozen=True, slots=True)
class SessionAccount:
    """The live account behind a browser session, and its ride in progress if any."""

    account: Account
    ride: RideInProgress | None


RIDE_FIELDS = (
    "ride_id",
    "ride_city",
    "vehicle_type",
    "vehicle_brand",
    "vehicle_color",
    "start_time",
)
# The same token test as tokens.user_for_token (a session's token only), plus three primary-key
# lookups (active_rides has one row per rider at most: its unique key) for the ride.
SESSION_ACCOUNT = with_result_columns(
    text(
        f"SELECT {ACCOUNT_COLUMNS}, rides.id, rides.city, vehicles.type, vehicles.brand, "  # noqa: S608 -- constant SQL
        "vehicles.color, rides.start_time "
        "FROM api_tokens JOIN users ON users.id = api_tokens.user_id "
        "LEFT JOIN active_rides ON active_rides.rider_id = users.id "
        "LEFT JOIN rides ON rides.id = active_rides.ride_id "
        "LEFT JOIN vehicles ON vehicles.id = active_rides.vehicle_id "
        "WHERE api_tokens.token_hash = :token_hash AND api_tokens.kind = :kind "
        f"AND {LIVE_TOKEN} AND users.deleted_at IS NULL"
    ),
    (*ACCOUNT_FIELDS, *RIDE_FIELDS),
)


@read
def session_account(executor: Executor, token: str) -> SessionAccount | None:
    """The live account of a valid session token and its active ride, in one statement."""
    parameters = {"token_hash": token_hash(token), "kind": SESSION}  # never an API token
    row = executor.execute(SESSION_ACCOUNT, parameters).first()
    if row is None:
        return None
    account = Account(*row[: len(ACCOUNT_FIELDS)])
    ride = row[len(ACCOUNT_FIELDS) :]
    return SessionAccount(account, RideInProgress(*ride) if ride[0] is not None else None)


# Requests that write check the session on the primary, as tokens.fresh_user_for_token.
fresh_session_account = fresh(session_account)
