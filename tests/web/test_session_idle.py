"""Browser sessions end after MOVR_SESSION_IDLE_MINUTES unused, within their absolute 12 h,
and are renewed by use without a database write."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.engine import Database
from movr.models import ApiToken, User
from movr.services.passwords import PasswordHasher
from movr.web import auth
from movr.web.app import create_app
from tests.factories import make_user, make_vehicle
from tests.web.conftest import log_in, post

MINUTE = 60.0
START = 1_800_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def after(self, minutes: float) -> None:
        self.now += minutes * MINUTE


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(auth, "clock", fake)
    return fake


@pytest.fixture
def idle_app(settings: Settings, db: Database, hasher: PasswordHasher) -> Flask:
    """Sessions idle out after 10 minutes."""
    ten_minutes = dataclasses.replace(settings, session_idle=timedelta(minutes=10))
    return create_app(ten_minutes, database=db, hasher=hasher)


def session_cookie_sent(response: object) -> bool:
    headers = response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    return any(header.startswith("movr_session=") for header in headers)


def test_a_session_unused_for_the_idle_timeout_ends(
    idle_app: Flask, user: User, clock: Clock
) -> None:
    client = idle_app.test_client()
    log_in(client, user)
    clock.after(9)
    assert client.get("/vehicles").status_code == 200
    clock.after(9)  # 18 minutes since login, 9 since last seen
    assert client.get("/vehicles").status_code == 200
    clock.after(11)
    assert client.get("/vehicles").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_an_idle_session_cannot_start_a_ride(
    idle_app: Flask, user: User, clock: Clock, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    client = idle_app.test_client()
    log_in(client, user)
    clock.after(11)
    # A ride action checks the session's token inside its own statement: the session is
    # gone before, so the visitor is sent to log in and nothing changes.
    assert post(client, f"/rides/start/{vehicle.id}").status_code == 302
    session.refresh(vehicle)
    assert vehicle.status == "available"


def test_an_idle_session_cannot_retire_a_vehicle_or_delete_the_account(
    idle_app: Flask, user: User, clock: Clock, session: Session
) -> None:
    vehicle = make_vehicle(session, user)
    client = idle_app.test_client()
    log_in(client, user)
    clock.after(11)
    # Checked in their own statement, as a ride action: the session is gone before.
    assert post(client, f"/vehicles/remove/{vehicle.id}").status_code == 302
    assert post(client, f"/users/remove/{user.id}").status_code == 302
    session.refresh(vehicle)
    session.refresh(user)
    assert (vehicle.status, user.deleted_at) == ("available", None)


def test_use_renews_the_cookie_at_most_once_a_minute_and_never_the_token(
    idle_app: Flask, user: User, clock: Clock, session: Session
) -> None:
    client = idle_app.test_client()
    log_in(client, user)
    expiry = select(ApiToken.expires_at).where(ApiToken.user_id == user.id)
    issued_until = session.scalars(expiry).one()
    client.get("/vehicles")  # shows (and so removes) the welcome message
    clock.after(0.5)
    assert not session_cookie_sent(client.get("/vehicles"))  # seen less than a minute ago
    clock.after(1)
    assert session_cookie_sent(client.get("/vehicles"))  # renewed: in the cookie alone
    session.expire_all()
    assert session.scalars(expiry).one() == issued_until  # the 12 h limit stays absolute


def test_a_cookie_without_a_last_seen_time_is_not_a_session(
    idle_app: Flask, user: User, clock: Clock
) -> None:
    client: FlaskClient = idle_app.test_client()
    log_in(client, user)
    with client.session_transaction() as cookie:
        del cookie[auth.SEEN_KEY]
    assert client.get("/vehicles").status_code == 302
