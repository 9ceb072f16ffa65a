"""Session tokens and API tokens are different kinds, each accepted only from its own place;
an account keeps a bounded number of live API tokens."""

from __future__ import annotations

import dataclasses
import time

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.models import User
from movr.services.passwords import PasswordHasher
from movr.web.app import create_app
from movr.web.auth import SEEN_KEY, SESSION_TOKEN_KEY
from tests.api.conftest import API, token_for
from tests.factories import make_user, make_vehicle
from tests.web.conftest import csrf_token, log_in


def session_token(client: FlaskClient) -> str:
    """The token of the client's browser session (what its cookie carries, signed)."""
    with client.session_transaction() as cookie:
        return str(cookie[SESSION_TOKEN_KEY])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_session_token_is_refused_as_a_bearer_token(
    app: Flask, user: User, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    browser, thief = app.test_client(), app.test_client()
    log_in(browser, user)
    stolen = session_token(browser)
    assert thief.get(f"{API}/me", headers=bearer(stolen)).status_code == 401
    start = {"vehicle_id": str(vehicle.id)}
    assert thief.post(f"{API}/rides", json=start, headers=bearer(stolen)).status_code == 401
    assert browser.get(f"{API}/me").status_code == 200  # still good in its own cookie


def test_an_api_token_planted_in_a_session_cookie_is_refused(
    client: FlaskClient, user: User, session: Session
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    token = token_for(client, user)
    with client.session_transaction() as cookie:
        cookie[SESSION_TOKEN_KEY] = token
        cookie[SEEN_KEY] = int(time.time())  # a session in use, not an idle one
    assert client.get("/vehicles").status_code == 302  # sent to log in
    assert client.get(f"{API}/me").status_code == 401
    started = client.post(
        f"{API}/rides",
        json={"vehicle_id": str(vehicle.id)},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert started.status_code == 401
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200


def test_a_new_api_token_beyond_the_cap_revokes_the_oldest(
    settings: Settings, clean_tables: Database, hasher: PasswordHasher
) -> None:
    # Committed: each token's own transaction stamps its own creation time.
    capped = dataclasses.replace(settings, max_api_tokens=3)
    app = create_app(capped, database=clean_tables, hasher=hasher)
    rider: User = run_in_transaction(clean_tables.sessions, make_user)
    with app.test_client() as client:
        issued = [token_for(client, rider) for _ in range(5)]
        statuses = [client.get(f"{API}/me", headers=bearer(t)).status_code for t in issued]
    assert statuses == [401, 401, 200, 200, 200]


def test_browser_sessions_do_not_use_up_the_api_token_cap(
    settings: Settings, db: Database, hasher: PasswordHasher, user: User
) -> None:
    app = create_app(dataclasses.replace(settings, max_api_tokens=1), database=db, hasher=hasher)
    script, browser = app.test_client(), app.test_client()
    token = token_for(script, user)
    log_in(browser, user)
    assert script.get(f"{API}/me", headers=bearer(token)).status_code == 200
    assert browser.get("/vehicles").status_code == 200
