"""A browser session's account and its ride in progress, read in one statement."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from movr.services import rides, sessions, tokens
from tests.factories import make_user, make_vehicle

HOUR = timedelta(hours=1)


def test_a_session_reads_its_account_and_its_ride_in_progress(session: Session) -> None:
    rider = make_user(session)
    issued = tokens.issue_token(session, rider.id, rider.city, HOUR, tokens.SESSION)
    found = sessions.session_account(session, issued.token)
    assert found is not None
    assert (found.account.id, found.ride) == (rider.id, None)

    vehicle = make_vehicle(session, make_user(session), brand="Lookup", color="plum")
    ride = rides.start_ride(session, rider.id, vehicle.id, ["new york"])
    riding = sessions.session_account(session, issued.token)
    assert riding is not None
    assert riding.ride == sessions.RideInProgress(
        ride.id, "new york", "scooter", "Lookup", "plum", ride.start_time
    )

    rides.end_ride(session, rider.id, ride.id, location="Pier")
    ended = sessions.session_account(session, issued.token)
    assert ended is not None
    assert ended.ride is None


def test_a_dead_session_reads_nothing(session: Session) -> None:
    rider = make_user(session)
    expired = tokens.issue_token(session, rider.id, rider.city, -HOUR, tokens.SESSION)
    revoked = tokens.issue_token(session, rider.id, rider.city, HOUR, tokens.SESSION)
    tokens.revoke_token(session, rider.id, revoked.token)
    for token in (expired.token, revoked.token, "movr_never-issued"):
        assert sessions.session_account(session, token) is None


def test_an_api_token_is_not_a_session(session: Session) -> None:
    rider = make_user(session)
    api = tokens.issue_token(session, rider.id, rider.city, HOUR, tokens.API)
    assert sessions.session_account(session, api.token) is None
