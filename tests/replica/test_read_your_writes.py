"""Read-your-writes on a replica that is a second behind: pages and API."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movr.db.engine import Database
from movr.db.roundtrips import StatementCounter
from movr.db.transaction import run_in_transaction
from movr.models import User, Vehicle
from movr.web.consistency import HEADER
from tests.api.conftest import API
from tests.factories import PASSWORD, make_user, make_vehicle
from tests.replica.conftest import Replicated, reads_served
from tests.web.conftest import csrf_token, log_in

pytestmark = pytest.mark.replica

RIDING_NOW = "Riding now:"


def rider_and_vehicle(database: Database, replicated: Replicated) -> tuple[User, Vehicle]:
    """A rider and an available vehicle in New York, committed and replicated."""

    def create(session: object) -> tuple[User, Vehicle]:
        rider = make_user(session, city="new york")  # type: ignore[arg-type]
        owner = make_user(session, city="new york")  # type: ignore[arg-type]
        return rider, make_vehicle(session, owner)  # type: ignore[arg-type]

    made = run_in_transaction(database.sessions, create)
    replicated.caught_up()
    return made


def bearer(client: FlaskClient, rider: User) -> tuple[dict[str, str], str]:
    """Headers with a fresh bearer token of `rider`, and the token's MovR-Read-After."""
    issued = client.post(
        f"{API}/auth/token", json={"username": rider.username, "password": PASSWORD}
    )
    assert issued.status_code == 201, issued.get_data(as_text=True)
    return {"Authorization": f"Bearer {issued.json['token']}"}, issued.headers[HEADER]  # type: ignore[index]


def start_from_the_page(pages: FlaskClient, vehicle: Vehicle) -> None:
    token = csrf_token(pages, "/vehicles")
    started = pages.post(f"/rides/start/{vehicle.id}", data={"csrf_token": token})
    assert started.status_code == 303, started.get_data(as_text=True)


def test_a_ride_started_on_a_page_shows_at_once_on_pages_read_from_the_replica(
    replicated: Replicated, replica_db: Database, pages: FlaskClient
) -> None:
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    log_in(pages, rider)  # a write too: its session must be found on the replica
    start_from_the_page(pages, vehicle)
    served_before = reads_served("replica")

    rides_page = pages.get("/rides").get_data(as_text=True)
    vehicles_page = pages.get("/vehicles").get_data(as_text=True)

    assert RIDING_NOW in rides_page
    assert "in use" in vehicles_page
    assert reads_served("replica") >= served_before + 2  # the replica served them, not the primary


def test_without_read_your_writes_the_same_pages_show_the_past(
    replicated: Replicated, replica_db: Database, pages: FlaskClient
) -> None:
    """The test above can fail: with the mechanism off, the lagging replica is read as is."""
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    log_in(pages, rider)
    pages.get("/vehicles")  # the login has reached the replica
    replica_db.reads.read_your_writes = False
    start_from_the_page(pages, vehicle)

    rides_page = pages.get("/rides").get_data(as_text=True)

    assert RIDING_NOW not in rides_page


def test_api_clients_that_send_the_header_back_read_their_writes(
    replicated: Replicated, replica_db: Database, replica_app: Flask
) -> None:
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    client = replica_app.test_client()
    auth, read_after = bearer(client, rider)
    after_token = {**auth, HEADER: read_after}

    started = client.post(f"{API}/rides", json={"vehicle_id": str(vehicle.id)}, headers=after_token)
    assert started.status_code == 201, started.get_data(as_text=True)
    ride_id = started.json["id"]  # type: ignore[index]
    after_start = {**auth, HEADER: started.headers[HEADER]}

    assert client.get(f"{API}/rides/{ride_id}", headers=after_start).status_code == 200
    listed = client.get(f"{API}/vehicles", headers=after_start).json
    statuses = {item["id"]: item["status"] for item in listed["items"]}  # type: ignore[index]
    assert statuses[str(vehicle.id)] == "in_use"


def test_an_api_client_that_drops_the_header_may_read_the_past(
    replicated: Replicated, replica_db: Database, replica_app: Flask
) -> None:
    """What the header is for: without it, the ride just started is not on the replica yet."""
    rider, vehicle = rider_and_vehicle(replica_db, replicated)
    client = replica_app.test_client()
    auth, _ = bearer(client, rider)
    replicated.caught_up()
    started = client.post(f"{API}/rides", json={"vehicle_id": str(vehicle.id)}, headers=auth)
    assert started.status_code == 201

    stale = client.get(f"{API}/rides/{started.json['id']}", headers=auth)  # type: ignore[index]

    assert stale.status_code == 404


def test_a_read_after_header_that_cannot_be_read_is_ignored(
    replicated: Replicated, replica_db: Database, replica_app: Flask
) -> None:
    """A hint for consistency, never a reason to refuse a request."""
    rider, _ = rider_and_vehicle(replica_db, replicated)
    client = replica_app.test_client()
    auth, _ = bearer(client, rider)
    replicated.caught_up()
    for value in ("soon", "1.2.3", "9" * 60 + ".1"):
        assert client.get(f"{API}/me", headers={**auth, HEADER: value}).status_code == 200


def test_an_account_registered_a_moment_ago_can_log_in_before_the_replica_has_it(
    replicated: Replicated, replica_db: Database, replica_app: Flask
) -> None:
    """The login reads the replica, and asks the primary for a username the replica lacks."""
    rider_and_vehicle(replica_db, replicated)  # the replica has replayed a commit: it is read
    client = replica_app.test_client()
    registration = {
        "city": "new york", "first_name": "New", "last_name": "Comer",
        "email": "newcomer@example.com", "username": "newcomer", "password": PASSWORD,
    }  # fmt: skip
    assert client.post(f"{API}/users", json=registration).status_code == 201

    issued = client.post(f"{API}/auth/token", json={"username": "newcomer", "password": PASSWORD})

    assert issued.status_code == 201, issued.get_data(as_text=True)


NEW_VEHICLE = {"type": "bike", "color": "teal", "location": "Pier 9"}


def test_a_vehicle_added_through_the_api_is_listed_at_once_from_the_replica(
    replicated: Replicated, replica_db: Database, pages: FlaskClient
) -> None:
    """An API client that sends MovR-Read-After back sees its new vehicle on the standby."""
    auth, read_after = bearer(pages, rider_and_vehicle(replica_db, replicated)[0])
    primary = StatementCounter(replica_db.pooled)

    with primary.counting() as sent:
        added = pages.post(
            f"{API}/vehicles",
            json=NEW_VEHICLE | {"brand": "Replica Bikes"},
            headers={**auth, HEADER: read_after},
        )
    assert added.status_code == 201, added.get_data(as_text=True)
    # The token's check, then the one insert that returns its transaction id: no BEGIN,
    # COMMIT or SELECT txid_current().
    assert len(sent) == 2, sent
    served_before = reads_served("replica")

    after_add = {**auth, HEADER: added.headers[HEADER]}
    listed = pages.get(f"{API}/vehicles", headers=after_add).json
    assert added.json["id"] in {item["id"] for item in listed["items"]}  # type: ignore[index]
    assert reads_served("replica") >= served_before + 1


def test_a_vehicle_added_on_the_page_is_listed_at_once_from_the_replica(
    replicated: Replicated, replica_db: Database, pages: FlaskClient
) -> None:
    rider, _ = rider_and_vehicle(replica_db, replicated)
    log_in(pages, rider)
    form = NEW_VEHICLE | {"brand": "Standby Scooters", "csrf_token": csrf_token(pages, "/vehicles")}
    primary = StatementCounter(replica_db.pooled)

    with primary.counting() as sent:
        added = pages.post("/vehicles/add", data=form)
    assert added.status_code == 303, added.get_data(as_text=True)
    assert len(sent) == 2, sent  # the session's check, then the one insert
    served_before = reads_served("replica")

    assert "Standby Scooters" in pages.get("/vehicles").get_data(as_text=True)
    assert reads_served("replica") >= served_before + 1
