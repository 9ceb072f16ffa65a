"""Logout and account deletion while the replica is a second behind.

The client that did it is logged out at once. A copy of its cookie or token is refused for
every write at once (writes check the session on the primary), and for reads once the replica
has caught up.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movr.db.engine import Database
from movr.web.consistency import HEADER
from tests.api.conftest import API
from tests.replica.conftest import Replicated
from tests.replica.test_read_your_writes import bearer, rider_and_vehicle
from tests.web.conftest import csrf_token, log_in

pytestmark = pytest.mark.replica

SESSION_COOKIE = "movr_session"


def copy_of(pages: FlaskClient, app: Flask) -> FlaskClient:
    """Another client holding the same session cookie (a stolen copy)."""
    thief = app.test_client()
    cookie = pages.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    thief.set_cookie(SESSION_COOKIE, cookie.value)
    return thief


def test_logout_ends_the_session_at_once_and_a_copied_cookie_cannot_write(
    replicated: Replicated, replica_db: Database, replica_app: Flask, pages: FlaskClient
) -> None:
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    log_in(pages, rider)
    csrf = csrf_token(pages, "/vehicles")
    thief = copy_of(pages, replica_app)

    assert pages.post("/logout", data={"csrf_token": csrf}).status_code == 303

    assert pages.get("/vehicles").status_code == 302  # to the login page, at once
    write = thief.post(f"/rides/start/{vehicle.id}", data={"csrf_token": csrf})
    assert write.status_code == 401
    add = thief.post("/vehicles/add", data={"csrf_token": csrf, "type": "bike"})
    assert add.status_code == 302  # the session is checked on the primary: log in first
    replicated.caught_up()
    assert thief.get("/vehicles").status_code == 302


def test_a_deleted_account_is_refused_at_once_for_writes_and_for_the_client_that_deleted_it(
    replicated: Replicated, replica_db: Database, replica_app: Flask
) -> None:
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    client = replica_app.test_client()
    auth, _ = bearer(client, rider)
    replicated.caught_up()

    deleted = client.delete(f"{API}/me", headers=auth)
    assert deleted.status_code == 204

    # The client that deleted it sends the header back: its reads wait for the replica.
    assert (
        client.get(f"{API}/me", headers={**auth, HEADER: deleted.headers[HEADER]}).status_code
        == 401
    )
    # A copy of the token, without the header: every write is refused at once.
    start = client.post(f"{API}/rides", json={"vehicle_id": str(vehicle.id)}, headers=auth)
    assert start.status_code == 401
    add = {"type": "bike", "color": "red", "brand": "B", "location": "here"}
    assert client.post(f"{API}/vehicles", json=add, headers=auth).status_code == 401
    replicated.caught_up()
    assert client.get(f"{API}/me", headers=auth).status_code == 401
